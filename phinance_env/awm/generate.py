"""Task generation: draw template instances from the data with a seeded generator, split
them in time, and let an instance into the export only when it passes the quality gates.

The gates play every candidate through the real app (one app, its state DB swapped per
play) and score it with the desk's verifier:

- its oracle scores "complete" and no check breaks;
- doing nothing scores "others", and so does each of its plausible wrong solutions;
- generic adversaries score "others": the oracle's answer without any tool call; a dump of
  every number the oracle's tools returned with every direction word and both gate
  verdicts, with and without the work; and for a question, the oracle's calls with an
  empty answer.

Rejected draws are counted by reason. The same seed gives the same tasks, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from phinance_env.awm.contract import Period, Template

Split = Literal["train", "test"]
ADVERSARY_WORDS = ("up down flat higher lower rises falls bullish bearish upward downward "
                   "PASS FAIL passes fails pass fail")
NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")


class GenerateSpec(BaseModel):
    """The ``[generate]`` table of a scenario TOML."""

    model_config = ConfigDict(extra="forbid")
    seed: int
    split_date: str = Field(description="first date of the test period (YYYY-MM-DD)")
    data_start: str = "1999-01-04"
    data_end: str = "2018-12-31"
    test_share: float = Field(0.25, gt=0, lt=1)
    base_per_template: int = Field(5, ge=1)
    max_draws: int = Field(30, ge=1, description="draws per wanted instance before giving up")
    counts: dict[str, int] = Field(default_factory=dict, description="instances to draw per template")

    def scaled(self, factor: float) -> "GenerateSpec":
        """The same spec with every count scaled (at least one instance per template)."""
        if factor == 1.0:
            return self
        return self.model_copy(update={"counts": {k: max(1, round(v * factor)) for k, v in self.counts.items()}})

    def periods(self) -> dict[Split, Period]:
        split = dt.date.fromisoformat(self.split_date)
        return {"train": Period(dt.date.fromisoformat(self.data_start), split - dt.timedelta(days=1)),
                "test": Period(split, dt.date.fromisoformat(self.data_end))}


@dataclass(frozen=True)
class TaskMeta:
    """One row of ``gen_task_meta.jsonl``."""

    template: str
    tier: int
    split: Split
    as_of_max: str | None
    params: dict[str, Any]
    base: bool = False


@dataclass
class Report:
    """What generation did: accepted and rejected draws by template and reason."""

    accepted: Counter = field(default_factory=Counter)
    rejected: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    wanted: dict[str, int] = field(default_factory=dict)

    def reject(self, template: str, reason: str) -> None:
        self.rejected[template][reason] += 1

    def rows(self, templates: dict[str, Template]) -> list[dict[str, Any]]:
        return [{"template": name, "tier": templates[name].tier, "wanted": self.wanted.get(name, 0),
                 "accepted": self.accepted[name], "rejected": dict(sorted(self.rejected[name].items()))}
                for name in templates if self.wanted.get(name) or self.accepted[name]]


class Gate:
    """Plays solutions through one app and scores them with the verifier module."""

    def __init__(self, desk, initial_db: Path, workroot: Path | None = None):
        from sqlalchemy import create_engine
        from sqlalchemy.util import LRUCache

        from phinance_env.app.client import AppClient
        from phinance_env.app.factory import create_app
        from phinance_env.awm.verifiers import load_verifier

        self.initial = Path(initial_db)
        self.workdir = Path(tempfile.mkdtemp(prefix="phinance-gate-", dir=workroot))
        self.app = create_app(create_engine("sqlite://"), desk)
        self.client = AppClient(self.app)
        self.verify = load_verifier(desk.verifier_file).verify_task_completion
        self._compiled = LRUCache(1_000)

    def play(self, solution, label: str) -> tuple[Path, str, list[Any]]:
        """Play ``solution`` on a fresh copy of the initial DB: (final DB, answer, results)."""
        from phinance_env.app.client import ToolError
        from phinance_env.awm.solution import resolve
        from phinance_env.state import state_engine

        db = self.workdir / f"{label}.db"
        shutil.copyfile(self.initial, db)
        engine = state_engine(db, synchronous="OFF", compiled_cache=self._compiled)
        self.app.state.ctx.use_engine(engine).dispose()
        results: list[Any] = []
        try:
            for step in solution.calls:
                try:
                    results.append(self.client.call(step.tool, resolve(step.arguments, results)))
                except ToolError as exc:
                    results.append({"error": exc.detail})
        finally:
            engine.dispose()
        return db, solution.answer, results

    def score(self, final: Path, answer: str, expected: dict) -> dict:
        return self.verify(str(self.initial), str(final), answer, expected=expected)

    def check(self, task) -> str | None:
        """None when ``task`` passes every gate, else the first gate it fails."""
        expected = task.expected
        final, answer, results = self.play(task.oracle, "oracle")
        verdict = self.score(final, answer, expected)
        if verdict.get("error_kind"):
            return "oracle: verifier_error"
        if verdict["result"] != "complete":
            failed = sorted(k for k, v in verdict.get("checks", {}).items() if not v)
            return f"oracle: {','.join(failed) or 'others'}"
        dump = _dump(results, answer)
        trials = {"null": (self.initial, ""), "no_tool_call": (self.initial, answer),
                  "dump_without_work": (self.initial, dump)}
        if task.template.asks:
            trials |= {"empty_answer": (final, ""), "dump": (final, dump)}
        for label, (db, text) in trials.items():
            if self.score(db, text, expected)["result"] != "others":
                return f"adversary: {label}"
        for label, wrong in task.mutants.items():
            db, text, _ = self.play(wrong, "mutant")
            if self.score(db, text, expected)["result"] != "others":
                return f"mutant: {label}"
        return None

    def close(self) -> None:
        self.client.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _dump(results: list[Any], answer: str) -> str:
    """Every direction word, both verdicts and every number the tools returned or the
    oracle's answer holds: what a policy parroting its tool output would say."""
    numbers = NUMBER_RE.findall(json.dumps(results)) + NUMBER_RE.findall(answer)
    return ADVERSARY_WORDS + " " + " ".join(dict.fromkeys(numbers))


