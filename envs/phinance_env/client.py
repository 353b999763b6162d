"""The typed client (OpenEnv's MCPToolClient keeping our task and verdict fields)."""

from phinance_env.openenv.client import PhinanceEnvClient

__all__ = ["PhinanceEnvClient"]
