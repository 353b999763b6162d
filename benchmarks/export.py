"""Export cost on this machine: the time to export every registered scenario into one AWM
data folder, bytes per task of the verifier strings, and the time to load the folder as an
episode does (``load_scenario_data``). Task counts grow by the thousand; these must not.

Run from the repo root:  .venv/bin/python benchmarks/export.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from phinance_env.awm.export import export
from phinance_env.desks import desks
from phinance_env.episodes.data import load_scenario_data


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "outputs"
        t = time.perf_counter()
        export(out)
        export_s = time.perf_counter() - t
        print(f"export of {', '.join(desks())}: {export_s:.2f} s (bar store and models warm after the first)")
        for name in ("gen_verifier.pure_code", "gen_verifier", "gen_solutions", "gen_tasks"):
            path = out / f"{name}.jsonl"
            rows = [json.loads(line) for line in path.read_text().splitlines()]
            n_tasks = sum(len(r["tasks"]) for r in rows) if name == "gen_tasks" else len(rows)
            print(f"  {name}.jsonl: {path.stat().st_size / 1024:,.1f} KiB, {path.stat().st_size / n_tasks:,.0f} bytes per task")
        for name in desks():
            load_scenario_data.cache_clear()
            t = time.perf_counter()
            data = load_scenario_data(name, str(out))
            print(f"  load {name} ({len(data.tasks)} tasks): {1000 * (time.perf_counter() - t):.1f} ms")


if __name__ == "__main__":
    main()
