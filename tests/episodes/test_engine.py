"""The one episode engine: the policy loop and the gym env drive the same step machine, a
truncated episode is still verified, run artifacts on request, and a broken verifier is
its own failure kind (real hosts, real MCP sessions, real verifier strings)."""

import ast
import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest

import phinance_env.episodes as episodes_pkg
from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.episode import rescore, run_episode
from phinance_env.episodes.gym import AsyncPhinanceEnv, PhinanceEnv
from phinance_env.episodes.host import EpisodeHost
from phinance_env.episodes.policies import OraclePolicy
from phinance_env.episodes.rollout import RolloutConfig, rollout, summarize

ARTIFACTS = {"trajectory.json", "initial.db", "final.db", "verify.code.json"}


def play(env: PhinanceEnv, task_id: int, solution, steps: int | None = None):
    """Reset to ``task_id`` and play the oracle's turns (all of them, or the first ``steps``)."""
    oracle, loop = OraclePolicy(solution), asyncio.new_event_loop()
    obs, _ = env.reset(options={"task_id": task_id})
    out, n = None, 0
    try:
        while out is None or not (out[2] or out[3]):
            if steps is not None and n == steps:
                break
            out = env.step(loop.run_until_complete(oracle.act(obs["messages"])))
            obs, n = out[0], n + 1
    finally:
        loop.close()
    return out


@pytest.fixture(scope="module")
def data(data_dir):
    return load_scenario_data("phinance_01", data_dir)


def test_a_truncated_state_only_episode_is_verified_and_can_earn_the_reward(data, data_dir, tmp_path):
    # Task 3 (create_watchlist) is judged on state alone: list_tools + create_watchlist
    # fill max_turns=2, no final answer comes, and the watchlist is already right.
    calls = len(data.solutions[3].calls)
    env = PhinanceEnv(data_dir=data_dir, max_turns=1 + calls, work_dir=tmp_path)
    try:
        _, reward, terminated, truncated, info = play(env, 3, data.solutions[3])
        assert (reward, terminated, truncated) == (1.0, False, True)
        assert info["truncated"] and info["error_kind"] == "max_turns" and info["result"] == "complete"
        assert info["checks"] and all(info["checks"].values())
        # Task 0 owes an answer: its projection is logged, but truncation leaves no answer.
        _, reward, terminated, truncated, info = play(env, 0, data.solutions[0])
        assert (reward, terminated, truncated) == (0.0, False, True)
        assert info["checks"]["projection_run_logged"] and not info["checks"]["answer_well_formed"]
    finally:
        env.close()


def test_run_episode_reports_truncation_too(data, data_dir, tmp_path):
    rows = rollout(RolloutConfig(data_dir=data_dir, tasks=(0, 3), max_turns=2, out=tmp_path / "runs"))
    by_task = {r["task_id"]: r for r in rows}
    assert by_task[3]["truncated"] and by_task[3]["error_kind"] == "max_turns" and by_task[3]["reward"] == 1.0
    assert by_task[0]["truncated"] and by_task[0]["reward"] == 0.0
    summary = summarize(rows)
    assert summary["truncated"] == 2 and summary["failures"] == {"ok": 1, "max_turns": 1}
    run_dir = Path(by_task[3]["run_dir"])  # re-scoring the written run agrees
    assert json.loads((run_dir / "trajectory.json").read_text())["truncated"] is True
    assert rescore(run_dir, data)["result"] == "complete"
    assert rescore(Path(by_task[0]["run_dir"]), data)["result"] == "others"


def test_the_gym_env_writes_run_artifacts_only_when_asked(data, data_dir, tmp_path):
    kept = PhinanceEnv(data_dir=data_dir, work_dir=tmp_path / "kept", keep_runs=True)
    try:
        _, reward, *_, info = play(kept, 4, data.solutions[4])
        run_dir = Path(info["run_dir"])
        assert reward == 1.0 and run_dir.parent == tmp_path / "kept"
        assert {p.name for p in run_dir.iterdir()} >= ARTIFACTS
        assert rescore(run_dir, data)["result"] == "complete"
        verify = json.loads((run_dir / "verify.code.json").read_text())
        assert verify["reward_type"] == verify["verify_result"]["result"] == "complete" and verify["reward"] == 1.0
    finally:
        kept.close()
    assert run_dir.is_dir()  # a work dir the caller gave is the caller's

    plain = PhinanceEnv(data_dir=data_dir, work_dir=tmp_path / "plain")
    try:
        _, reward, *_, info = play(plain, 4, data.solutions[4])
        assert reward == 1.0 and "run_dir" not in info
        play(plain, 3, data.solutions[3], steps=1)  # abandoned mid-way by the next reset
        play(plain, 5, data.solutions[5], steps=1)  # and this one by close()
        assert len(list((tmp_path / "plain").iterdir())) == 1
    finally:
        plain.close()
    assert list((tmp_path / "plain").iterdir()) == []


