"""The episode and rollout commands as a user runs them (real console script)."""

import json
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "phinance-env")


def test_episode_and_rollout_commands(cli_env, data_dir, tmp_path):
    folder = ["--data-dir", str(data_dir)]  # the session's export (the default exports one into the cache)
    out = subprocess.run([CLI, "episode", "--task-id", "3", "--sql-facts", *folder, "--out", str(tmp_path)],
                         capture_output=True, text=True, env=cli_env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    row = json.loads(out.stdout)
    assert row["reward"] == 1.0 and row["checks"]["exact_tickers"]
    run_dir = Path(row["run_dir"])
    facts = json.loads((run_dir / "verify.sql.json").read_text())
    assert facts["expected"]["name"] == "Healthcare Basket"
    assert [w["name"] for w in facts["state_changes"]["watchlists"]["added"]] == ["Healthcare Basket"]
    roll = subprocess.run([CLI, "rollout", "--tasks", "0,3", "--policy", "null", *folder, "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, env=cli_env, timeout=300)
    assert roll.returncode == 0, roll.stderr[-2000:]
    assert "success by tier" in roll.stdout and "2 episodes: success 0.000 (95% CI 0.000-0.658)" in roll.stdout
    assert len((tmp_path / "r" / "rollouts.jsonl").read_text().splitlines()) == 2
    base = subprocess.run([CLI, "rollout", "--base", "--split", "test", "--policy", "null", *folder, "--out", str(tmp_path / "t")],
                          capture_output=True, text=True, env=cli_env, timeout=300)
    assert base.returncode == 0 and "success by template" in base.stdout, base.stderr[-2000:]
    both = subprocess.run([CLI, "rollout", "--tasks", "0", "--base", "--out", str(tmp_path / "x")],
                          capture_output=True, text=True, env=cli_env, timeout=120)
    assert both.returncode == 2 and "not both" in both.stderr
    bad = subprocess.run([CLI, "rollout", "--tasks", "x,y", "--out", str(tmp_path / "b")],
                         capture_output=True, text=True, env=cli_env, timeout=120)
    assert bad.returncode == 2 and "--tasks" in bad.stderr
