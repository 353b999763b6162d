"""A desk plugs in with its own files alone: the toy desk (tests/desks/toy_desk: one tool,
one table, one template) is installed on a path with an entry point in the
``phinance_env.desks`` group, as a separate package would be, and is then listed, exported
beside phinance_01, served by the real ``awm env start`` and verified."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import awm_env_start, mcp_calls, mcp_list_tools

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """A site folder holding the toy desk and its distribution's entry point."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(HERE / "toy_desk", site / "toy_desk", ignore=shutil.ignore_patterns("__pycache__"))
    dist = site / "toy_desk-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-desk\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[phinance_env.desks]\ntoy_01 = toy_desk:DESK\n")
    return site


@pytest.fixture(scope="module")
def with_plugin(plugin_site, cache_dir):
    """The toy desk registered in this process for the module's tests, then removed."""
    from phinance_env.desks import desks
    from phinance_env.settings import get_settings

    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(plugin_site))
    mp.setenv("PHINANCE_CACHE_DIR", str(cache_dir))
    mp.setenv("PHINANCE_GENERATE_SCALE", "0.02")  # phinance_01's share of this export is beside the point
    desks.cache_clear()
    get_settings.cache_clear()
    yield plugin_site
    mp.undo()
    get_settings.cache_clear()
    for name in [m for m in sys.modules if m == "toy_desk" or m.startswith("toy_desk.")]:
        del sys.modules[name]
    desks.cache_clear()


@pytest.fixture(scope="module")
def plugin_export(with_plugin, tmp_path_factory) -> Path:
    from phinance_env.awm.export import export

    workdir = tmp_path_factory.mktemp("awm-plugin")
    export(workdir / "outputs", rel_out="outputs")
    return workdir


def _env(site: Path, cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "PHINANCE_CACHE_DIR": str(cache_dir)}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_scenarios_command_lists_the_plugin(plugin_site, cache_dir):
    out = subprocess.run([str(BIN / "phinance-env"), "scenarios", "--json"], env=_env(plugin_site, cache_dir),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    listed = {r["name"]: r for r in json.loads(out.stdout)}
    assert listed["toy_01"]["tools"] == 1 and listed["toy_01"]["tasks"] == 2
    assert listed["phinance_01"]["tools"] == 22
    plain = subprocess.run([str(BIN / "phinance-env"), "scenarios"], env={**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir)},
                           capture_output=True, text=True, timeout=120)
    assert "phinance_01" in plain.stdout and "toy_01" not in plain.stdout  # only where installed


def test_one_data_folder_holds_both_desks(plugin_export):
    out = plugin_export / "outputs"
    for name in ("gen_scenario", "gen_tasks", "gen_db", "gen_sample", "gen_spec", "gen_envs"):
        scenarios = [r.get("scenario", r.get("name")) for r in _rows(out / f"{name}.jsonl")]
        assert scenarios == ["options_vol_01", "phinance_01", "portfolio_risk_01", "toy_01"], name
    envs = _rows(out / "gen_envs_finance.jsonl")
    assert [r["db_path"] for r in envs] == [f"outputs/databases/{n}.db" for n in scenarios]
    toy_tables = {t["name"] for t in _rows(out / "gen_db.jsonl")[3]["db_schema"]["tables"]}
    assert toy_tables == {"env_meta", "tool_calls", "close_log"}  # the shared tables and its own only
    toy_tools = [e["operation_id"] for g in _rows(out / "gen_spec.jsonl")[3]["api_spec"]["api_groups"] for e in g["endpoints"]]
    assert toy_tools == ["record_close"]
    codes = [r for r in _rows(out / "gen_verifier.pure_code.jsonl") if r["scenario"] == "toy_01"]
    assert [r["task_idx"] for r in codes] == [0, 1]
    assert all("_check_log_close" in r["verification"]["code"] and "watchlist" not in r["verification"]["code"]
               for r in codes)


def test_oracle_completes_and_null_and_mutants_do_not(plugin_export):
    from phinance_env.app.client import AppClient, ToolError
    from phinance_env.app.factory import create_app
    from phinance_env.awm import play, run_code_string
    from phinance_env.awm.scenario import Scenario, exported_tasks
    from phinance_env.state import state_engine
    from tests.support import fresh_db

    out = plugin_export / "outputs"
    initial = out / "databases" / "toy_01.db"
    codes = {r["task_idx"]: r["verification"]["code"] for r in _rows(out / "gen_verifier.pure_code.jsonl")
             if r["scenario"] == "toy_01"}
    for task in exported_tasks(Scenario.load("toy_01"), out):
        solutions = {"oracle": task.oracle, "null": None, **task.mutants}
        for label, solution in solutions.items():
            db = fresh_db(initial, plugin_export / "runs" / f"{task.index}-{label}")
            answer = ""
            if solution is not None:
                client = AppClient(create_app(state_engine(db), "toy_01"))
                try:
                    answer = play(solution, client.call)
                except ToolError:
                    answer = solution.answer
                client.close()
            verdict = run_code_string(codes[task.index], "code", str(initial), str(db), answer)
            assert "error_kind" not in verdict, (label, verdict)
            assert verdict["result"] == ("complete" if label == "oracle" else "others"), (task.index, label, verdict)


@pytest.mark.integration
def test_awm_env_start_serves_each_desk_from_one_env_file(plugin_export, plugin_site, cache_dir):
    env = _env(plugin_site, cache_dir)
    envs = "outputs/gen_envs_finance.jsonl"  # export writes the env rows inside its folder
    with awm_env_start(plugin_export, "toy_01", env, envs) as url:
        assert [t.name for t in mcp_list_tools(url)] == ["record_close"]
        good, bad = mcp_calls(url, [("record_close", {"ticker": "^IXIC", "date": "2017-03-01"}),
                                    ("record_close", {"ticker": "NOPE", "date": "2017-03-01"})])
        assert not good.is_error and good.json()["session"] == "2017-03-01"
        assert bad.is_error and "unknown ticker" in bad.text.lower()
    with awm_env_start(plugin_export, "phinance_01", env, envs) as url:
        assert len(mcp_list_tools(url)) == 22


@pytest.mark.integration
def test_serve_scenario_serves_only_that_desks_tools(plugin_export, plugin_site, cache_dir, tmp_path):
    from tests.support import fresh_db, serve_process

    db = fresh_db(plugin_export / "outputs" / "databases" / "toy_01.db", tmp_path)
    with serve_process(db, cache_dir, args=("--scenario", "toy_01"), env={"PYTHONPATH": str(plugin_site)}) as (_, url):
        assert [t.name for t in mcp_list_tools(f"{url}/mcp")] == ["record_close"]
    unknown = subprocess.run([str(BIN / "phinance-env"), "serve", "--scenario", "nope_01", "--db", str(db)],
                             env=_env(plugin_site, cache_dir), capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "no scenario 'nope_01'" in unknown.stderr and "toy_01" in unknown.stderr
