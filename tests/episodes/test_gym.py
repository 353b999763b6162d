"""The gym-style API: Gymnasium's signatures, termination, truncation, determinism."""

import pytest

from phinance_env.episodes.gym import PhinanceEnv
from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.policies import OraclePolicy
from phinance_env.episodes.protocol import LIST_TOOLS_MESSAGE


@pytest.fixture
def env(data_dir, tmp_path):
    e = PhinanceEnv(data_dir=data_dir, max_turns=4, work_dir=tmp_path)
    yield e
    e.close()


def test_contract_and_oracle_reward(env, data_dir):
    import asyncio

    obs, info = env.reset(options={"task_id": 3})
    assert set(obs) == {"messages"} and obs["messages"][1]["content"] == info["task"]
    assert len(info["tools"]) == 22
    oracle = OraclePolicy(load_scenario_data("phinance_01", data_dir).solutions[3])
    terminated = truncated = False
    while not (terminated or truncated):
        action = asyncio.new_event_loop().run_until_complete(oracle.act(obs["messages"]))
        obs, reward, terminated, truncated, info = env.step(action)
        assert isinstance(reward, float) and isinstance(info, dict)
    assert terminated and not truncated and reward == 1.0 and info["result"] == "complete"
    assert not info["truncated"] and info["error_kind"] is None


def test_truncation_and_reset_isolation(env):
    env.reset(options={"task_id": 3})
    for _ in range(3):
        _, reward, terminated, truncated, _ = env.step(LIST_TOOLS_MESSAGE)
        assert (reward, terminated, truncated) == (0.0, False, False)
    _, reward, terminated, truncated, info = env.step(LIST_TOOLS_MESSAGE)
    assert truncated and not terminated and reward == 0.0 and info["error_kind"] == "max_turns"
    assert info["truncated"] and info["result"] == "others"  # verified: no watchlist was made
    obs, info = env.reset(options={"task_id": 0})
    assert len(obs["messages"]) == 2 and info["task_id"] == 0


def test_seeded_reset_is_deterministic_over_every_task(data_dir, tmp_path):
    a = PhinanceEnv(data_dir=data_dir, work_dir=tmp_path / "a")
    b = PhinanceEnv(data_dir=data_dir, work_dir=tmp_path / "b")
    try:
        picks = [(a.reset(seed=s)[1]["task_id"], b.reset(seed=s)[1]["task_id"]) for s in range(20)]
        assert all(x == y for x, y in picks) and len({x for x, _ in picks}) > 3
        for task_id in range(12):
            obs_a, _ = a.reset(options={"task_id": task_id})
            obs_b, _ = b.reset(options={"task_id": task_id})
            assert obs_a == obs_b
            out_a = a.step("Final answer: nothing done.")
            out_b = b.step("Final answer: nothing done.")
            assert out_a[1:4] == out_b[1:4] == (0.0, True, False)
    finally:
        a.close()
        b.close()


def test_an_env_makes_its_folder_at_first_reset_and_removes_it_at_close(data_dir, monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the env's own folder lands here
    idle = PhinanceEnv(data_dir=data_dir)
    assert list(tmp_path.iterdir()) == []  # made by the hundred before the first reset: no folder yet
    idle.close()
    used = PhinanceEnv(data_dir=data_dir)
    used.reset(options={"task_id": 0})
    [folder] = tmp_path.iterdir()
    assert folder == used.work_dir and (folder / "episode").is_dir()
    used.close()
    assert list(tmp_path.iterdir()) == []