def _split_of(dates: list[str], split_date: str) -> Split | None:
    """train when every date is before the split, test when every date is on or after it,
    None when the task spans both (not allowed)."""
    if not dates:
        return None
    sides = {d >= split_date for d in dates}
    return None if len(sides) > 1 else ("test" if sides.pop() else "train")


@dataclass
class Generated:
    """A gated task as the export writes it: computed in the process that gated it."""

    template: str
    params: dict[str, Any]
    meta: TaskMeta
    text: str
    expected: dict[str, Any]
    oracle: dict[str, Any]
    dates: list[str]
    index: int = -1


class _Drawer:
    """Draws and gates one template's instances in this process (one gate per process)."""

    def __init__(self, scenario, initial_db: Path, workroot: Path | None = None):
        self.scenario = scenario
        self.gate = Gate(scenario.desk, initial_db, workroot)
        self.truth = scenario.desk.truth(Path(initial_db), ctx=self.gate.app.state.ctx)  # shares the app's caches

    @staticmethod
    def key(params: dict) -> str:
        """What makes two instances the same task, whatever their phrasing."""
        return json.dumps({k: v for k, v in params.items() if k != "phrasing"}, sort_keys=True)

    def admit(self, task, split: Split, seen: set[str]) -> Generated | str:
        key = self.key(task.spec.params)
        if key in seen:
            return "duplicate parameters"
        try:
            reason = self.gate.check(task)
        except ValueError as exc:  # Reject, or a PhinanceError the data gives (too little history...)
            reason = f"truth: {str(exc).split(':')[0][:60]}"
        if reason is not None:
            return reason
        seen.add(key)
        dates = task.template.dates(task.spec.params)
        meta = TaskMeta(task.spec.template, task.template.tier, split, max(dates) if dates else None, task.spec.params)
        return Generated(task.spec.template, task.spec.params, meta, task.text, task.expected,
                         task.oracle.model_dump(), dates)

    def hand_listed(self) -> list[Generated]:
        from phinance_env.awm.scenario import Task

        spec = self.scenario.generate
        split_date = spec.split_date if spec else "9999-12-31"
        out, seen = [], set()
        for hand in self.scenario.tasks:
            task = Task(self.scenario, len(out), hand, self.truth)
            dates = task.template.dates(hand.params)
            split = _split_of(dates, split_date) if dates else "train"
            if split is None:
                raise ValueError(f"hand-listed {hand.template} {hand.params} spans the split date {split_date}")
            got = self.admit(task, split, seen)
            if isinstance(got, str):
                raise ValueError(f"hand-listed task {hand.template} {hand.params} fails a gate: {got}")
            out.append(got)
        return out

    def draw(self, name: str) -> tuple[list[Generated], Counter]:
        """``counts[name]`` gated instances of template ``name``, from its own seeded stream."""
        from phinance_env.awm.scenario import Task, TaskSpec

        spec, template = self.scenario.generate, self.scenario.desk.templates[name]
        count, periods = spec.counts[name], spec.periods()
        rng = random.Random(f"{spec.seed}:{name}")
        out: list[Generated] = []
        rejected: Counter = Counter()
        seen = {self.key(t.params) for t in self.scenario.tasks if t.template == name}  # hand-listed ones
        draws = 0
        while len(out) < count and draws < count * spec.max_draws:
            draws += 1
            split: Split = "test" if rng.random() < spec.test_share else "train"
            try:
                params = template.sample(rng, self.truth, periods[split] if template.dated else None)
            except ValueError as exc:
                rejected[f"draw: {str(exc).split(':')[0][:60]}"] += 1
                continue
            if template.phrasings:
                params = {**params, "phrasing": rng.randrange(len(template.phrasings))}
            if template.dated and _split_of(template.dates(params), spec.split_date) != split:
                rejected["draw: outside its split's period"] += 1
                continue
            got = self.admit(Task(self.scenario, -1, TaskSpec(template=name, params=params), self.truth), split, seen)
            if isinstance(got, str):
                rejected[got] += 1
            else:
                out.append(got)
        return out, rejected

    def close(self) -> None:
        self.gate.close()


