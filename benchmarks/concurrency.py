"""Many episodes in one process, as a trainer's agent loop holds them (verl, SkyRL): N
``AsyncPhinanceEnv`` slots running at once, each playing the oracle, with an optional think
time between turns (a model generating). Prints wall time, episodes/s, reset and step
latency percentiles, peak RSS, and the one-after-another rate of the same episodes in the
same run (the ratio is the figure to read: this VM's speed wanders +-20%).

Run from the repo root:
    .venv/bin/python benchmarks/concurrency.py                  # 256 slots, 0 s and 5 s think
    .venv/bin/python benchmarks/concurrency.py --slots 1024 --think 5 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from phinance_env.episodes import AsyncPhinanceEnv
from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.policies import OraclePolicy

BASE = tuple(range(12))  # the hand-listed tasks, one per original template (benchmarks/episodes.py too)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def slot(k: int, rounds: int, think: float, jitter: float, data, resets: list, steps: list,
               rewards: list) -> None:
    rng = random.Random(k)  # seeded per slot: the same think times every run
    env = AsyncPhinanceEnv()
    try:
        for r in range(rounds):
            task_id = BASE[(k + r) % len(BASE)]
            oracle = OraclePolicy(data.solutions[task_id])
            t = time.perf_counter()
            obs, _ = await env.reset(options={"task_id": task_id})
            resets.append(time.perf_counter() - t)
            done = False
            while not done:
                action = await oracle.act(obs["messages"])
                if think:  # a model generating: lengths vary, so calls do not arrive in lockstep
                    await asyncio.sleep(think * rng.uniform(1 - jitter, 1 + jitter))
                t = time.perf_counter()
                obs, reward, terminated, truncated, _ = await env.step(action)
                steps.append(time.perf_counter() - t)
                done = terminated or truncated
            rewards.append(reward)
    finally:
        await env.close()


async def concurrent(slots: int, rounds: int, think: float, jitter: float) -> dict:
    data = load_scenario_data("phinance_01")
    resets, steps, rewards = [], [], []
    t = time.perf_counter()
    await asyncio.gather(*(slot(k, rounds, think, jitter, data, resets, steps, rewards) for k in range(slots)))
    wall = time.perf_counter() - t
    if any(r != 1.0 for r in rewards):
        raise SystemExit(f"an oracle episode scored {min(rewards)}: the benchmark measures nothing then")
    return {"wall": wall, "eps": len(rewards) / wall, "episodes": len(rewards),
            "reset50": pct(resets, 50), "reset99": pct(resets, 99), "step50": pct(steps, 50), "step99": pct(steps, 99)}


async def sequential(episodes: int) -> float:
    """One slot, the same tasks one after another: the rate concurrency is held against."""
    data = load_scenario_data("phinance_01")
    t = time.perf_counter()
    await slot(0, episodes, 0.0, 0.0, data, [], [], [])
    return episodes / (time.perf_counter() - t)


async def fairness(cheap_slots: int, heavy_slots: int, seconds: float) -> dict:
    """Cheap calls' latency while ``heavy_slots`` episodes run uncached GARCH backtests back
    to back (each a different period, so no cache helps): what one slow call costs the others."""
    from phinance_env.episodes.engine import Episode
    from phinance_env.episodes.host import shared_host

    data = load_scenario_data("phinance_01")
    host = shared_host("phinance_01")
    cheap, heavy, stop = [], [], time.perf_counter() + seconds

    async def run(k: int, is_heavy: bool) -> None:
        episode = Episode(host, data, 0, Path(tempfile.mkdtemp(prefix="bench-fair-")), record=False, max_turns=1000)
        await episode.start()
        rng, n = random.Random(k), 0
        while time.perf_counter() < stop and episode.result.turns < 200:
            t = time.perf_counter()
            if is_heavy:
                n += 1
                start = f"{2009 + (k * 7 + n) % 6}-0{1 + n % 9}-0{1 + k % 9}"
                reply = await episode.call_tool("run_backtest", {"tickers": "^GSPC,^IXIC", "start": start,
                                                                 "end": "2018-06-29", "model": "garch"})
                heavy.append(time.perf_counter() - t)
            else:
                reply = await episode.call_tool("get_ticker", {"ticker": rng.choice(["^GSPC", "NOVA", "^IXIC"])})
                cheap.append(time.perf_counter() - t)
                await asyncio.sleep(0.25)
            if reply.is_error:
                raise SystemExit(f"benchmark call failed: {reply.text}")
        await episode.close()
        shutil.rmtree(episode.run_dir, ignore_errors=True)

    await asyncio.gather(*(run(k, k < heavy_slots) for k in range(heavy_slots + cheap_slots)))
    return {"cheap50": pct(cheap, 50), "cheap99": pct(cheap, 99), "cheap": len(cheap),
            "heavy": len(heavy), "heavy50": pct(heavy, 50) if heavy else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2, help="episodes per slot")
    parser.add_argument("--think", type=float, action="append", help="mean seconds between turns (repeatable)")
    parser.add_argument("--jitter", type=float, default=0.5,
                        help="think times drawn uniformly in think*(1 +- jitter); 0 = every slot in lockstep")
    parser.add_argument("--fairness", type=float, default=20.0,
                        help="seconds of cheap calls beside uncached backtests (0: skip)")
    args = parser.parse_args()
    thinks = args.think or [0.0, 5.0]
    asyncio.run(sequential(24))  # warm-up: imports, bar store, model caches
    seq = asyncio.run(sequential(120))
    print(f"one after another: {seq:.1f} episodes/s")
    print(f"{'slots':>5} {'think':>5} {'wall s':>7} {'eps/s':>6} {'vs seq':>6} {'reset p50/p99 s':>16} "
          f"{'step p50/p99 s':>15} {'peak RSS MiB':>12}")
    for think in thinks:
        m = asyncio.run(concurrent(args.slots, args.rounds, think, args.jitter))
        print(f"{args.slots:>5} {think:>5.1f} {m['wall']:>7.1f} {m['eps']:>6.1f} {m['eps'] / seq:>6.2f} "
              f"{m['reset50']:>7.3f}/{m['reset99']:<8.3f} {m['step50']:>6.3f}/{m['step99']:<8.3f} {peak_rss_mib():>12.0f}")
    if args.fairness:
        print("cheap calls (get_ticker, 16 slots, 0.25 s apart) beside episodes running uncached GARCH backtests:")
        for heavy in (0, 1, 2):
            f = asyncio.run(fairness(16, heavy, args.fairness))
            print(f"  {heavy} heavy: cheap p50 {f['cheap50'] * 1000:.1f} ms, p99 {f['cheap99'] * 1000:.1f} ms "
                  f"over {f['cheap']} calls; {f['heavy']} backtests, p50 {f['heavy50']:.2f} s")


if __name__ == "__main__":
    main()
