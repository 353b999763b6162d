"""A typed client: OpenEnv's ``MCPToolClient`` keeping our observations whole.

The generic ``MCPToolClient`` works as it is (tools, calls, reward and done); its parser
keeps only the fields it knows, so the task text at reset and the verdict at the end are
dropped. This subclass parses them into :mod:`phinance_env.openenv.models`, as OpenEnv's own
environments ship a client per environment.
"""

from __future__ import annotations

from typing import Any

from openenv.core.client_types import StepResult
from openenv.core.mcp_client import MCPToolClient

from phinance_env.openenv.models import PhinanceObservation, ToolObservation


class PhinanceEnvClient(MCPToolClient):
    def _parse_result(self, payload: dict[str, Any]) -> StepResult:
        fields = payload.get("observation", {})
        ends = {"done": payload.get("done", False), "reward": payload.get("reward")}
        if "task" in fields:
            observation = PhinanceObservation(**fields, **ends)
        elif "tool_name" in fields:
            observation = ToolObservation(**fields, **ends)
        else:
            return super()._parse_result(payload)
        return StepResult(observation=observation, reward=ends["reward"], done=ends["done"])
