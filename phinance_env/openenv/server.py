"""The OpenEnv server: openenv-core's own app (``create_app``: ``/ws`` sessions, ``/reset``,
``/step``, ``/state``, ``/schema``, ``/metadata``, ``/health``, ``/mcp``) over
:class:`PhinanceEnvironment`, with our limits.

Sessions: openenv-core holds one environment per WebSocket, refuses more than
``max_sessions`` (``CAPACITY_REACHED``), closes a session when its socket closes, and its
reaper closes one left idle for ``idle_timeout`` seconds; closing releases the episode and
its files. The work directory is the server's and goes at shutdown.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

from phinance_env.errors import PhinanceError
from phinance_env.openenv.config import ServerConfig


def build_app(config: ServerConfig | None = None):
    """The ASGI app. Loads the default scenario's data and tool host now, so a bad
    ``--scenario``/``--data-dir`` fails at start and the first reset does not wait."""
    from openenv.core.env_server.http_server import create_app
    from openenv.core.env_server.mcp_types import CallToolAction
    from openenv.core.env_server.types import ConcurrencyConfig

    from phinance_env.openenv.environment import PhinanceEnvironment, scenario
    from phinance_env.openenv.models import PhinanceObservation

    config = config or ServerConfig()
    scenario(config.scenario, str(config.data_dir) if config.data_dir else None)
    for folder in (config.work_dir, config.keep_runs):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="phinance-openenv-", dir=config.work_dir))
    session_config = config.model_copy(update={"work_dir": work_dir})
    # CallToolAction as the action class: openenv-core then routes both list_tools and call_tool.
    app = create_app(functools.partial(PhinanceEnvironment, session_config), CallToolAction, PhinanceObservation,
                     env_name="phinance_env", concurrency_config=ConcurrencyConfig(
                         max_concurrent_envs=config.max_sessions, session_timeout=config.idle_timeout))
    app.add_exception_handler(PhinanceError, _usage_error)
    app.add_middleware(_QuietSocketClose)
    app.router.on_shutdown.append(functools.partial(shutil.rmtree, work_dir, ignore_errors=True))
    app.state.work_dir = work_dir
    return app


async def _usage_error(request, exc: PhinanceError):
    """Misuse over plain HTTP (/reset, /step) answers its status and message, not a bare 500;
    over the WebSocket openenv-core sends the message in an error frame."""
    from starlette.responses import JSONResponse

    return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)


class _QuietSocketClose:
    """openenv-core 0.3.0's WebSocket handler closes the socket after the client already has
    (its ``close`` message), and only catches RuntimeError: uvicorn would log a traceback at
    every client's close. The session is already released by then (its ``finally`` runs
    first), so that one late disconnect is dropped here; everything else passes."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        from starlette.websockets import WebSocketDisconnect

        try:
            await self.app(scope, receive, send)
        except WebSocketDisconnect:
            if scope["type"] != "websocket":
                raise


def serve(config: ServerConfig, port: int = 8000, host: str = "127.0.0.1") -> None:
    import uvicorn

    uvicorn.run(build_app(config), host=host, port=port, log_level="warning")
