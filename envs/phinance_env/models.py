"""The wire types: OpenEnv's ListToolsAction/CallToolAction in, these observations out."""

from phinance_env.openenv.models import PhinanceObservation, PhinanceState, ToolObservation, ToolResult, Verdict

__all__ = ["PhinanceObservation", "PhinanceState", "ToolObservation", "ToolResult", "Verdict"]
