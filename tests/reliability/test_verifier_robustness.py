"""Verifiers under abuse: broken databases, another task's final state, hostile answers.
They return "others" and never raise."""

import json
import shutil
import sqlite3

import pytest

from phinance_env.app.client import AppClient, ToolError
from phinance_env.awm import play, run_code_string
from tests.support import fresh_db, phinance_app


@pytest.fixture(scope="module")
def templates(scenario_tasks):
    """One task of every template (the first of each, hand-listed ones included)."""
    return list({t.spec.template: t for t in reversed(scenario_tasks)}.values())


@pytest.fixture(scope="module")
def finals(exported, templates, tmp_path_factory):
    """Each task's final DB after its oracle solution."""
    out = {}
    for task in templates:
        db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path_factory.mktemp(f"final{task.index}"))
        client = AppClient(phinance_app(db, mcp=False))

        def call(tool, args):
            try:
                return client.call(tool, args)
            except ToolError:  # refusal tasks meet errors on purpose
                return {}
        play(task.oracle, call)
        client.close()
        out[task.index] = db
    return out


def codes(exported, tasks):
    rows = {r["task_idx"]: r for r in map(json.loads, (exported / "gen_verifier.pure_code.jsonl").read_text().splitlines())
            if r["scenario"] == "phinance_01"}
    return [rows[t.index]["verification"]["code"] for t in tasks]


def test_another_tasks_final_state_never_completes(exported, templates, finals):
    initial = str(exported / "databases" / "phinance_01.db")
    for task, code in zip(templates, codes(exported, templates)):
        own = run_code_string(code, "code", initial, str(finals[task.index]), task.oracle.answer)
        assert own["result"] == "complete"
        for other, db in finals.items():
            if other != task.index:
                verdict = run_code_string(code, "code", initial, str(db), task.oracle.answer)
                assert verdict["result"] == "others", (task.index, other, verdict)


def test_dropped_tables_give_others_without_raising(exported, templates, finals, tmp_path):
    initial = str(exported / "databases" / "phinance_01.db")
    for task, code in zip(templates, codes(exported, templates)):
        broken = tmp_path / f"broken{task.index}.db"
        shutil.copy(finals[task.index], broken)
        with sqlite3.connect(broken) as conn:
            conn.execute("PRAGMA foreign_keys = OFF")
            for table in ("watchlist_items", "watchlists", "notes", "alerts", "projection_runs",
                          "backtest_folds", "backtest_runs", "tracked_tickers"):
                conn.execute(f"DROP TABLE {table}")
        verdict = run_code_string(code, "code", initial, str(broken), task.oracle.answer)
        assert verdict["result"] == "others" and verdict["error_kind"] == "verifier_error", task.spec.template


@pytest.mark.parametrize("answer", [
    "The call is up. Or down. Or flat. Bullish and bearish.",
    "up " + " ".join(f"{x / 10:.1f}" for x in range(-3000, 3000, 7)),
    "PASS FAIL pass fail " * 50,
    "\x00\x01" * 1000,
    "🚀" * 20_000,
])
def test_hostile_answers_on_the_oracle_state(exported, templates, finals, answer):
    initial = str(exported / "databases" / "phinance_01.db")
    for task, code in zip(templates, codes(exported, templates)):
        verdict = run_code_string(code, "code", initial, str(finals[task.index]), answer)
        if task.template.asks:  # a question: the state alone must not earn the reward
            assert verdict["result"] == "others", (task.spec.template, answer[:40])
