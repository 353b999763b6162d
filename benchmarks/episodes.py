"""Episode throughput on this machine: oracle episodes per second with the asgi and mcp
transports (warm hosts, rollout worker pool), reset (DB copy) time, peak memory per worker.

Run from the repo root:  .venv/bin/python benchmarks/episodes.py
"""

from __future__ import annotations

import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.rollout import RolloutConfig, rollout


def rate(transport: str, workers: int, repeats: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-rollout-"))
    rollout(RolloutConfig(transport=transport, workers=workers, repeats=1, out=out / "warm"))  # caches, imports
    t = time.perf_counter()
    rows = rollout(RolloutConfig(transport=transport, workers=workers, repeats=repeats, out=out / "timed"))
    secs = time.perf_counter() - t
    assert all(r["reward"] == 1.0 for r in rows), [r for r in rows if r["reward"] != 1.0][:1]
    shutil.rmtree(out, ignore_errors=True)
    return len(rows) / secs


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
    for transport, target in (("asgi", 50), ("mcp", 10)):
        for workers in (1, 2):
            r = rate(transport, workers, repeats=5)
            print(f"oracle episodes/s, {transport:4}, {workers} worker(s): {r:6.1f}  (target >= {target}/s on 2 cores)")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: in-process worker {peak_self:.0f} MiB, largest pool worker {peak_children:.0f} MiB")
