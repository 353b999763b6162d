"""Serve the app standalone with MCP mounted at /mcp (any MCP client, no AWM needed)."""

from __future__ import annotations

from fastapi import FastAPI


def mount_mcp(app: FastAPI) -> FastAPI:
    """Mount fastapi-mcp's streamable HTTP transport at /mcp, as AWM does."""
    from fastapi_mcp import FastApiMCP

    FastApiMCP(app).mount_http()
    return app


def serve(db_path: str, host: str = "127.0.0.1", port: int = 8001, bar_store_path: str | None = None) -> None:
    import uvicorn

    from phinance_env.app.factory import create_app
    from phinance_env.state import state_engine

    app = mount_mcp(create_app(state_engine(db_path), bar_store_path))
    uvicorn.run(app, host=host, port=port, log_level="warning")
