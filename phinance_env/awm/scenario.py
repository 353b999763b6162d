"""Scenario definitions (TOML) and their task instances rendered from templates.

A scenario lists tasks by hand (``[[tasks]]``) and/or says how many to draw from each
template (``[generate]``): see :mod:`phinance_env.awm.generate`.
"""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, InstanceOf

from phinance_env.awm.generate import Generated, GenerateSpec, Report, TaskMeta
from phinance_env.awm.solution import Solution, ToolStep
from phinance_env.desks import Desk, get_desk


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
    """A desk's scenario file: description, seed history and task parameters."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str
    seed: list[SeedStep]
    tasks: list[TaskSpec] = Field(default_factory=list)
    generate: GenerateSpec | None = None
    desk: InstanceOf[Desk] = Field(exclude=True)

    @classmethod
    def load(cls, name: str | Desk) -> "Scenario":
        desk = get_desk(name)
        data = tomllib.loads(desk.scenario_file.read_text())
        if data.get("name") != desk.name:
            raise ValueError(f"{desk.scenario_file} names scenario {data.get('name')!r}, its desk is {desk.name!r}")
        named = {t["template"] for t in data.get("tasks", [])} | set(data.get("generate", {}).get("counts", {}))
        unknown = sorted(named - set(desk.templates))
        if unknown:
            raise ValueError(f"{desk.scenario_file}: unknown templates {unknown}; {desk.name} has {sorted(desk.templates)}")
        return cls.model_validate({**data, "desk": desk})

    def seed_steps(self) -> list[ToolStep]:
        return [s for step in self.seed for s in step.steps()]

    @property
    def planned_tasks(self) -> int:
        """Hand-listed tasks plus the instances ``[generate]`` asks for."""
        return len(self.tasks) + (sum(self.generate.counts.values()) if self.generate else 0)


class Task:
    """One task instance: text, ground truth, oracle and wrong solutions, from its template."""

    meta: TaskMeta | None = None  # tier, split, base subset, as_of_max: set by generation

    def __init__(self, scenario: Scenario, index: int, spec: TaskSpec, truth: Any, meta: TaskMeta | None = None):
        self.scenario, self.index, self.spec, self.truth, self.meta = scenario, index, spec, truth, meta
        self.template = scenario.desk.templates[spec.template]

    @property
    def text(self) -> str:
        return self.template.text(self.spec.params)

    @cached_property
    def expected(self) -> dict[str, Any]:
        """The typed ground truth (validated here, so at export), as the verifier reads it."""
        return self.template.expected(self.spec.params, self.truth).model_dump(mode="json")

    @property
    def oracle(self) -> Solution:
        return self.template.oracle(self.spec.params, self.expected)

    @property
    def mutants(self) -> dict[str, Solution]:
        return self.template.mutants(self.spec.params, self.expected)


def tasks(scenario: Scenario, initial_db: Path, progress=None) -> tuple[list[Generated], Report]:
    """Every task of the scenario, generated and gated: what the export writes."""
    from phinance_env.awm.generate import generate

    return generate(scenario, initial_db, progress)


def exported_tasks(scenario: Scenario, data_dir: Path) -> list[Task]:
    """The tasks an export wrote (``gen_task_meta.jsonl``), without generating them again."""
    import json

    data_dir = Path(data_dir)
    truth = scenario.desk.truth(data_dir / "databases" / f"{scenario.name}.db")
    out = []
    for line in (data_dir / "gen_task_meta.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["scenario"] != scenario.name:
            continue
        meta = TaskMeta(row["template"], row["tier"], row["split"], row["as_of_max"], row["params"], row["base"])
        out.append(Task(scenario, row["task_idx"], TaskSpec(template=row["template"], params=row["params"]), truth, meta))
    return out