_WORK: tuple | None = None  # (scenario, initial_db, workroot) for the pool's workers, set before forking
_DRAWER: _Drawer | None = None


def _job(name: str | None):
    """One pool job: the hand-listed tasks (``None``) or one template's instances."""
    global _DRAWER
    if _DRAWER is None:
        _DRAWER = _Drawer(*_WORK)
    return _DRAWER.hand_listed() if name is None else _DRAWER.draw(name)


def generate(scenario, initial_db: Path, progress=None, workers: int | None = None) -> tuple[list[Generated], Report]:
    """The scenario's tasks: hand-listed ones first, then each template's drawn instances in
    the TOML's order, every one gated; with the generation report. Templates are drawn in
    parallel (``workers`` processes, default one per core); each has its own seeded stream,
    so the result does not depend on the number of workers."""
    global _WORK, _DRAWER
    import os

    from phinance_env.settings import get_settings

    if scenario.generate is not None:
        scenario = scenario.model_copy(update={"generate": scenario.generate.scaled(get_settings().generate_scale)})
    spec = scenario.generate
    names = list(spec.counts) if spec else []
    report = Report(wanted=dict(spec.counts) if spec else {})
    workers = max(1, min(workers or os.cpu_count() or 1, len(names) + 1))
    workroot = Path(tempfile.mkdtemp(prefix="phinance-generate-"))  # pool workers exit without cleaning up
    _WORK, _DRAWER = (scenario, Path(initial_db), workroot), None
    try:
        if workers == 1:
            results = [_job(n) for n in [None, *names]]
        else:
            import multiprocessing

            # fork: the workers start with the store and models this process loaded
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = []
                for result in pool.imap(_job, [None, *names]):
                    results.append(result)
                    if progress and results[1:]:
                        progress(len(result[0]))
    finally:
        if _DRAWER is not None:
            _DRAWER.close()
        _WORK, _DRAWER = None, None
        shutil.rmtree(workroot, ignore_errors=True)
    tasks: list[Generated] = list(results[0])
    for name, (drawn, rejected) in zip(names, results[1:]):
        tasks += drawn
        report.accepted[name] += len(drawn)
        report.rejected[name].update(rejected)
    for task in results[0]:
        report.accepted[task.template] += 1
    seen_texts: set[str] = set()
    for task in list(tasks):  # two templates could word two tasks alike: keep the first
        if task.text in seen_texts:
            tasks.remove(task)
            report.accepted[task.template] -= 1
            report.reject(task.template, "duplicate text")
        seen_texts.add(task.text)
    for i, task in enumerate(tasks):
        task.index = i
    if spec is not None:
        _mark_base(tasks, spec)
    check_time_split(tasks)
    return tasks, report


def _mark_base(tasks: list, spec: GenerateSpec) -> None:
    """A stratified quick-eval subset: up to ``base_per_template`` tasks of every template,
    both splits where the template has them, the same every time."""
    by_template: dict[str, list] = defaultdict(list)
    for task in tasks:
        by_template[task.meta.template].append(task)
    for name, group in by_template.items():
        rng = random.Random(f"{spec.seed}:base:{name}")
        test = [t for t in group if t.meta.split == "test"]
        train = [t for t in group if t.meta.split == "train"]
        rng.shuffle(test)
        rng.shuffle(train)
        n_test = min(len(test), max(1, round(spec.base_per_template * spec.test_share)))
        chosen = test[:n_test] + train[:spec.base_per_template - n_test]
        chosen += test[n_test:][:spec.base_per_template - len(chosen)]
        for task in chosen:
            task.meta = replace(task.meta, base=True)


def check_time_split(tasks: list) -> None:
    """Every dated test task depends only on dates after every dated train task's dates."""
    train = [d for t in tasks if t.meta.split == "train" for d in t.dates]
    test = [d for t in tasks if t.meta.split == "test" for d in t.dates]
    if train and test and min(test) <= max(train):
        raise ValueError(f"time split broken: a test task depends on {min(test)}, a train task on {max(train)}")


__all__ = ["Gate", "Generated", "GenerateSpec", "Report", "TaskMeta", "check_time_split", "generate"]
