"""Many episodes, one host: concurrent envs of a scenario share the process's tool host and
stay isolated, each on its own state DB, over both transports; heavy work in a worker
process gives the same numbers as in the caller's."""

import asyncio
import sqlite3

import httpx
import pytest

from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.engine import Episode
from phinance_env.episodes.gym import AsyncPhinanceEnv
from phinance_env.episodes.host import EPISODE_HEADER, shared_host
from phinance_env.episodes.policies import OraclePolicy

WATCHLIST_TASK = 3  # the hand-listed create_watchlist task: it writes state


def watchlists(db) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM watchlists ORDER BY name")]


def logged_calls(db) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COUNT(*) FROM tool_calls").fetchone()[0]


async def play(env: AsyncPhinanceEnv, data, oracle: bool):
    obs, _ = await env.reset(options={"task_id": WATCHLIST_TASK})
    policy = OraclePolicy(data.solutions[WATCHLIST_TASK])
    while True:
        action = await policy.act(obs["messages"]) if oracle else "Done: nothing needed."
        obs, reward, terminated, truncated, info = await env.step(action)
        if terminated or truncated:
            return reward, info


def test_concurrent_envs_share_one_host_and_each_writes_only_its_own_db(data_dir, tmp_path):
    data = load_scenario_data("phinance_01", data_dir)
    initial_names, initial_calls = watchlists(data.initial_db), logged_calls(data.initial_db)

    async def main():
        envs = [AsyncPhinanceEnv(data_dir=data_dir, work_dir=tmp_path / f"env{k}", keep_runs=True) for k in range(16)]
        try:
            assert len({id(e.host) for e in envs}) == 1  # one app, one set of caches
            return await asyncio.gather(*(play(e, data, oracle=k % 2 == 0) for k, e in enumerate(envs)))
        finally:
            await asyncio.gather(*(e.close() for e in envs))

    outcomes = asyncio.run(main())
    for k, (reward, info) in enumerate(outcomes):
        final = tmp_path / f"env{k}" / "episode000001" / "final.db"
        names = watchlists(final)
        if k % 2 == 0:  # the oracle: its watchlist, and only its own calls in its log
            assert reward == 1.0 and len(names) == len(initial_names) + 1
            assert logged_calls(final) == initial_calls + info["tool_calls"]
        else:  # null, at the same moment on the same host: untouched
            assert reward == 0.0 and names == initial_names and logged_calls(final) == initial_calls


def test_http_sessions_on_one_server_stay_isolated_and_unknown_episodes_are_refused(data_dir, tmp_path):
    data = load_scenario_data("phinance_01", data_dir)
    host = shared_host("phinance_01", "mcp")

    async def one(k: int, oracle: bool):
        episode = Episode(host, data, WATCHLIST_TASK, tmp_path / f"ep{k}", policy="oracle" if oracle else "null")
        await episode.start()
        policy = OraclePolicy(data.solutions[WATCHLIST_TASK])
        while not episode.done:
            await episode.step(await policy.act(episode.messages) if oracle else "Nothing to do.")
        return episode.result.reward, watchlists(episode.final)

    async def main():
        return await asyncio.gather(*(one(k, k < 3) for k in range(6)))

    results = asyncio.run(main())
    assert [r for r, _ in results] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert all(names == watchlists(data.initial_db) for _, names in results[3:])
    assert host.bound == 0  # every session released its binding
    refused = httpx.post(host.url, headers={EPISODE_HEADER: "no-such-episode"}, json={})
    assert refused.status_code == 410 and "episode" in refused.json()["detail"]


@pytest.mark.parametrize("model", ["ewma"])
def test_backtests_in_the_worker_process_equal_the_callers(store, model):
    from concurrent.futures import ThreadPoolExecutor

    from phinance_env.app.context import AppContext
    from phinance_env.app.offload import Offload
    from phinance_env.backtest import WalkForwardConfig, run_backtest
    from sqlalchemy import create_engine

    ctx = AppContext(create_engine("sqlite://"), store.path)
    ctx.offload = Offload()
    args = (["^GSPC", "NOVA"], "2015-01-01", "2016-12-30", model, WalkForwardConfig(), 0.52)
    try:
        with ThreadPoolExecutor(4) as pool:  # identical requests at once: one computation, one answer
            reports = list(pool.map(lambda _: ctx.backtest(*args), range(4)))
    finally:
        ctx.offload.close()
    direct = run_backtest(store, *args)
    assert all(r is reports[0] for r in reports)
    assert reports[0].model_dump() == direct.model_dump()
