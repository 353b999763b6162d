"""The task contract between a template, its sampler and its verifier.

A template turns parameters and the data into a task text, ground truth, an oracle solution
and plausible wrong solutions. The ground truth is a typed model (:class:`Expected`): it is
validated when a task is rendered (so at export), exported as the verifier's ``EXPECTED``,
and a test checks that every key a verifier's check reads is a field of its template's
model, so a renamed or misspelt key fails the build instead of scoring every episode 0.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from phinance_env.awm.solution import Solution, ToolStep


class Expected(BaseModel):
    """Ground truth of one task; subclasses name their fields (extra fields are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    template: str


@dataclass(frozen=True)
class Period:
    """The dates a sampled task may depend on (inclusive): its split's side of the time split."""

    start: dt.date
    end: dt.date

    def __contains__(self, day: str | dt.date) -> bool:
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        return self.start <= day <= self.end


class Reject(ValueError):
    """A drawn instance that cannot be a task (no data, a degenerate truth): draw again."""


class Template:
    """One family of tasks. ``Expected`` is its ground-truth model.

    ``tier``: 1 one tool and one fact; 2 a few calls combined; 3 five or more calls, a
    decision on intermediate results, recovery from a likely error, or a refusal.
    ``asks``: the answer carries facts the verifier checks (a question), as opposed to a
    state-only task whose verifier reads the DB alone. ``dated``: its parameters name data
    dates (it is drawn on one side of the time split). ``phrasings``: format strings of the
    task text (``{ticker}``..., filled from the parameters and ``names``), one drawn per task.
    """

    name: ClassVar[str]
    Expected: ClassVar[type[Expected]]
    tier: ClassVar[int] = 1
    asks: ClassVar[bool] = True
    dated: ClassVar[bool] = True
    phrasings: ClassVar[tuple[str, ...]] = ()

    def text(self, p: dict) -> str:
        return self.phrasings[p.get("phrasing", 0)].format(**self.words(p))

    def words(self, p: dict) -> dict[str, Any]:
        """What the phrasings may name: the parameters, plus derived words (names...)."""
        return p

    def sample(self, rng: random.Random, world: Any, period: Period | None) -> dict:
        """Draw parameters from the data with ``rng``, depending only on dates in ``period``
        (None: an undated task). Raises :class:`Reject` when a draw cannot make a task."""
        raise NotImplementedError(f"{self.name} has no sampler; list its instances by hand")

    def dates(self, p: dict) -> list[str]:
        """Every data date (YYYY-MM-DD) the task depends on; empty for an undated task."""
        return []

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


__all__ = ["Expected", "Period", "Reject", "Template", "call"]
