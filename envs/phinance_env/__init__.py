"""phinance-env as an OpenEnv environment: the client and wire types (from phinance_env.openenv)."""

from phinance_env.openenv import PhinanceEnvClient, PhinanceObservation, PhinanceState, ToolObservation, Verdict

__all__ = ["PhinanceEnvClient", "PhinanceObservation", "PhinanceState", "ToolObservation", "Verdict"]
