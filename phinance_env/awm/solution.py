"""A task's oracle solution: tool calls (args may reference earlier results) and an answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

REF = re.compile(r"^\$(\d+)\.([\w.]+)$")


class ToolStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tool: str
    arguments: dict[str, Any]

    @property
    def refers_back(self) -> bool:
        """Whether an argument takes its value from an earlier call's result."""
        return any(isinstance(v, str) and REF.match(v) for v in self.arguments.values())


class Solution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    calls: list[ToolStep]
    answer: str


def resolve(arguments: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """Replace ``"$<step>.<key>.<key>"`` values by that part of an earlier call's JSON result."""
    def one(value: Any) -> Any:
        m = REF.match(value) if isinstance(value, str) else None
        if not m:
            return value
        node = results[int(m.group(1))]
        for key in m.group(2).split("."):
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node
    return {k: one(v) for k, v in arguments.items()}


def play(solution: Solution, call: Callable[[str, dict[str, Any]], Any]) -> str:
    """Run the solution's calls through ``call(tool, arguments) -> JSON result``."""
    results: list[Any] = []
    for step in solution.calls:
        results.append(call(step.tool, resolve(step.arguments, results)))
    return solution.answer
