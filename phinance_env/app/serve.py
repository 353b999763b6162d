"""Serve the app standalone with MCP mounted at /mcp (any MCP client, no AWM needed)."""

from __future__ import annotations

from fastapi import FastAPI


def mount_mcp(app: FastAPI, mcp=None) -> FastAPI:
    """Mount fastapi-mcp's streamable HTTP transport at /mcp, as AWM does (``mcp``: an
    existing ``FastApiMCP`` of this app, e.g. one that forwards extra headers)."""
    from fastapi_mcp import FastApiMCP

    mcp = mcp or FastApiMCP(app)
    mcp.mount_http()

    @app.on_event("startup")
    async def _start_mcp_sessions() -> None:
        # fastapi-mcp starts its session manager lazily on the first request and waits a
        # fixed 0.1 s; many clients arriving at once can beat it and get a 500. Start it here.
        transport = getattr(mcp, "_http_transport", None)
        start = getattr(transport, "_ensure_session_manager_started", None)
        if start is not None:
            await start()

    return app


def serve(db_path: str, scenario: str, host: str = "127.0.0.1", port: int = 8001,
          bar_store_path: str | None = None) -> None:
    import uvicorn

    from phinance_env.app.factory import create_app
    from phinance_env.state import state_engine

    app = mount_mcp(create_app(state_engine(db_path), scenario, bar_store_path))
    uvicorn.run(app, host=host, port=port, log_level="warning")
