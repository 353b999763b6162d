"""Episode throughput on this machine: oracle episodes per second with the asgi and mcp
transports (rollouts, and the gym env on the same engine), reset (DB copy) time, peak
memory per worker.

Steady state is what a trainer sees: the worker pool and its hosts live across rollouts,
so the timed rollout follows a warm-up rollout. The first rollout of a process also pays
for starting the workers (imports, model caches); it is printed too.

Run from the repo root:  .venv/bin/python benchmarks/episodes.py
"""

from __future__ import annotations

import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from phinance_env.episodes import AsyncPhinanceEnv, RolloutConfig, rollout, shutdown_workers
from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.policies import OraclePolicy


BASE = tuple(range(12))  # the hand-listed base tasks, one per original template: figures stay comparable


def timed(transport: str, workers: int, repeats: int, out: Path) -> float:
    t = time.perf_counter()
    rows = rollout(RolloutConfig(transport=transport, workers=workers, repeats=repeats, out=out, tasks=BASE))
    secs = time.perf_counter() - t
    assert all(r["reward"] == 1.0 for r in rows), [r for r in rows if r["reward"] != 1.0][:1]
    return len(rows) / secs


def rates(transport: str, workers: int, repeats: int) -> tuple[float, float]:
    """(first rollout, steady state) episodes per second."""
    out = Path(tempfile.mkdtemp(prefix="bench-rollout-"))
    first = timed(transport, workers, 1, out / "first")
    steady = timed(transport, workers, repeats, out / "steady")
    shutil.rmtree(out, ignore_errors=True)
    return first, steady


def gym_rate(repeats: int) -> float:
    """Oracle episodes per second through the gym env (in-process, asgi, no run files kept)."""
    import asyncio

    data = load_scenario_data("phinance_01")

    async def play(env: AsyncPhinanceEnv, rounds: int) -> int:
        for _ in range(rounds):
            for task_id in BASE:
                oracle = OraclePolicy(data.solutions[task_id])
                obs, _ = await env.reset(options={"task_id": task_id})
                done = False
                while not done:
                    obs, reward, terminated, truncated, _ = await env.step(await oracle.act(obs["messages"]))
                    done = terminated or truncated
                assert reward == 1.0, task_id
        return rounds * len(BASE)

    async def main() -> float:
        env = AsyncPhinanceEnv()
        try:
            await play(env, 1)  # warm-up: model caches, tool list
            t = time.perf_counter()
            n = await play(env, repeats)
            return n / (time.perf_counter() - t)
        finally:
            await env.close()

    return asyncio.run(main())


def reset_time() -> float:
    data = load_scenario_data("phinance_01")
    tmp = Path(tempfile.mkdtemp(prefix="bench-reset-"))
    times = []
    for i in range(200):
        t = time.perf_counter()
        shutil.copyfile(data.initial_db, tmp / f"{i}.db")
        times.append(time.perf_counter() - t)
    shutil.rmtree(tmp, ignore_errors=True)
    return statistics.median(times)


if __name__ == "__main__":
    size = load_scenario_data("phinance_01").initial_db.stat().st_size
    print(f"reset (copy of the {size / 1024:.0f} KiB initial DB), median: {reset_time() * 1e3:.2f} ms")
    print("oracle episodes/s, steady state over 12 tasks x N repeats (the process's first rollout in brackets)")
    for transport, target, repeats in (("asgi", 50, 30), ("mcp", 10, 10)):
        for workers in (1, 2):
            first, steady = rates(transport, workers, repeats)
            print(f"  {transport:4}, {workers} worker(s), N={repeats}: {steady:6.1f}  [{first:5.1f}]  (target >= {target}/s on 2 cores)")
            shutdown_workers()  # each configuration starts its own workers, and they are counted below
    print(f"  gym env (asgi, in-process), N=30: {gym_rate(30):6.1f}")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: in-process worker {peak_self:.0f} MiB, largest pool worker {peak_children:.0f} MiB")
