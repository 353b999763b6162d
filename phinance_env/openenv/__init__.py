"""A native OpenEnv environment (``openenv-core``, the ``openenv`` extra) over the episode
engine: ``phinance-env openenv serve``. Importing it imports openenv-core (seconds)."""

from phinance_env.openenv.client import PhinanceEnvClient
from phinance_env.openenv.config import ServerConfig
from phinance_env.openenv.environment import PhinanceEnvironment
from phinance_env.openenv.models import PhinanceObservation, PhinanceState, ToolObservation, ToolResult, Verdict
from phinance_env.openenv.server import build_app, serve

__all__ = [
    "PhinanceEnvClient", "PhinanceEnvironment", "PhinanceObservation", "PhinanceState", "ServerConfig",
    "ToolObservation", "ToolResult", "Verdict", "build_app", "serve",
]
