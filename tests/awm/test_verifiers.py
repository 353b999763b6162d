"""Every task: oracle -> complete, nothing -> others, plausible wrong solutions -> others.

Solutions run through the real app in-process on a fresh copy of the initial DB; the
verdict comes from the exported code string exec'd as AWM does."""

import json

import pytest

from phinance_env.app.client import AppClient, ToolError
from phinance_env.awm import Solution, play, run_code_string
from phinance_env.desks import get_desk
from tests.support import fresh_db, phinance_app

N_HAND = 12  # the hand-listed tasks come first, one per original template
TEMPLATES = sorted(get_desk("phinance_01").templates)


def code_rows(exported, scenario: str | None = "phinance_01"):
    """The exported code strings of ``scenario`` (None: every desk's), indexed by task_idx."""
    rows = [json.loads(line) for line in (exported / "gen_verifier.pure_code.jsonl").read_text().splitlines()]
    return [r for r in rows if scenario is None or r["scenario"] == scenario]


def run_episode(exported, tmp_path, task, solution: Solution, label: str):
    initial = exported / "databases" / "phinance_01.db"
    db = fresh_db(initial, tmp_path / label)
    client = AppClient(phinance_app(db, mcp=False))

    def call(tool, args):
        try:
            return client.call(tool, args)
        except ToolError:
            return {}

    answer = play(solution, call)
    client.close()
    code = code_rows(exported)[task.index]["verification"]["code"]
    return run_code_string(code, "code", str(initial), str(db), answer)


def test_hand_listed_tasks_come_first_and_many_take_several_calls(exported, scenario_tasks):
    assert len({t.spec.template for t in scenario_tasks[:N_HAND]}) == N_HAND
    solutions = [json.loads(x)["solution"] for x in (exported / "gen_solutions.jsonl").read_text().splitlines()]
    assert sum(len(s["calls"]) >= 3 for s in solutions) >= 0.15 * len(solutions)


def _instances(scenario_tasks, template, n=2):
    """The first ``n`` tasks of ``template``, one of each split where it has both."""
    mine = [t for t in scenario_tasks if t.spec.template == template]
    picks = [next((t for t in mine if t.meta.split == s), None) for s in ("train", "test")]
    return ([t for t in picks if t] + mine)[:n]


@pytest.mark.parametrize("template", TEMPLATES)
def test_oracle_completes_and_wrong_solutions_do_not(exported, scenario_tasks, tmp_path, template):
    """Through the exported code strings exec'd as AWM does (the gates at export used the
    importable module): the two must agree on every template."""
    for task in _instances(scenario_tasks, template):
        _oracle_null_mutants(exported, tmp_path / str(task.index), task)


def _oracle_null_mutants(exported, tmp_path, task):
    result = run_episode(exported, tmp_path, task, task.oracle, "oracle")
    assert result["result"] == "complete" and result["reward"] == 1.0, result
    nothing = run_episode(exported, tmp_path, task, Solution(calls=[], answer=""), "null")
    assert nothing["result"] == "others" and nothing["reward"] == 0.0
    assert task.mutants, "every template offers plausible wrong solutions"
    verdicts = [result, nothing]
    for label, wrong in task.mutants.items():
        verdict = run_episode(exported, tmp_path, task, wrong, label)
        assert verdict["result"] == "others", (label, verdict)
        verdicts.append(verdict)
    assert not [v for v in verdicts if "error_kind" in v], "a check broke: a wrong answer must be judged, not crash"


def test_importable_verifier_agrees_with_the_exported_string(exported, scenario_tasks, tmp_path):
    from phinance_env.awm import load_verifier
    from phinance_env.desks import get_desk

    module = load_verifier(get_desk("phinance_01").verifier_file)
    task = scenario_tasks[0]
    initial = exported / "databases" / "phinance_01.db"
    direct = module.verify_task_completion(str(initial), str(initial), task.oracle.answer, expected=task.expected)
    packed = run_code_string(code_rows(exported)[0]["verification"]["code"], "code", str(initial), str(initial), task.oracle.answer)
    assert direct == packed and direct["result"] == "others"  # no projection run logged yet


