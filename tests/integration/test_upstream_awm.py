"""Upstream AWM's own layout: ``awm agent --scenario S --task_id N`` with its default
``./outputs/gen_*.jsonl`` paths (it rebuilds the DB from gen_db/gen_sample and serves our
shim from gen_envs), then ``awm verify --mode code`` on the run directory it wrote.

The PyPI release (0.1.0) has neither command; ``make test-upstream AWM_SRC=<checkout>``
runs this in a venv with an upstream AWM source tree instead of the release."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripted_llm import scripted_llm
from tests.support import served

BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.integration, pytest.mark.upstream]


def has_upstream_commands() -> bool:
    return subprocess.run([str(BIN / "awm"), "verify", "--help"], capture_output=True).returncode == 0


@pytest.fixture(autouse=True)
def _reap_upstream_servers(tmp_path):
    """Upstream ``awm agent`` leaves its environment server running after every run (it
    starts it through ``os.system``; see DESIGN.md). Kill what a test left in its own folder,
    so that leaked servers do not pile up and starve the next test's agent."""
    yield
    import signal

    for pid in subprocess.run(["pgrep", "-f", "temp_server_|awm.core.server"], capture_output=True, text=True).stdout.split():
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(tmp_path)):
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def _in_upstream_layout(exported, tmp_path) -> Path:
    """The session's export as ``./outputs``, where upstream AWM looks by default."""
    shutil.copytree(exported, tmp_path / "outputs")
    return tmp_path


@pytest.mark.skipif(not has_upstream_commands(), reason="the installed awm has no `awm verify` (PyPI 0.1.0)")
@pytest.mark.parametrize("scenario,template", [  # every tier of every desk: lookups, linked notes, screens, recoveries, refusals
    ("phinance_01", "projection_answer"), ("phinance_01", "projection_note"), ("phinance_01", "watchlist_from_rank"),
    ("phinance_01", "holiday_projection"), ("phinance_01", "refuse_beyond_data"),
    ("portfolio_risk_01", "risk_figure"), ("portfolio_risk_01", "limit_order"), ("portfolio_risk_01", "buy_and_value"),
    ("portfolio_risk_01", "rebalance_to_target"), ("portfolio_risk_01", "risk_review"), ("portfolio_risk_01", "refuse_trade"),
    ("options_vol_01", "option_price"), ("options_vol_01", "rich_cheap"), ("options_vol_01", "spread_build"),
    ("options_vol_01", "delta_put_spread"), ("options_vol_01", "refuse_option")])
def test_upstream_agent_and_verify_find_everything(exported, cache_dir, tmp_path, scenario, template):
    from phinance_env.awm.scenario import Scenario, exported_tasks

    env = {**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir), "OPENAI_API_KEY": "unused"}
    _in_upstream_layout(exported, tmp_path)
    tasks = exported_tasks(Scenario.load(scenario), exported)
    task_id = next(t.index for t in tasks if t.spec.template == template)
    oracle = tasks[task_id].oracle
    run_dir = tmp_path / "runs" / f"task{task_id}"
    with served(scripted_llm(oracle)) as llm:
        agent = subprocess.run(
            [str(BIN / "awm"), "agent", "--scenario", scenario, "--task_id", str(task_id), "--api_url", f"{llm}/v1",
             "--model", "oracle", "--output_dir", str(run_dir), "--max_iterations", "16"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    # Upstream copies its working final.db onto itself after saving the run (SameFileError):
    # its bug, raised after every file below is written.
    assert agent.returncode == 0 or "SameFileError" in agent.stderr, agent.stderr[-3000:]
    assert {"trajectory.json", "initial.db", "final.db"} <= {p.name for p in run_dir.iterdir()}
    trajectory = json.loads((run_dir / "trajectory.json").read_text())
    assert trajectory["messages"][-1]["content"] == oracle.answer

    assert upstream_verify(run_dir, tmp_path, env)["reward_type"] == "complete"


@pytest.mark.skipif(not has_upstream_commands(), reason="the installed awm has no `awm verify` (PyPI 0.1.0)")
@pytest.mark.parametrize("policy", ["oracle", "null"])
def test_upstream_verify_rescores_our_episodes_alike(exported, cache_dir, tmp_path, policy):
    env = {**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir)}
    _in_upstream_layout(exported, tmp_path)
    subprocess.run([str(BIN / "phinance-env"), "episode", "--task-id", "4", "--policy", policy, "--data-dir", "outputs",
                    "--out", "runs"], cwd=tmp_path, env=env, check=True, capture_output=True)
    (run_dir,) = (tmp_path / "runs").rglob("trajectory.json")
    ours = json.loads((run_dir.parent / "verify.code.json").read_text())
    theirs = upstream_verify(run_dir.parent, tmp_path, env)  # rewrites verify.code.json
    assert ours["reward_type"] == theirs["reward_type"] == ("complete" if policy == "oracle" else "others")
    assert ours["verify_result"] == theirs["verify_result"]


def upstream_verify(run_dir: Path, cwd: Path, env: dict) -> dict:
    verify = subprocess.run([str(BIN / "awm"), "verify", "--input", str(run_dir), "--mode", "code"],
                            cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr[-3000:]
    return json.loads((run_dir / "verify.code.json").read_text())
