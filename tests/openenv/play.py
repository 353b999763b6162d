"""Driving an episode with OpenEnv's own generic MCP client (no class of ours)."""

from __future__ import annotations

from typing import Any

from openenv.core.env_server.mcp_types import CallToolAction

from phinance_env.awm.solution import Solution, resolve


async def call(env, tool: str, **arguments: Any):
    """One tool call as a StepResult. ``step(CallToolAction)`` rather than ``call_tool``:
    MCPToolClient.call_tool(name, **kwargs) cannot pass a tool argument called ``name``."""
    return await env.step(CallToolAction(tool_name=tool, arguments=arguments))


async def play_oracle(env, solution: Solution) -> str:
    """Replay the solution's calls (resolving $refs from earlier results); return its answer."""
    results: list[Any] = []
    for step in solution.calls:
        observation = (await call(env, step.tool, **resolve(step.arguments, results))).observation
        if observation.error is not None:
            raise AssertionError(f"{step.tool} failed: {observation.error.message}")
        results.append(data(observation.result))
    return solution.answer


def data(result) -> Any:
    """A call's parsed JSON: the generic client hands the result over as a dict, ours typed."""
    return result["data"] if isinstance(result, dict) else result.data


async def submit(env, answer: str):
    return await call(env, "submit_answer", answer=answer)
