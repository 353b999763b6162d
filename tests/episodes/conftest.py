import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir(exported):
    return str(exported)


@pytest.fixture(scope="session")
def template_tasks(data_dir) -> tuple[int, ...]:
    """The first task of every template: each kind of check once. The task set is generated
    at scale; its first tasks, one per original template, are the hand-listed base set."""
    first: dict[str, int] = {}
    for line in (Path(data_dir) / "gen_solutions.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["scenario"] == "phinance_01":
            first.setdefault(row["template"], row["task_idx"])
    return tuple(sorted(first.values()))
