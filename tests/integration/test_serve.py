"""``phinance-env serve``: the same tools over MCP for any client, without AWM."""

import subprocess

import pytest

from tests.support import fresh_db, mcp_calls, mcp_list_tools, serve_process

pytestmark = pytest.mark.integration


def test_serve_answers_mcp_on_loopback(exported, cache_dir, tmp_path):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    with serve_process(db, cache_dir) as (_, base):
        url = f"{base}/mcp"
        assert len(mcp_list_tools(url)) == 22
        (ok, bad) = mcp_calls(url, [("list_tickers", {"tracked_only": True}), ("get_ticker", {"ticker": "??"})])
        assert not ok.is_error and ok.json()["count"] == 13
        assert bad.is_error and "not a valid symbol" in bad.text
        port = base.rsplit(":", 1)[1]
        listening = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout
        assert f"127.0.0.1:{port}" in listening and f"0.0.0.0:{port}" not in listening