def test_sql_mode_reports_expectations_and_state_changes(exported, scenario_tasks, tmp_path):
    task = scenario_tasks[3]  # create_watchlist
    initial = exported / "databases" / "phinance_01.db"
    db = fresh_db(initial, tmp_path / "sql")
    client = AppClient(phinance_app(db, mcp=False))
    play(task.oracle, client.call)
    client.close()
    rows = [json.loads(line) for line in (exported / "gen_verifier.jsonl").read_text().splitlines()]
    code = next(r for r in rows if r["scenario"] == "phinance_01" and r["task_idx"] == 3)["verification"]["code"]
    assert [line for line in code.splitlines() if line.strip().startswith("def verify_")] == [
        "def verify_task(initial_db_path, final_db_path, expected=None):"]
    facts = run_code_string(code, "sql", str(initial), str(db))
    assert facts["expected"]["name"] == "Healthcare Basket"
    added = facts["state_changes"]["watchlists"]["added"]
    assert [w["name"] for w in added] == ["Healthcare Basket"]
    assert len(facts["state_changes"]["watchlist_items"]["added"]) == 3
    json.dumps(facts)


def test_code_strings_have_exactly_one_entry_point(exported):
    for row in code_rows(exported, None):
        entries = [line.strip() for line in row["verification"]["code"].splitlines() if line.strip().startswith("def verify_")]
        assert entries == ["def verify_task_completion(initial_db_path, final_db_path, final_answer, expected=None):"]
        assert row["scenario"] in ("options_vol_01", "phinance_01", "portfolio_risk_01") and isinstance(row["task_idx"], int)


@pytest.mark.parametrize("answer", [
    "up down flat " * 5,
    " ".join(str(x) for x in range(-400, 400)),
    "x" * 100_000,
    "",
])
def test_adversarial_answers_never_complete(exported, scenario_tasks, answer):
    """Without any work, on every exported task (the long answers on one task per template)."""
    initial = exported / "databases" / "phinance_01.db"
    rows = code_rows(exported)
    tasks = scenario_tasks if len(answer) < 1000 else {t.spec.template: t for t in scenario_tasks}.values()
    for task in tasks:
        row = rows[task.index]
        verdict = run_code_string(row["verification"]["code"], "code", str(initial), str(initial), answer)
        assert verdict["result"] == "others", (task.spec.template, verdict)


def test_verifiers_never_raise_on_broken_databases(exported, tmp_path):
    import sqlite3

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    for row in code_rows(exported):
        verdict = run_code_string(row["verification"]["code"], "code", str(empty), str(empty), "answer")
        assert verdict["result"] == "others" and verdict["error_kind"] == "verifier_error" and verdict["error"]
        missing = run_code_string(row["verification"]["code"], "code", str(tmp_path / "nope.db"), str(empty), "a")
        assert missing["result"] == "others"


def test_compiled_once_per_template_judges_as_the_whole_string(exported, scenario_tasks):
    """run_code_string compiles a template's slice once and hands each task its EXPECTED;
    the verdicts equal exec'ing every task's whole string, as AWM does."""
    from phinance_env.awm.verifiers import _entry_point

    initial = str(exported / "databases" / "phinance_01.db")
    rows = code_rows(exported)
    for answer in ("", "up 1 2 3 PASS", scenario_tasks[0].oracle.answer):
        for row in rows[::7]:
            namespace = {}
            exec(compile(row["verification"]["code"], "<awm>", "exec"), namespace)  # noqa: S102
            whole = namespace["verify_task_completion"](initial, initial, answer)
            assert run_code_string(row["verification"]["code"], "code", initial, initial, answer) == whole
    assert _entry_point.cache_info().currsize <= 2 * len(TEMPLATES) + 10
