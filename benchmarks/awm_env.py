"""AWM environment benchmarks, each beside a one-route toy AWM env started the same way.

* ``awm env start`` to the first tool answer (list_tickers / the toy's ping);
* MCP round trips through the AWM-started server: list_tickers, get_projection (warm),
  run_backtest (2 tickers, 3 years), beside the toy route (the floor); p50 / p99.

Run from the repo root after ``phinance-env export``:  .venv/bin/python benchmarks/awm_env.py
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TOY = '''from fastapi import FastAPI
import uvicorn
from sqlalchemy import create_engine

engine = create_engine("sqlite:///toy.db")
app = FastAPI()


@app.get("/ping", operation_id="ping")
def ping() -> dict:
    """Answer pong."""
    return {"pong": True}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=8001)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def first_answer(url: str, tool: str, deadline: float) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    while time.perf_counter() < deadline:
        try:
            async with streamablehttp_client(url) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    result = await session.call_tool(tool, {})
                    if not result.isError:
                        return
        except Exception:  # noqa: BLE001 - not up yet
            await asyncio.sleep(0.05)
    raise TimeoutError(url)


def start(cwd: Path, scenario: str, envs: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([str(BIN / "awm"), "env", "start", "--scenario", scenario, "--envs_load_path", envs,
                             "--port", str(port)], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}/mcp"


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


def time_to_first_answer(cwd: Path, scenario: str, envs: str, tool: str) -> float:
    t0 = time.perf_counter()
    proc, url = start(cwd, scenario, envs)
    try:
        asyncio.run(first_answer(url, tool, t0 + 120))
        return time.perf_counter() - t0
    finally:
        stop(proc)


async def round_trips(url: str, calls: list[tuple[str, dict, int]]) -> dict[str, list[float]]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    out: dict[str, list[float]] = {}
    async with streamablehttp_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for name, args, n in calls:
                variants = args if isinstance(args, list) else [args]
                await session.call_tool(name, variants[0])  # warm
                times = []
                for i in range(n):
                    t = time.perf_counter()
                    result = await session.call_tool(name, variants[(i + 1) % len(variants)])
                    times.append(time.perf_counter() - t)
                    assert not result.isError, result.content
                out[name] = times
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main(repeats: int = 3) -> None:
    repo = Path.cwd()
    toy_dir = Path(tempfile.mkdtemp(prefix="toy-awm-"))
    (toy_dir / "toy.db").touch()
    (toy_dir / "envs.jsonl").write_text(json.dumps({"scenario": "toy", "db_path": "toy.db", "full_code": TOY}) + "\n")
    ours, toy = [], []
    for _ in range(repeats):
        toy.append(time_to_first_answer(toy_dir, "toy", "envs.jsonl", "ping"))
        ours.append(time_to_first_answer(repo, "phinance_01", "gen_envs_finance.jsonl", "list_tickers"))
    print("## awm env start -> first tool answer (median of %d)" % repeats)
    print(f"toy one-route env: {statistics.median(toy):.2f} s   phinance_01: {statistics.median(ours):.2f} s   "
          f"ratio {statistics.median(ours) / statistics.median(toy):.2f}x (target <= 1.3x)")

    print("\n## MCP round trip through the AWM-started server (p50 / p99, ms)")
    toy_proc, toy_url = start(toy_dir, "toy", "envs.jsonl")
    our_proc, our_url = start(repo, "phinance_01", "gen_envs_finance.jsonl")
    try:
        asyncio.run(first_answer(toy_url, "ping", time.perf_counter() + 120))
        asyncio.run(first_answer(our_url, "list_tickers", time.perf_counter() + 120))
        floor = asyncio.run(round_trips(toy_url, [("ping", {}, 100)]))["ping"]
        ours_rt = asyncio.run(round_trips(our_url, [
            ("list_tickers", {}, 100),
            ("get_projection", {"ticker": "^GSPC", "as_of_date": "2018-06-29"}, 100),
            # distinct periods: the app caches identical backtests, and this measures real work
            ("run_backtest", [{"tickers": "^GSPC,^IXIC", "start": f"2016-01-{d:02d}", "end": "2018-12-31"}
                              for d in (4, 5, 6, 7, 8, 11)], 5),
        ]))
    finally:
        stop(toy_proc)
        stop(our_proc)
    f50 = pct(floor, 0.5)
    print(f"{'toy ping (floor)':28} {f50 * 1e3:8.2f} / {pct(floor, 0.99) * 1e3:8.2f}")
    for name, xs in ours_rt.items():
        print(f"{name:28} {pct(xs, 0.5) * 1e3:8.2f} / {pct(xs, 0.99) * 1e3:8.2f}   p50 = {pct(xs, 0.5) / f50:.2f}x floor")
    print("target: get_projection p50 within 2x of the floor")


if __name__ == "__main__":
    main()
