"""Wire types of the OpenEnv environment: what ``reset`` and ``step`` send back.

Actions are OpenEnv's own ``ListToolsAction`` and ``CallToolAction``. Observations travel
as their fields only (OpenEnv's serializer drops ``metadata``), so everything a client
needs is a field: the task and tools at reset; the tool's result or a typed ``ToolError``
at each call; the verifier's ``Verdict`` (reward and per-check breakdown) when the episode
ends. OpenEnv's generic ``MCPToolClient`` reads these by key (``tools``, ``tool_name``).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from openenv.core.env_server.mcp_types import CallToolObservation, Tool, ToolError, ToolErrorType
from openenv.core.env_server.types import Observation, State
from pydantic import BaseModel, ConfigDict, Field

from phinance_env.errors import PhinanceError

SUBMIT_ANSWER = "submit_answer"

SUBMIT_ANSWER_TOOL = Tool(
    name=SUBMIT_ANSWER,
    description=(
        "End the episode with your final answer to the task. It is scored once, on this answer "
        "and on the workspace's final state; no tool can be called after it. Give the figures, "
        "names or confirmation the task asks for, in plain words."),
    input_schema={
        "type": "object",
        "properties": {"answer": {"type": "string", "description": "your final answer"}},
        "required": ["answer"],
        "additionalProperties": False,
    },
)


class EpisodeStateError(PhinanceError):
    """An action that the episode's state does not allow (no episode yet, or it has ended)."""

    status_code = 409


class ResetOptions(BaseModel):
    """What ``reset`` accepts: a task by id, or drawn with ``seed`` from a split."""

    model_config = ConfigDict(extra="forbid", strict=True)

    seed: int | None = Field(None, ge=0, description="draws the task when task_id is not given")
    episode_id: str | None = Field(None, max_length=255)
    scenario: str | None = Field(None, description="a registered desk (default: the server's)")
    task_id: int | None = Field(None, ge=0, description="the task's index in the scenario")
    split: Literal["train", "test"] | None = Field(None, description="draw from this split only")
    base: bool = Field(False, description="draw from the stratified quick-eval subset only")


class Verdict(BaseModel):
    """The verifier's score of a finished episode: reward 1.0 when complete, else 0.0."""

    model_config = ConfigDict(extra="forbid")

    reward: float
    result: Literal["complete", "others"]
    checks: dict[str, bool]
    truncated: bool = Field(description="ended by the turn limit, not by submit_answer")
    error_kind: str | None = Field(description="max_turns, server_error, verifier_error... or None")
    error: str | None
    turns: int
    tool_calls: int
    tool_errors: int

    @classmethod
    def of(cls, result) -> "Verdict":
        """From the engine's ``EpisodeResult``."""
        return cls(reward=result.reward, result=result.result, checks=result.checks, truncated=result.truncated,
                   error_kind=result.error_kind, error=result.error, turns=result.turns,
                   tool_calls=result.tool_calls, tool_errors=result.tool_errors)


class TextBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text"] = "text"
    text: str


class ToolResult(BaseModel):
    """A tool's answer, in the shape of FastMCP's ``CallToolResult`` (what OpenEnv's own MCP
    environments return), so ``MCPToolClient.call_tool`` hands back ``data``: the parsed JSON."""

    model_config = ConfigDict(extra="forbid")

    content: list[TextBlock]
    structured_content: Any = None
    meta: dict[str, Any] | None = None
    data: Any = None
    is_error: bool = False

    @classmethod
    def of_text(cls, text: str) -> "ToolResult":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = text
        return cls(content=[TextBlock(text=text)], structured_content=data if isinstance(data, dict) else None,
                   data=data)

    @classmethod
    def of_verdict(cls, verdict: Verdict) -> "ToolResult":
        return cls.of_text(verdict.model_dump_json())


class PhinanceObservation(Observation):
    """What ``reset`` gives: the task, the tools (``submit_answer`` among them), the limits."""

    scenario: str
    task_id: int
    task: str
    tools: list[Tool]
    max_turns: int = Field(description="tool calls the episode may make before it is ended and scored")
    episode_id: str


class ToolObservation(CallToolObservation):
    """One call's outcome: ``result`` (a :class:`ToolResult`) or ``error`` (``tool_not_found``,
    ``invalid_args``, ``timeout``, ``execution_error``). ``verdict`` is set, with ``done``
    and ``reward``, when the episode ended: at ``submit_answer`` (whose result is the
    verdict too) or at the turn limit."""

    result: ToolResult | None = None
    verdict: Verdict | None = None


class PhinanceState(State):
    """The session's episode, for the trainer (never the expected answer)."""

    scenario: str | None = None
    task_id: int | None = None
    turns: int = 0
    max_turns: int = 30
    done: bool = False


def tool_error(kind: ToolErrorType, message: str) -> ToolError:
    return ToolError(error_type=kind, message=message)
