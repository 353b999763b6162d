"""``phinance-env serve``: the same tools over MCP for any client, without AWM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import fresh_db, free_port, mcp_calls, mcp_list_tools

pytestmark = pytest.mark.integration


def test_serve_answers_mcp_on_loopback(exported, cache_dir, tmp_path):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "phinance-env"), "serve", "--port", str(port), "--db", str(db)],
                            env={**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("serve did not start")
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/mcp"
        assert len(mcp_list_tools(url)) == 22
        (ok, bad) = mcp_calls(url, [("list_tickers", {"tracked_only": True}), ("get_ticker", {"ticker": "??"})])
        assert not ok.is_error and ok.json()["count"] == 13
        assert bad.is_error and "not a valid symbol" in bad.text
        listening = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
        assert f"127.0.0.1:{port}" in listening and f"0.0.0.0:{port}" not in listening
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
