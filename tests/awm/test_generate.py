"""Generated tasks at scale: counts, tiers, phrasings, the time split, the base subset,
determinism, and the gates that keep unverifiable instances out."""

import json
import re
from collections import Counter, defaultdict

import pytest

from phinance_env.awm.scenario import Scenario
from phinance_env.desks import get_desk

ARGUMENT_NAMES = ("annualized_sigma", "sigma_bps", "drift_bps", "cone75", "as_of_date", "p_up", "p_down",
                  "rank_by", "tracked_only", "alert_id", "run_id")


def _jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def meta(exported):
    return [r for r in _jsonl(exported / "gen_task_meta.jsonl") if r["scenario"] == "phinance_01"]


@pytest.fixture(scope="module")
def texts(exported):
    (row,) = [r for r in _jsonl(exported / "gen_tasks.jsonl") if r["scenario"] == "phinance_01"]
    return row["tasks"]


def test_a_thousand_distinct_tasks_in_three_tiers(meta, texts):
    desk = get_desk("phinance_01")
    assert len(texts) == len(meta) >= 1000
    assert len(set(texts)) == len(texts), "no two task texts are the same"
    assert [m["task_idx"] for m in meta] == list(range(len(meta)))
    assert len({m["template"] for m in meta}) == len(desk.templates) >= 20
    tiers = Counter(m["tier"] for m in meta)
    assert set(tiers) == {1, 2, 3} and all(n >= 0.15 * len(meta) for n in tiers.values()), tiers


def test_texts_read_like_requests_in_several_phrasings(meta, texts):
    desk = get_desk("phinance_01")
    assert all(len(t.phrasings) >= 3 for t in desk.templates.values())
    used = defaultdict(set)
    for m, text in zip(meta, texts):
        used[m["template"]].add(m["params"].get("phrasing", 0))
        assert not any(name in text for name in ARGUMENT_NAMES), text
        assert text.rstrip().endswith((".", "?")), text
    assert sum(len(v) >= 3 for v in used.values()) >= 20
    people = [t for t in texts if re.search(r"the S&P 500|the Nasdaq Composite|Nova Systems|Qubit Labs|the \w+ stocks", t)]
    assert len(people) >= 100, "some requests name instruments as people do"


def test_time_split_and_base_subset(meta):
    test = [m for m in meta if m["split"] == "test"]
    assert len(test) >= 0.2 * len(meta)
    desk = get_desk("phinance_01")
    dates = {"train": [], "test": []}
    for m in meta:
        dates[m["split"]] += desk.templates[m["template"]].dates(m["params"])
        if m["as_of_max"] is not None:
            assert m["as_of_max"] == max(desk.templates[m["template"]].dates(m["params"]))
    assert max(dates["train"]) < min(dates["test"]), "a test task depends on a date a train task does"
    base = [m for m in meta if m["base"]]
    assert len(base) >= 120
    assert {m["template"] for m in base} == {m["template"] for m in meta}
    assert {m["tier"] for m in base} == {1, 2, 3} and {m["split"] for m in base} == {"train", "test"}


def test_the_same_seed_gives_the_same_tasks(exported, tmp_path):
    from phinance_env.awm.generate import generate

    scenario = Scenario.load("phinance_01")
    small = scenario.model_copy(update={
        "tasks": [],
        "generate": scenario.generate.model_copy(update={"counts": {k: 2 for k in scenario.generate.counts}})})
    db = exported / "databases" / "phinance_01.db"

    def draw():
        tasks, report = generate(small, db)
        return [(t.text, t.meta, t.expected) for t in tasks], report.rows(scenario.desk.templates)

    first, second = draw(), draw()
    assert first == second and len(first[0]) == 2 * len(scenario.generate.counts)
    other = small.model_copy(update={"generate": small.generate.model_copy(update={"seed": 7})})
    assert [t.text for t in generate(other, db)[0]] != [t for t, _, _ in first[0]]


def test_gates_keep_out_an_instance_a_wrong_solution_passes(exported, scenario_tasks):
    """A mutant identical to the oracle, an oracle that fails, and a question whose empty
    answer would score: each is refused with its reason."""
    from phinance_env.awm.generate import Gate
    from phinance_env.awm.solution import Solution

    gate = Gate(get_desk("phinance_01"), exported / "databases" / "phinance_01.db")
    try:
        task = next(t for t in scenario_tasks if t.spec.template == "projection_answer")
        assert gate.check(task) is None

        class Twin:
            def __init__(self, task, **over):
                self.__dict__.update(task.__dict__)
                self.expected, self.oracle, self.mutants = task.expected, task.oracle, task.mutants
                self.__dict__.update(over)

        assert gate.check(Twin(task, mutants={"same": task.oracle})) == "mutant: same"
        broken = Solution(calls=task.oracle.calls, answer="The call is down and up.")
        assert gate.check(Twin(task, oracle=broken)).startswith("oracle: ")
        lenient = {**task.expected, "tol_bps": 10_000.0}  # any number passes: so does the dump
        assert gate.check(Twin(task, expected=lenient)).startswith(("adversary: ", "mutant: "))
    finally:
        gate.close()


def test_scenarios_lists_planned_task_counts(cli_env):
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([str(Path(sys.executable).parent / "phinance-env"), "scenarios", "--json"], env=cli_env,
                         capture_output=True, text=True, timeout=120)
    row = next(r for r in json.loads(out.stdout) if r["name"] == "phinance_01")
    assert row["tasks"] == Scenario.load("phinance_01").planned_tasks >= 1000 and row["templates"] >= 20
