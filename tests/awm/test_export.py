"""The export as stock AWM tools read it, the committed env file, discovery, durability."""

import json
import shutil
import sqlite3
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from phinance_env.awm.export import ENVS_FILE, check_envs_file, env_row
from tests.support import dump

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
STOCK_FILES = ["gen_scenario.jsonl", "gen_tasks.jsonl", "gen_db.jsonl", "gen_sample.jsonl", "gen_spec.jsonl",
               "gen_envs.jsonl", "gen_verifier.jsonl", "gen_verifier.pure_code.jsonl"]


def test_export_writes_every_stock_file(exported):
    for name in STOCK_FILES:
        rows = [json.loads(line) for line in (exported / name).read_text().splitlines()]
        assert rows, name
    rows = lambda name: [json.loads(line) for line in (exported / name).read_text().splitlines()]  # noqa: E731
    tasks = {r["scenario"]: r["tasks"] for r in rows("gen_tasks.jsonl")}
    assert list(tasks) == ["options_vol_01", "phinance_01", "portfolio_risk_01"]  # one row per desk, in name order
    assert len(tasks["phinance_01"]) >= 1000 and len(tasks["portfolio_risk_01"]) >= 500
    assert len(tasks["options_vol_01"]) >= 500 and sum(map(len, tasks.values())) >= 2000
    for scenario in rows("gen_scenario.jsonl"):
        assert scenario["name"] in tasks and len(scenario["description"]) > 200


