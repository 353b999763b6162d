"""``create_app(engine, scenario)``: the FastAPI app whose routes are one desk's MCP tools.

It does not mount MCP: AWM mounts it on the app it serves (``phinance-env serve`` does the
same through :func:`phinance_env.app.serve.mount_mcp`). Reset, grading and admin are never
routes here, because every route becomes a tool the agent can call.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from phinance_env.app.context import AppContext
from phinance_env.app.schema_checks import cache_mcp_input_validation
from phinance_env.app.wire import refusal
from phinance_env.desks import Desk, get_desk


def create_app(engine: Engine, scenario: str | Desk, bar_store_path: str | Path | None = None) -> FastAPI:
    """The app serving ``scenario``'s tools only, on the state DB behind ``engine`` and the
    bar store (default: settings)."""
    desk = get_desk(scenario)
    cache_mcp_input_validation()  # whoever mounts MCP on this app (AWM does) gets fast calls
    app = FastAPI(title=f"phinance-env {desk.name}", version="0.1.0", description=desk_description(desk))
    app.state.ctx = AppContext(engine, bar_store_path)
    app.state.desk = desk
    for router in desk.routers:
        app.include_router(router)
    operations = {route.endpoint: route.operation_id for route in app.routes if hasattr(route, "operation_id")}

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = "; ".join(_describe(e) for e in exc.errors()[:5])
        tool = operations.get(request.scope.get("endpoint"), request.url.path)
        args = exc.body if isinstance(exc.body, dict) else dict(request.query_params)
        request.app.state.ctx.log_failure(tool, args, 422, message)
        return JSONResponse({"detail": refusal(message)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _refused(request: Request, exc: HTTPException):
        # A tool's 4xx is the caller's bad argument and says so in words (see wire.refusal);
        # 5xx and paths that are no tool (404 of an unknown route) answer as FastAPI does.
        if 400 <= exc.status_code < 500 and isinstance(exc.detail, str) \
                and request.scope.get("endpoint") in operations:
            return JSONResponse({"detail": refusal(exc.detail)}, status_code=exc.status_code, headers=exc.headers)
        return await http_exception_handler(request, exc)

    return app


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
    value = error.get("input")
    shown = repr(value)[:60] + ("..." if len(repr(value)) > 60 else "")
    msg = error.get("msg", "invalid").removeprefix("Value error, ")
    if error.get("type") == "missing":
        return f"{where or 'body'}: required"
    if "(got " in msg:  # the check already says what it got (a length): no 60-character echo
        return f"{where or 'body'}: {msg}"
    return f"{where or 'body'}: {msg} (got {shown})"


def desk_description(desk: Desk) -> str:
    """The scenario's own description (its TOML), one paragraph."""
    import tomllib

    return " ".join(tomllib.loads(desk.scenario_file.read_text())["description"].split())
