"""Whole-process time of CLI commands: start-up (imports) plus the work, as a person or a
script calling ``phinance-env`` in a loop sees it.

Run from the repo root:  .venv/bin/python benchmarks/cli_startup.py [runs, default 7]

Each command runs once to warm the caches (bar store, XNYS sessions), then ``runs`` times.
Wall seconds are what a caller waits; CPU seconds (the child's user + system) are printed too,
since on a shared, busy machine wall time also counts the wait for a core. Quote the median.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI = str(Path(sys.executable).parent / "phinance-env")
TARGET_S = 1.3     # issue 11: the whole backtest process, at most
ORIGINAL_S = 26.8  # the original Phi-nance: 6 months of ^GSPC,^IXIC (its best case is 17 s)
COMMANDS = {
    "backtest": ["backtest", "^GSPC,^IXIC", "--start", "2010-01-01", "--end", "2018-12-31"],
    "help": ["--help"],
    "project": ["project", "^GSPC", "--as-of", "2018-06-29", "--json"],
}


def run(args: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one whole process."""
    before = os.times()
    t = time.perf_counter()
    subprocess.run([CLI, *args], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main(runs: int) -> None:
    print(f"## whole process, {runs} runs after one warm-up; load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':9} {'wall min':>9} {'median':>8} {'cpu min':>8} {'median':>8}  vs target {TARGET_S} s / original {ORIGINAL_S} s")
    for name, args in COMMANDS.items():
        run(args)
        walls, cpus = zip(*(run(args) for _ in range(runs)))
        wall = statistics.median(walls)
        ratios = f"{wall / TARGET_S:5.2f} x target, {ORIGINAL_S / wall:5.1f}x faster" if name == "backtest" else ""
        print(f"{name:9} {min(walls):8.3f}s {wall:7.3f}s {min(cpus):7.3f}s {statistics.median(cpus):7.3f}s  {ratios}")
    print(f"(command: phinance-env {' '.join(COMMANDS['backtest'])})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
