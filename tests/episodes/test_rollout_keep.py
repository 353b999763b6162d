"""``rollout --keep all|failed|none``: which episodes' run folders stay on disk. The rows in
rollouts.jsonl (and the report built from them) are the same whatever is kept."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from phinance_env.episodes.report import write_report
from phinance_env.episodes.rollout import RolloutConfig, rollout

CLI = str(Path(sys.executable).parent / "phinance-env")
TASKS = (0, 3, 10)
RUN_FILES = {"trajectory.json", "initial.db", "final.db", "verify.code.json"}


def run_both(data_dir, out: Path, keep: str, workers: int = 1) -> list[dict]:
    """The oracle (every reward 1.0) and the null policy (every reward 0.0) into one folder."""
    rows = []
    for policy in ("oracle", "null"):
        rows += rollout(RolloutConfig(data_dir=data_dir, out=out, tasks=TASKS, policy=policy, keep=keep, workers=workers))
    return rows


def files_under(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}


def comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "run_dir")} for r in rows]


@pytest.fixture(scope="module")
def runs(data_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("keep")
    return {keep: (root / keep, run_both(data_dir, root / keep, keep, workers=2 if keep == "none" else 1))
            for keep in ("all", "failed", "none")}


def test_keep_all_keeps_every_run_folder(runs):
    out, rows = runs["all"]
    assert len(rows) == 2 * len(TASKS)
    for row in rows:
        run_dir = Path(row["run_dir"])
        assert run_dir.parent.parent.parent == out and {p.name for p in run_dir.iterdir()} >= RUN_FILES
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name != "rollouts.jsonl")
    print(f"keep=all: {size / len(rows) / 1024:.0f} KiB per episode")


def test_keep_failed_keeps_only_episodes_below_full_reward(runs):
    out, rows = runs["failed"]
    assert sorted(r["reward"] for r in rows) == [0.0] * len(TASKS) + [1.0] * len(TASKS)
    for row in rows:
        if row["reward"] == 1.0:
            assert row["run_dir"] is None
        else:
            assert {p.name for p in Path(row["run_dir"]).iterdir()} >= RUN_FILES
    assert not (out / "phinance_01" / "oracle").exists()  # no empty folders left behind either
    assert {f for f in files_under(out) if f != "rollouts.jsonl"} == \
           {f"phinance_01/null/task{t:03d}_r000/{name}" for t in TASKS for name in RUN_FILES}


def test_keep_none_leaves_only_the_rows(runs):
    out, rows = runs["none"]
    assert all(r["run_dir"] is None for r in rows)
    assert files_under(out) == {"rollouts.jsonl"} and [p.name for p in out.iterdir()] == ["rollouts.jsonl"]
    written = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
    assert sorted((r["policy"], r["task_id"], r["reward"]) for r in written) == \
           sorted([("oracle", t, 1.0) for t in TASKS] + [("null", t, 0.0) for t in TASKS])
    assert all(r["messages"] for r in written)  # the trajectory's messages are still in the row

def headline(out: Path, target: Path) -> str:
    page = write_report(out, out=target).read_text()
    return page.split('<p id="headline">', 1)[1].split("</p>", 1)[0]


def test_the_report_is_the_same_whatever_is_kept(runs, tmp_path):
    lines = {keep: headline(out, tmp_path / f"{keep}.html") for keep, (out, _) in runs.items()}
    assert f"{2 * len(TASKS)} episodes &middot; success <b>0.500</b>" in lines["none"]
    assert lines["none"] == lines["failed"] == lines["all"]


def test_results_are_the_same_whatever_is_kept(runs):
    all_rows = comparable(runs["all"][1])
    assert comparable(runs["failed"][1]) == all_rows
    assert comparable(runs["none"][1]) == all_rows


def test_a_rerun_under_keep_none_runs_nothing_again(runs, data_dir):
    out, rows = runs["none"]
    again = run_both(data_dir, out, "none")
    assert comparable(again) == comparable(rows)
    assert len((out / "rollouts.jsonl").read_text().splitlines()) == len(rows)


def test_cli_keep(data_dir, tmp_path):
    folder = ["--data-dir", data_dir]
    bad = subprocess.run([CLI, "rollout", "--keep", "some", *folder, "--out", str(tmp_path / "bad")],
                         capture_output=True, text=True, timeout=120)
    message = " ".join(bad.stderr.replace("│", " ").split())  # typer's error box wraps lines
    assert bad.returncode == 2 and "Invalid value for '--keep'" in message, bad.stderr
    assert "'some' is not one of 'all', 'failed', 'none'" in message and not (tmp_path / "bad").exists()
    ok = subprocess.run([CLI, "rollout", "--tasks", "0,3", "--policy", "null", "--keep", "none", *folder,
                         "--out", str(tmp_path / "ok")], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "2 episodes: success 0.000" in ok.stdout and files_under(tmp_path / "ok") == {"rollouts.jsonl"}


def test_an_unknown_keep_mode_is_a_clear_error(data_dir, tmp_path):
    with pytest.raises(ValueError, match="keep='some': use one of all, failed, none"):
        rollout(RolloutConfig(data_dir=data_dir, out=tmp_path, tasks=(0,), keep="some"))
