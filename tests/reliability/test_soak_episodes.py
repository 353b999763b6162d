"""A long run through the shared host stays within bounds: many episodes on a few reused
``AsyncPhinanceEnv`` slots (as a trainer's rollout workers hold them), some abandoned
mid-way, some envs made and closed, with disk, memory, open files and threads measured
after a warm-up and at the end. ``make test`` runs a short soak; ``make soak`` runs 10,000
episodes (PHINANCE_SOAK_EPISODES)."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from phinance_env.episodes import AsyncPhinanceEnv
from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.host import shared_host
from phinance_env.episodes.policies import NullPolicy, OraclePolicy

EPISODES = int(os.environ.get("PHINANCE_SOAK_EPISODES", "300"))  # make soak: 10000
SLOTS = 16
WARM_UP = 0.3  # the share of episodes after which caches are full and the baseline is taken
RSS_SLACK_MIB = 48  # allocator noise; a leak of even 5 KB an episode shows at 10,000


def disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def rss_mib(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def children_rss_mib() -> float:
    """The backtest worker (and its forkserver): their memory counts too."""
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                total += rss_mib(pid)
            except FileNotFoundError:
                pass
    return total


def gauges(work: Path) -> dict[str, float]:
    return {"disk": disk_bytes(work), "files": len(os.listdir("/proc/self/fd")), "threads": threading.active_count(),
            "rss": rss_mib() + children_rss_mib()}


@pytest.mark.integration
def test_a_long_run_through_the_shared_host_keeps_disk_memory_and_open_files_flat(exported, tmp_path):
    data = load_scenario_data("phinance_01", str(exported))
    tasks = data.select(None, True)  # the stratified subset: every template, backtests included
    host = shared_host("phinance_01", "asgi")
    work = tmp_path / "work"
    rewards: dict[str, list[float]] = {"oracle": [], "null": []}
    abandoned, marks = 0, {}
    counter = iter(range(EPISODES))

    async def episode(env: AsyncPhinanceEnv, n: int) -> None:
        nonlocal abandoned
        task_id = tasks[n % len(tasks)]
        kind = "null" if n % 5 == 4 else "oracle"
        policy = NullPolicy() if kind == "null" else OraclePolicy(data.solutions[task_id])
        obs, _ = await env.reset(options={"task_id": task_id})
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = await env.step(await policy.act(obs["messages"]))
            done = terminated or truncated
            if n % 13 == 12 and not done:  # left mid-episode: the next reset abandons it
                abandoned += 1
                return
        rewards[kind].append(reward)

    async def slot(k: int) -> None:
        env = AsyncPhinanceEnv(data_dir=str(exported), work_dir=work / f"slot{k}")
        try:
            for n in counter:
                if n == int(EPISODES * WARM_UP):
                    marks["warm"] = gauges(work)
                if n % 97 == 96:  # a worker that replaces its env: a new one on the same host
                    await env.close()
                    env = AsyncPhinanceEnv(data_dir=str(exported), work_dir=work / f"slot{k}")
                await episode(env, n)
        finally:
            await env.close()

    async def soak() -> None:
        await asyncio.gather(*(slot(k) for k in range(SLOTS)))

    asyncio.run(soak())
    end = gauges(work)
    warm = marks["warm"]
    assert len(rewards["oracle"]) + len(rewards["null"]) + abandoned == EPISODES
    assert set(rewards["oracle"]) == {1.0} and set(rewards["null"]) == {0.0}
    assert host.bound == 0  # no episode's DB is still routed
    assert end["disk"] == 0 and not any(work.rglob("*.db"))  # closed slots leave their folders empty
    assert warm["disk"] <= SLOTS * 2 * data.initial_db.stat().st_size  # at most one DB copy per slot, live
    assert end["files"] <= warm["files"] + 4, (warm, end)
    assert end["threads"] <= warm["threads"] + 2, (warm, end)
    assert end["rss"] <= warm["rss"] + RSS_SLACK_MIB, (warm, end)
