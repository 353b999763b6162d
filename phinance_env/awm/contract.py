"""The task contract between a template and its verifier.

A template turns parameters and the data into a task text, ground truth, an oracle solution
and plausible wrong solutions. The ground truth is a typed model (:class:`Expected`): it is
validated when a task is rendered (so at export), exported as the verifier's ``EXPECTED``,
and a test checks that every key a verifier's check reads is a field of its template's
model, so a renamed or misspelt key fails the build instead of scoring every episode 0.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from phinance_env.awm.solution import Solution, ToolStep


class Expected(BaseModel):
    """Ground truth of one task; subclasses name their fields (extra fields are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    template: str


class Template:
    """One family of tasks. ``Expected`` is its ground-truth model."""

    name: ClassVar[str]
    Expected: ClassVar[type[Expected]]

    def text(self, p: dict) -> str:
        raise NotImplementedError

    def truth(self, p: dict, truth: Any) -> dict[str, Any]:
        """The ground-truth fields (without ``template``), from parameters and the data."""
        raise NotImplementedError

    def expected(self, p: dict, truth: Any) -> Expected:
        return self.Expected(template=self.name, **self.truth(p, truth))

    def oracle(self, p: dict, exp: Any) -> Solution:
        raise NotImplementedError

    def mutants(self, p: dict, exp: Any) -> dict[str, Solution]:
        """Plausible wrong solutions (wrong ticker, date or number); each must score 0."""
        raise NotImplementedError


def call(tool: str, **arguments: Any) -> ToolStep:
    return ToolStep(tool=tool, arguments=arguments)


__all__ = ["Expected", "Template", "call"]
