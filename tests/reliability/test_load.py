"""32 concurrent MCP clients, mixed reads and writes, for a bounded time against one
server: no errors, no "database is locked", deterministic answers; p99 is printed."""

import asyncio
import json
import os
import sqlite3
import time

import pytest

from tests.support import fresh_db, serve_process

pytestmark = pytest.mark.integration
CLIENTS = 32
SECONDS = float(os.environ.get("PHINANCE_SOAK_SECONDS", "8"))  # make soak: 120


async def client(url: str, i: int, stop_at: float, latencies: list, errors: list, answers: dict):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            k = 0
            while time.perf_counter() < stop_at:
                name = f"load {i} {k}"
                calls = [
                    ("get_projection", {"ticker": ["^GSPC", "NOVA", "PTRX"][k % 3], "as_of_date": "2017-06-30"}),
                    ("create_watchlist", {"name": name, "tickers": "NOVA"}),
                    ("add_watchlist_item", {"watchlist": name, "ticker": "QBIT"}),
                    ("list_watchlists", {}),
                    ("create_note", {"title": name, "body": "load test"}),
                    ("delete_watchlist", {"name": name}),
                    ("run_backtest", {"tickers": "^GSPC", "start": "2017-01-01", "end": "2017-12-31"}),
                ]
                for tool, args in calls:
                    t = time.perf_counter()
                    result = await session.call_tool(tool, args)
                    latencies.append(time.perf_counter() - t)
                    text = "\n".join(c.text for c in result.content if hasattr(c, "text"))
                    if result.isError:
                        errors.append(f"{tool}: {text[:200]}")
                    elif tool == "create_note":
                        answers.setdefault("notes", set()).add(name)
                    elif tool == "get_projection":
                        packet = json.loads(text)["packet"]
                        answers.setdefault(args["ticker"], set()).add(json.dumps(packet, sort_keys=True))
                    elif tool == "run_backtest":
                        report = {k: v for k, v in json.loads(text).items() if k != "run_id"}
                        answers.setdefault("backtest", set()).add(json.dumps(report, sort_keys=True))
                k += 1


def test_concurrent_clients(exported, cache_dir, tmp_path):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    latencies, errors, answers = [], [], {}
    with serve_process(db, cache_dir) as (_, url):
        from tests.support import mcp_calls

        # Warm up first (imports, bar series, projections), so the clock measures load.
        warm = mcp_calls(f"{url}/mcp", [("get_projection", {"ticker": t, "as_of_date": "2017-06-30"}) for t in ("^GSPC", "NOVA", "PTRX")])
        assert not any(w.is_error for w in warm)
        async def run():
            stop_at = time.perf_counter() + SECONDS
            await asyncio.gather(*(client(f"{url}/mcp", i, stop_at, latencies, errors, answers) for i in range(CLIENTS)))
        asyncio.run(run())
    assert not errors, errors[:5]
    assert not any("locked" in e for e in errors)
    notes_made = answers.pop("notes")
    assert all(len(v) == 1 for v in answers.values()) and "backtest" in answers  # same inputs, same outputs
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    print(f"\nload: {CLIENTS} clients, {len(latencies)} calls in {SECONDS:.0f} s, p50 {p50 * 1e3:.0f} ms, p99 {p99 * 1e3:.0f} ms")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM watchlists WHERE name LIKE 'load %'").fetchone()[0] == 0
        notes = conn.execute("SELECT COUNT(*) FROM notes WHERE title LIKE 'load %'").fetchone()[0]
        errors_logged = conn.execute("SELECT COUNT(*) FROM tool_calls WHERE status = 'error'").fetchone()[0]
    assert notes == len(notes_made) >= CLIENTS
    assert errors_logged == 0
