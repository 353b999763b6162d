"""Faults: kill -9 during writes, read-only and full disks, a corrupted bar store."""

import asyncio
import os
import resource
import shutil
import signal
import sqlite3
import time

import pytest

from tests.support import fresh_db, mcp_calls, serve_process

pytestmark = pytest.mark.integration


def integrity(db):
    with sqlite3.connect(db) as conn:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        half = conn.execute(
            "SELECT COUNT(*) FROM backtest_runs r WHERE r.n_folds != (SELECT COUNT(*) FROM backtest_folds f WHERE f.run_id = r.id)"
        ).fetchone()[0]
        orphans = conn.execute("SELECT COUNT(*) FROM watchlist_items i LEFT JOIN watchlists w ON w.id = i.watchlist_id"
                               " WHERE w.id IS NULL").fetchone()[0]
    return ok, half, orphans


async def _hammer(url: str, seconds: float) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    deadline = time.perf_counter() + seconds
    try:
        async with streamablehttp_client(url) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                k = 0
                while time.perf_counter() < deadline:
                    start = ["2015-01-01", "2016-01-01", "2017-01-01"][k % 3]
                    await session.call_tool("run_backtest", {"tickers": "^GSPC,^IXIC,NOVA", "start": start, "end": "2018-12-31"})
                    await session.call_tool("create_watchlist", {"name": f"kill {k}", "tickers": "NOVA,QBIT,HELX"})
                    await session.call_tool("remove_watchlist_item", {"watchlist": f"kill {k}", "ticker": "QBIT"})
                    k += 1
    except BaseException:  # noqa: BLE001 - the server is killed under us on purpose
        pass


@pytest.mark.parametrize("delay", [0.7, 1.3, 2.1])
def test_kill_9_during_writes_leaves_a_consistent_db(exported, cache_dir, tmp_path, delay):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    with serve_process(db, cache_dir) as (proc, url):
        mcp_calls(f"{url}/mcp", [("list_tickers", {})])

        async def run():
            task = asyncio.create_task(_hammer(f"{url}/mcp", 10))
            await asyncio.sleep(delay)
            os.killpg(proc.pid, signal.SIGKILL)
            await asyncio.wait_for(task, 30)
        asyncio.run(run())
    assert integrity(db) == ("ok", 0, 0)
    with serve_process(db, cache_dir) as (_, url):  # it restarts and serves the same state
        (result,) = mcp_calls(f"{url}/mcp", [("list_watchlists", {})])
        assert not result.is_error


def test_read_only_db_gives_a_clear_error_on_every_call(exported, cache_dir, tmp_path):
    import subprocess

    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    before = db.read_bytes()
    # chattr +i: read-only even for root, who ignores file modes.
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this filesystem")
    try:
        with serve_process(db, cache_dir) as (_, url):
            write, read = mcp_calls(f"{url}/mcp", [("create_watchlist", {"name": "ro"}), ("get_ticker", {"ticker": "NOVA"})])
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    for result in (write, read):  # every call writes its log line, so reads fail too, clearly
        assert result.is_error and "state database unavailable" in result.text and "readonly" in result.text
    assert db.read_bytes() == before


def test_missing_db_is_a_clear_startup_error(cache_dir, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([str(Path(sys.executable).parent / "phinance-env"), "serve", "--db", str(tmp_path / "none.db")],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir)})
    assert out.returncode == 2 and "does not exist" in out.stderr


def test_full_disk_gives_a_clear_error_and_loses_nothing(exported, cache_dir, tmp_path):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    limit = db.stat().st_size + 64 * 1024

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    body = "x" * 9_000
    with serve_process(db, cache_dir, preexec_fn=cap) as (_, url):
        results = mcp_calls(f"{url}/mcp", [("create_note", {"title": f"n{i}", "body": body}) for i in range(40)])
    failed = [r for r in results if r.is_error]
    assert failed and "state database unavailable" in failed[0].text
    assert any(m in failed[0].text for m in ("disk is full", "disk I/O error"))
    ok = sum(not r.is_error for r in results)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM notes WHERE title LIKE 'n%'").fetchone()[0] == ok


def test_corrupted_bar_store_is_a_clear_error_not_a_silent_rebuild(exported, cache_dir, tmp_path):
    from phinance_env.app.client import AppClient, ToolError
    from tests.support import phinance_app

    store_dir = tmp_path / "cache"
    store_dir.mkdir()
    shutil.copy(cache_dir / "bars.db", store_dir / "bars.db")
    with open(store_dir / "bars.db", "r+b") as f:
        f.seek(0)
        f.write(b"this is not a database" * 100)
    os.environ["PHINANCE_CACHE_DIR"] = str(store_dir)
    from phinance_env.settings import get_settings

    get_settings.cache_clear()
    try:
        db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
        client = AppClient(phinance_app(db, mcp=False))
        with pytest.raises(ToolError) as err:
            client.call("list_tickers", {})
        assert err.value.status == 503 and "corrupt" in err.value.detail and "bars.db" in err.value.detail
    finally:
        os.environ["PHINANCE_CACHE_DIR"] = str(cache_dir)
        get_settings.cache_clear()


def test_stale_export_is_refused(exported, cache_dir, tmp_path):
    """A state DB exported against other bar data: a clear error, not answers that its
    verifiers would score against different ground truth."""
    from phinance_env.app.client import AppClient, ToolError
    from phinance_env.app.factory import create_app
    from phinance_env.state import state_engine

    store = tmp_path / "bars.db"
    shutil.copy(cache_dir / "bars.db", store)
    with sqlite3.connect(store) as conn:  # as a rebuild from changed data would record it
        conn.execute("UPDATE meta SET value = 'feedfacefeedface' WHERE key = 'builtin_fingerprint'")
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path / "state")
    client = AppClient(create_app(state_engine(db), "phinance_01", store))
    with pytest.raises(ToolError) as err:
        client.call("get_projection", {"ticker": "NOVA"})
    assert err.value.status == 503 and "changed since this state DB was exported" in err.value.detail
    fresh = AppClient(create_app(state_engine(fresh_db(exported / "databases" / "phinance_01.db", tmp_path / "ok")),
                                 "phinance_01", cache_dir / "bars.db"))
    assert fresh.call("get_ticker", {"ticker": "NOVA"})["symbol"] == "NOVA"
