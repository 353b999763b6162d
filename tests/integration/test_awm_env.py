"""The environment as an AWM user runs it: the real ``awm`` CLI starts our env row as a
subprocess on a free 127.0.0.1 port; ``awm env check`` and a real MCP client talk to it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import awm_env_start, mcp_calls, mcp_list_tools

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
EXPECTED_TOOLS = {
    "list_tickers", "get_ticker", "get_price_history", "get_projection", "compare_projections",
    "run_backtest", "list_projection_runs", "get_projection_run", "list_backtest_runs",
    "get_backtest_run", "create_watchlist", "list_watchlists", "delete_watchlist",
    "add_watchlist_item", "remove_watchlist_item", "create_alert", "list_alerts", "delete_alert",
    "create_note", "list_notes", "track_ticker", "untrack_ticker",
}

# (tool, good arguments, bad arguments, words the error must contain), in an order where
# each good call's preconditions hold.
CASES = [
    ("list_tickers", {}, {"source": "fake"}, "is not one of"),
    ("get_ticker", {"ticker": "nova"}, {"ticker": "NOPE"}, "unknown ticker"),
    ("get_price_history", {"ticker": "^GSPC", "start": "2018-12-01", "end": "2018-12-31"},
     {"ticker": "^GSPC", "start": "2018-12-31", "end": "2018-12-01"}, "after end"),
    ("get_projection", {"ticker": "^GSPC", "as_of_date": "2018-06-29"}, {"ticker": "^GSPC", "as_of_date": "2018-02-30"}, "YYYY-MM-DD"),
    ("compare_projections", {"tickers": "NOVA,QBIT", "as_of_date": "2018-06-29"}, {"tickers": ""}, "empty"),
    ("run_backtest", {"tickers": '["^GSPC", "^IXIC"]', "start": "2016-01-01", "end": "2018-12-31"},
     {"tickers": "^GSPC", "start": "1999-01-04", "end": "1999-03-01"}, "too few sessions"),
    ("list_projection_runs", {"ticker": "^GSPC"}, {"limit": 0}, "minimum"),
    ("get_projection_run", {"run_id": 1}, {"run_id": 99999}, "no projection run"),
    ("list_backtest_runs", {}, {"offset": -1}, "minimum"),
    ("get_backtest_run", {"run_id": 1, "include_folds": False}, {"run_id": 424242}, "no backtest run"),
    ("create_watchlist", {"name": "Test List", "tickers": "NOVA"}, {"name": "Test List"}, "already exists"),
    ("list_watchlists", {}, {"unexpected": 1}, None),  # extra args are ignored by GET
    ("add_watchlist_item", {"watchlist": "Test List", "ticker": "QBIT"}, {"watchlist": "Nope", "ticker": "QBIT"}, "no watchlist"),
    ("remove_watchlist_item", {"watchlist": "Test List", "ticker": "QBIT"}, {"watchlist": "Test List", "ticker": "HELX"}, "not on watchlist"),
    ("delete_watchlist", {"name": "Test List"}, {"name": "Test List"}, "no watchlist"),
    ("create_alert", {"ticker": "NOVA", "metric": "sigma_bps", "operator": ">", "threshold": 200},
     {"ticker": "NOVA", "metric": "p_up", "operator": ">", "threshold": 2}, "out of range"),
    ("list_alerts", {"ticker": "NOVA"}, {"active_only": "maybe"}, "boolean"),
    ("delete_alert", {"alert_id": 1}, {"alert_id": 1}, "no alert"),
    ("create_note", {"title": "t", "body": "b", "projection_run_id": 1}, {"title": "t", "body": "b", "projection_run_id": 999}, "no projection run"),
    ("list_notes", {}, {"limit": 1000}, "maximum"),
    ("track_ticker", {"ticker": "RETL"}, {"ticker": "RETL"}, "already tracked"),
    ("untrack_ticker", {"ticker": "RETL"}, {"ticker": "RETL"}, "not tracked"),
]


@pytest.fixture(scope="module")
def awm_server(exported, cache_dir, tmp_path_factory):
    """``awm env start`` exactly as the README says, in a copy of the export (AWM serves the
    env row's db_path file itself, so the shared initial DB must not be the one it writes)."""
    import shutil

    workdir = tmp_path_factory.mktemp("awm-env")
    shutil.copytree(exported, workdir / "outputs")
    shutil.copy(exported.parent / "gen_envs_finance.jsonl", workdir)
    with awm_env_start(workdir, "phinance_01", {**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir)}) as url:
        yield url, workdir


def test_awm_env_check_sees_every_tool(awm_server):
    url, _ = awm_server
    out = subprocess.run([str(BIN / "awm"), "env", "check", "--url", url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    log = out.stdout + out.stderr
    assert "Server is running" in log and f"Tools count: {len(EXPECTED_TOOLS)}" in log


def test_mcp_lists_all_tools_with_descriptions_and_schemas(awm_server):
    url, _ = awm_server
    tools = {t.name: t for t in mcp_list_tools(url)}
    assert set(tools) == EXPECTED_TOOLS
    for tool in tools.values():
        assert len(tool.description) > 60
        assert tool.inputSchema["type"] == "object"
    params = tools["get_projection"].inputSchema["properties"]
    assert {"ticker", "as_of_date", "horizon"} <= set(params)
    assert set(tools["run_backtest"].inputSchema["required"]) == {"tickers", "start", "end"}


def test_every_tool_with_good_and_bad_input(awm_server):
    url, workdir = awm_server
    calls = []
    for tool, good, bad, _ in CASES:
        calls += [(tool, good), (tool, bad)]
    results = mcp_calls(url, calls)
    for i, (tool, good, bad, words) in enumerate(CASES):
        ok, err = results[2 * i], results[2 * i + 1]
        assert not ok.is_error, (tool, ok.text[:300])
        ok.json()
        if words is None:
            assert not err.is_error
            continue
        assert err.is_error, (tool, err.text[:300])
        assert words in err.text, (tool, err.text[:300])
    summary = results[2 * [c[0] for c in CASES].index("get_projection")].json()["summary"]
    assert summary.startswith("^GSPC 2018-06-29 next session:") and "75% cone" in summary
    backtest = results[2 * [c[0] for c in CASES].index("run_backtest")].json()
    assert backtest["gate_verdict"] in ("PASS", "FAIL") and backtest["mean_oos_auc"] is not None
    # Calls that reached the app and failed wrote only their log lines (the MCP layer
    # rejects schema violations itself, before the app, with "Input validation error").
    reached_app = sum(1 for r in results[1::2] if r.is_error and not r.text.startswith("Input validation error"))
    import sqlite3

    with sqlite3.connect(workdir / "outputs" / "databases" / "phinance_01.db") as conn:
        errors = conn.execute("SELECT COUNT(*) FROM tool_calls WHERE status = 'error'").fetchone()[0]
        names = {r[0] for r in conn.execute("SELECT name FROM watchlists")}
    assert errors == reached_app >= 12
    assert "Test List" not in names