def test_close_removes_the_work_dir_the_env_created(data_dir):
    env = PhinanceEnv(data_dir=data_dir, keep_runs=True)
    work_dir = env.work_dir
    env.reset(options={"task_id": 0})
    env.step("Nothing to report.")
    assert any(work_dir.iterdir())
    env.close()
    env.close()  # twice is harmless
    assert not work_dir.exists()


def test_run_episode_and_the_gym_env_agree_on_every_template(data, data_dir, tmp_path, template_tasks):
    async def main():
        host = EpisodeHost("phinance_01", "asgi")
        env = AsyncPhinanceEnv(data_dir=data_dir, work_dir=tmp_path / "gym")
        try:
            for task_id in template_tasks:
                solution = data.solutions[task_id]
                res = await run_episode(host, data, task_id, OraclePolicy(solution), tmp_path / f"loop{task_id}")
                oracle = OraclePolicy(solution)
                obs, _ = await env.reset(options={"task_id": task_id})
                terminated = truncated = False
                while not (terminated or truncated):
                    obs, reward, terminated, truncated, info = await env.step(await oracle.act(obs["messages"]))
                assert (reward, info["result"], info["checks"], info["turns"], info["tool_calls"], info["error_kind"]) == \
                       (res.reward, res.result, res.checks, res.turns, res.tool_calls, res.error_kind), task_id
                assert reward == 1.0 and terminated and obs["messages"] == res.messages
        finally:
            await env.close()
            host.close()

    asyncio.run(main())


@pytest.fixture
def broken_folder(exported, tmp_path):
    """A copy of the data folder whose task-3 verifier string lost a key of its EXPECTED:
    the check raises, and the verifier says so (``error_kind: verifier_error``)."""
    folder = tmp_path / "outputs"
    shutil.copytree(exported, folder)
    path = folder / "gen_verifier.pure_code.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        if row["scenario"] == "phinance_01" and row["task_idx"] == 3:
            code = row["verification"]["code"]
            row["verification"]["code"] = re.sub(r"EXPECTED = json\.loads\(.*\)\n?$",
                                                 """EXPECTED = json.loads('{"template": "create_watchlist"}')\n""", code)
            assert row["verification"]["code"] != code
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_a_broken_verifier_is_a_verifier_error_not_a_wrong_answer(broken_folder, tmp_path):
    rows = rollout(RolloutConfig(data_dir=str(broken_folder), tasks=(0, 3), out=tmp_path / "runs"))
    by_task = {r["task_id"]: r for r in rows}
    bad = by_task[3]
    assert bad["error_kind"] == "verifier_error" and bad["reward"] == 0.0 and "KeyError" in bad["error"]
    assert by_task[0]["reward"] == 1.0 and by_task[0]["error_kind"] is None
    assert summarize(rows)["failures"] == {"ok": 1, "verifier_error": 1}
    verify = json.loads((Path(bad["run_dir"]) / "verify.code.json").read_text())
    # Upstream `awm verify` reads the same "others" from this file; our fields say why.
    assert verify["reward_type"] == verify["verify_result"]["result"] == "others"
    assert verify["verify_result"]["raw_result"]["error_kind"] == verify["error_kind"] == "verifier_error"

    # The gym env reports it alike, also when the episode was truncated.
    data = load_scenario_data("phinance_01", str(broken_folder))
    env = PhinanceEnv(data_dir=str(broken_folder), max_turns=2, work_dir=tmp_path / "gym")
    try:
        _, reward, _, truncated, info = play(env, 3, data.solutions[3])
        assert (reward, truncated, info["error_kind"]) == (0.0, True, "verifier_error")
    finally:
        env.close()


def test_no_module_imports_another_modules_private_names():
    root = Path(episodes_pkg.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("phinance_env"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"


def test_splits_and_the_base_subset_select_tasks(data_dir, tmp_path):
    """rollout --split/--base and the gym's reset options draw only from their tasks."""
    from phinance_env.episodes.data import load_scenario_data
    from phinance_env.episodes.gym import PhinanceEnv
    from phinance_env.episodes.rollout import RolloutConfig, rollout, summarize

    data = load_scenario_data("phinance_01", data_dir)
    test, base = set(data.select("test")), data.select(base=True)
    assert test and base and test.isdisjoint(data.select("train"))
    assert all(data.meta[t]["split"] == "test" for t in test) and all(data.meta[t]["base"] for t in base)
    env = PhinanceEnv(data_dir=data_dir)
    try:
        drawn = {env.reset(seed=s, options={"split": "test"})[1]["task_id"] for s in range(12)}
        assert drawn <= test and len(drawn) > 1
    finally:
        env.close()
    both = [t for t in base if t in test][:3]
    rows = rollout(RolloutConfig(data_dir=data_dir, split="test", base=True, policy="null", out=tmp_path / "r"))
    assert sorted({r["task_id"] for r in rows}) == sorted(t for t in base if t in test) and both
    summary = summarize(rows, data.meta)
    assert summary["overall"]["success"] == 0.0 and set(summary["by_tier"]) <= {"1", "2", "3"}
