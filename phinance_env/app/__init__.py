"""The FastAPI app: routes are the MCP tools (operation_id = tool name)."""

from phinance_env.app.factory import create_app
from phinance_env.app.serve import mount_mcp

__all__ = ["create_app", "mount_mcp"]
