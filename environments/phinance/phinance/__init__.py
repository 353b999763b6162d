"""phinance-env as a verifiers environment (``vf-eval phinance``): the AWM export's tasks
and splits as a taskset, each rollout on its own episode of ``phinance-env gateway serve``
(its own state DB, its tools over MCP), rewarded by the task's own verifier."""

from phinance.env import PhinanceEnv, PhinanceEnvConfig
from phinance.taskset import PhinanceData, PhinanceTask, PhinanceTaskset, PhinanceTasksetConfig

__all__ = ["PhinanceData", "PhinanceEnv", "PhinanceEnvConfig", "PhinanceTask", "PhinanceTaskset",
           "PhinanceTasksetConfig"]
