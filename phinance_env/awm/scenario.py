"""Scenario definitions (TOML) and their task instances rendered from templates."""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from phinance_env.awm.resources import resource_dir
from phinance_env.awm.solution import Solution, ToolStep
from phinance_env.awm.templates import TEMPLATES, Truth


class SeedStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    each: list[Any] | None = None  # repeat the call once per value of ``arg``
    arg: str | None = None

    def steps(self) -> list[ToolStep]:
        if self.each is None:
            return [ToolStep(tool=self.tool, arguments=self.args)]
        return [ToolStep(tool=self.tool, arguments={**self.args, self.arg: v}) for v in self.each]


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: str
    params: dict[str, Any]


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str
    verifier: str
    seed: list[SeedStep]
    tasks: list[TaskSpec]

    @classmethod
    def load(cls, name: str) -> "Scenario":
        path = resource_dir("scenarios") / f"{name}.toml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in resource_dir("scenarios").glob("*.toml")))
            raise FileNotFoundError(f"no scenario {name!r}; known: {known}")
        return cls.model_validate(tomllib.loads(path.read_text()))

    def seed_steps(self) -> list[ToolStep]:
        return [s for step in self.seed for s in step.steps()]


class Task:
    """One task instance: text, ground truth, oracle and wrong solutions, from its template."""

    def __init__(self, scenario: Scenario, index: int, spec: TaskSpec, truth: Truth):
        self.scenario, self.index, self.spec, self.truth = scenario, index, spec, truth
        self.template = TEMPLATES[spec.template]

    @property
    def text(self) -> str:
        return self.template.text(self.spec.params)

    @cached_property
    def expected(self) -> dict[str, Any]:
        return self.template.expected(self.spec.params, self.truth)

    @property
    def oracle(self) -> Solution:
        return self.template.oracle(self.spec.params, self.expected)

    @property
    def mutants(self) -> dict[str, Solution]:
        return self.template.mutants(self.spec.params, self.expected)


def tasks(scenario: Scenario, initial_db: Path) -> list[Task]:
    truth = Truth(Path(initial_db))
    return [Task(scenario, i, spec, truth) for i, spec in enumerate(scenario.tasks)]