@pytest.mark.integration
def test_awm_reset_db_rebuilds_the_same_initial_state(exported, tmp_path):
    out = subprocess.run(
        [str(BIN / "awm"), "env", "reset_db", "--input_db", str(exported / "gen_db.jsonl"),
         "--input_sample", str(exported / "gen_sample.jsonl"), "--database_dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rebuilt = tmp_path / "phinance_01.db"
    assert dump(rebuilt) == dump(exported / "databases" / "phinance_01.db")
    with sqlite3.connect(rebuilt) as conn:
        assert conn.execute("SELECT COUNT(*) FROM watchlists").fetchone()[0] == 4
        assert conn.execute("SELECT COUNT(*) FROM backtest_folds").fetchone()[0] > 5


def test_committed_env_file_is_current_and_survives_awm_rewriting():
    assert check_envs_file(REPO / ENVS_FILE) is None
    out = subprocess.run([str(BIN / "phinance-env"), "export", "--check"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    code = env_row("phinance_01")["full_code"].splitlines()
    assert sum("create_engine(" in line for line in code) == 1
    assert sum("uvicorn.run(app" in line for line in code) == 1
    assert "    uvicorn.run(app, host=\"127.0.0.1\", port=8001)" in code
    assert not any("FastApiMCP" in line for line in code)  # AWM mounts MCP itself


def test_check_reports_a_stale_env_file(tmp_path):
    stale = tmp_path / ENVS_FILE
    shutil.copy(REPO / ENVS_FILE, stale)
    stale.write_text(stale.read_text().replace("phinance_01.db", "other.db"))
    assert "stale" in check_envs_file(stale)
    assert "missing" in check_envs_file(tmp_path / "none.jsonl")


@pytest.fixture
def quick_exports(monkeypatch):
    """Exports of 2% of the tasks (one per template at least): these tests are about files."""
    from phinance_env.settings import get_settings

    monkeypatch.setenv("PHINANCE_GENERATE_SCALE", "0.02")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_awm_environments_entry_point_lists_the_files(cache_dir, tmp_path, quick_exports):
    (ep,) = [e for e in entry_points(group="awm.environments") if e.name == "phinance_01"]
    files = ep.load()(out_dir=tmp_path / "env")
    for name in ("gen_envs", "gen_tasks", "gen_verifier.pure_code", "gen_db", "gen_sample"):
        assert Path(files[name]).is_file()
    rows = [json.loads(line) for line in Path(files["gen_envs"]).read_text().splitlines()]
    assert [r["scenario"] for r in rows] == ["options_vol_01", "phinance_01", "portfolio_risk_01"]
    assert all(Path(r["db_path"]).is_absolute() and Path(r["db_path"]).is_file() for r in rows)
    assert Path(files["db"]).name == "phinance_01.db"


def test_the_cached_export_is_redone_when_its_inputs_change(cache_dir, tmp_path, quick_exports):
    """An upgrade that changes a verifier or a model must not keep scoring with the old export."""
    from phinance_env.awm.registry import STAMP, environment, export_fingerprint

    assert export_fingerprint().endswith("-x0.02")  # a scaled export never passes for the real one
    out = tmp_path / "env"
    files = environment("phinance_01", out_dir=out)
    verifier = Path(files["gen_verifier.pure_code"])
    good = verifier.read_text()
    verifier.write_text(good.replace("def verify_task_completion", "def verify_stale"))
    environment("phinance_01", out_dir=out)
    assert "def verify_stale" in verifier.read_text()  # same inputs: the cache is kept

    (out / STAMP).write_text("made-by-another-version")
    environment("phinance_01", out_dir=out)
    assert verifier.read_text() == good


def test_a_plain_file_copy_right_after_a_write_holds_it(exported, tmp_path):
    """AWM saves final.db with a plain copy while the server runs: no WAL may hide commits."""
    from phinance_env.app.client import AppClient
    from tests.support import fresh_db, phinance_app

    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    client = AppClient(phinance_app(db, mcp=False))
    client.call("create_watchlist", {"name": "Copied", "tickers": "NOVA"})
    copy = tmp_path / "copy.db"
    shutil.copy2(db, copy)  # the server's engine is still open
    assert not Path(f"{db}-wal").exists()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT COUNT(*) FROM watchlists WHERE name = 'Copied'").fetchone()[0] == 1
    client.close()


def test_export_out_writes_its_own_env_file_and_never_the_committed_one(cli_env, tmp_path):
    """As a user runs it: ``export --out DIR`` from a checkout leaves the committed
    gen_envs_finance.jsonl alone; ``awm env start`` then works from DIR's own env file."""
    cli_env = {**cli_env, "PHINANCE_GENERATE_SCALE": "0.02"}  # a quick export: this is about the files
    committed = tmp_path / ENVS_FILE
    committed.write_text("the committed file\n")
    out = subprocess.run([str(BIN / "phinance-env"), "export", "--out", "elsewhere"], cwd=tmp_path, env=cli_env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert committed.read_text() == "the committed file\n"
    rows = [json.loads(line) for line in (tmp_path / "elsewhere" / ENVS_FILE).read_text().splitlines()]
    assert [r["db_path"] for r in rows] == ["elsewhere/databases/options_vol_01.db", "elsewhere/databases/phinance_01.db",
                                            "elsewhere/databases/portfolio_risk_01.db"]
    assert all((tmp_path / r["db_path"]).is_file() for r in rows)
    assert (tmp_path / "elsewhere" / "gen_envs.jsonl").read_text() == (tmp_path / "elsewhere" / ENVS_FILE).read_text()
    again = subprocess.run([str(BIN / "phinance-env"), "export"], cwd=tmp_path, env=cli_env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert committed.read_text() == (tmp_path / "outputs" / ENVS_FILE).read_text()  # default: outputs/ + the root file
    assert [json.loads(line)["db_path"] for line in committed.read_text().splitlines()] == [
        "outputs/databases/options_vol_01.db", "outputs/databases/phinance_01.db", "outputs/databases/portfolio_risk_01.db"]


def test_export_refuses_an_unknown_scenario(cli_env, tmp_path):
    out = subprocess.run([str(BIN / "phinance-env"), "export", "--out", "x", "--scenario", "nope_01"], cwd=tmp_path,
                         env=cli_env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "no scenario 'nope_01'" in out.stderr and "phinance_01" in out.stderr
    assert not (tmp_path / "x").exists()
