"""What an episode needs from an AWM data folder: task texts, code verifiers, the initial
DB and (for our scenarios) oracle solutions. Works on the stock file names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from phinance_env.awm.solution import Solution


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass(frozen=True)
class ScenarioData:
    scenario: str
    data_dir: Path
    initial_db: Path
    tasks: list[str]
    verifiers: dict[int, str] = field(repr=False)
    solutions: dict[int, Solution] = field(repr=False)
    full_code: str = field(default="", repr=False)
    sql_verifiers: dict[int, str] = field(default_factory=dict, repr=False)
    meta: dict[int, dict] = field(default_factory=dict, repr=False)  # gen_task_meta.jsonl: tier, split, base...

    @property
    def served_by_desk(self) -> bool:
        """Whether a registered desk serves this scenario (fast in-process hosts) rather than
        the folder's own code: its env row is our shim for a desk of that name."""
        from phinance_env.awm.export import SHIM_MARK
        from phinance_env.desks import desks

        return SHIM_MARK in self.full_code and self.scenario in desks()

    def select(self, split: str | None = None, base: bool = False) -> list[int]:
        """Task ids of a split ("train"/"test") and/or of the base subset (all when neither)."""
        if (split or base) and not self.meta:
            raise ValueError(f"{self.data_dir} has no gen_task_meta.jsonl: splits and the base subset need it")
        if split not in (None, "train", "test"):
            raise ValueError(f"split {split!r}: use train or test")
        return [i for i in range(len(self.tasks))
                if (split is None or self.meta[i]["split"] == split) and (not base or self.meta[i]["base"])]

    def task(self, task_id: int) -> str:
        if not 0 <= task_id < len(self.tasks):
            raise ValueError(f"task_id {task_id} is out of range: {self.scenario} has tasks 0..{len(self.tasks) - 1}")
        return self.tasks[task_id]


@lru_cache(maxsize=16)
def load_scenario_data(scenario: str, data_dir: str | None = None) -> ScenarioData:
    """Read a data folder (default: our export of ``scenario`` in the cache)."""
    from phinance_env.desks import normalize_name as normalize_scenario_name  # AWM's rule, without importing awm.tools (seconds)

    if data_dir is None:
        from phinance_env.awm.registry import environment

        folder = Path(environment(scenario)["data_dir"])
    else:
        folder = Path(data_dir)
    key = normalize_scenario_name(scenario)

    def mine(rows):
        return [r for r in rows if normalize_scenario_name(r.get("scenario", r.get("name", ""))) == key]

    tasks = mine(_jsonl(folder / "gen_tasks.jsonl"))
    envs = mine(_jsonl(folder / "gen_envs.jsonl"))
    if not tasks or not envs:
        raise ValueError(f"scenario {scenario!r} is not in {folder}")
    db = Path(envs[0]["db_path"])
    if not db.is_absolute():
        candidates = [folder / db, folder.parent / db, folder / "databases" / db.name]
        db = next((c for c in candidates if c.is_file()), candidates[0])
    verifiers = {r["task_idx"]: r["verification"]["code"] for r in mine(_jsonl(folder / "gen_verifier.pure_code.jsonl"))}
    solutions_file = folder / "gen_solutions.jsonl"
    solutions = ({r["task_idx"]: Solution.model_validate(r["solution"]) for r in mine(_jsonl(solutions_file))}
                 if solutions_file.is_file() else {})
    sql_file = folder / "gen_verifier.jsonl"
    sql = ({r["task_idx"]: r["verification"]["code"] for r in mine(_jsonl(sql_file))} if sql_file.is_file() else {})
    meta_file = folder / "gen_task_meta.jsonl"
    meta = {r["task_idx"]: r for r in mine(_jsonl(meta_file))} if meta_file.is_file() else {}
    return ScenarioData(key, folder, db, tasks[0]["tasks"], verifiers, solutions, envs[0].get("full_code", ""), sql, meta)
