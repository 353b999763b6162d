"""Hostile and broken input through a real MCP client: every call is refused with a clear
message (isError), and the state DB is unchanged apart from the failed-call log lines."""

import pytest

from tests.support import dump, fresh_db, mcp_calls, phinance_app, served

pytestmark = pytest.mark.integration

INJECTION = "x'); DROP TABLE watchlists; --"
HUGE = "A" * 1_000_000
CASES = [
    # unknown / lowercase / hostile tickers
    ("get_ticker", {"ticker": "ZZZZ"}, "unknown ticker"),
    ("get_projection", {"ticker": INJECTION}, "not a valid symbol"),
    ("get_projection", {"ticker": "nova\x00"}, "ticker: control characters"),
    ("get_ticker", {"ticker": "ＮＯＶＡ"}, "not a valid symbol"),
    ("track_ticker", {"ticker": "'; DELETE FROM alerts; --"}, "not a valid symbol"),
    # SQL injection, quotes, control characters, huge and unicode text
    ("create_watchlist", {"name": INJECTION * 3}, "name: at most 64 characters"),
    ("create_watchlist", {"name": "tab\tname"}, "name: control characters"),
    ("create_watchlist", {"name": "x", "description": HUGE}, "description: at most 500 characters allowed (got 1,000,000)"),
    ("create_note", {"title": "t", "body": HUGE}, "body: at most 10000 characters"),
    ("create_note", {"title": "bell\x07", "body": "b"}, "title: control characters"),
    ("create_note", {"title": "t", "body": "b", "ticker": INJECTION}, "not a valid symbol"),
    ("get_projection", {"ticker": HUGE}, "query' too long"),  # the MCP bridge will not build the URL
    ("get_projection", {"ticker": "^GSPC", "as_of_date": "9" * 5000}, "at most 10 characters"),
    ("delete_watchlist", {"name": INJECTION}, "no watchlist"),
    ("remove_watchlist_item", {"watchlist": "Core Indices", "ticker": "\u202eNOVA"}, "valid symbol"),
    # numbers
    ("create_alert", {"ticker": "NOVA", "metric": "p_up", "operator": ">", "threshold": -1}, "out of range"),
    ("create_alert", {"ticker": "NOVA", "metric": "sigma_bps", "operator": ">", "threshold": 1e308}, "out of range"),
    ("create_alert", {"ticker": "NOVA", "metric": "sigma_bps", "operator": ">", "threshold": "NaN"}, "not of type 'number'"),
    ("create_alert", {"ticker": "NOVA", "metric": "sigma_bps", "operator": ">", "threshold": "Infinity"}, "not of type 'number'"),
    ("get_price_history", {"ticker": "^GSPC", "limit": 10_000_000}, "maximum"),
    ("get_price_history", {"ticker": "^GSPC", "limit": -5}, "minimum"),
    ("get_projection_run", {"run_id": 2**63}, "maximum"),
    ("delete_alert", {"alert_id": 0}, "minimum"),
    ("get_backtest_run", {"run_id": 987654}, "no backtest run"),
    # dates and ranges
    ("get_projection", {"ticker": "^GSPC", "as_of_date": "2018-02-30"}, "not a date"),
    ("get_projection", {"ticker": "^GSPC", "as_of_date": "0000-00-00"}, "not a date"),
    ("get_projection", {"ticker": "^GSPC", "as_of_date": "1850-01-01"}, "outside the data"),
    ("get_projection", {"ticker": "^GSPC", "as_of_date": "2018-6-29"}, "YYYY-MM-DD"),
    ("run_backtest", {"tickers": "^GSPC", "start": "2018-12-31", "end": "2018-01-01"}, "after end"),
    ("run_backtest", {"tickers": "^GSPC", "start": "1000-01-01", "end": "9999-12-31"}, "reaches outside"),
    ("get_price_history", {"ticker": "^GSPC", "start": "2030-01-01", "end": "2040-01-01"}, "no bars"),
    # ticker lists
    ("run_backtest", {"tickers": "", "start": "2017-01-01", "end": "2017-12-31"}, "empty"),
    ("run_backtest", {"tickers": ",".join(["NOVA"] * 1000), "start": "2017-01-01", "end": "2017-12-31"}, "duplicate"),
    ("run_backtest", {"tickers": ",".join(f"T{i}" for i in range(1000)), "start": "2017-01-01", "end": "2017-12-31"}, "at most 10"),
    ("run_backtest", {"tickers": "[1, 2]", "start": "2017-01-01", "end": "2017-12-31"}, "list of strings"),
    ("compare_projections", {"tickers": ",,,"}, "empty"),
    ("create_watchlist", {"name": "Big", "tickers": ",".join(["NOVA", "QBIT"] * 30)}, "duplicate"),
]


def test_hostile_input_is_refused_and_changes_nothing(exported, tmp_path):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    before = dump(db, skip=("tool_calls",))
    import sqlite3

    with sqlite3.connect(db) as conn:
        last_call = conn.execute("SELECT MAX(id) FROM tool_calls").fetchone()[0]
    with served(phinance_app(db)) as url:
        results = mcp_calls(f"{url}/mcp", [(tool, args) for tool, args, _ in CASES])
    for (tool, args, words), result in zip(CASES, results):
        assert result.is_error, (tool, str(args)[:80], result.text[:200])
        assert words.lower() in result.text.lower(), (tool, str(args)[:80], result.text[:300])
        assert "Traceback" not in result.text and "Internal Server Error" not in result.text
        assert len(result.text) < 5_000  # a 1 MB argument is not echoed back
    assert dump(db, skip=("tool_calls",)) == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        new = conn.execute("SELECT status FROM tool_calls WHERE id > ?", (last_call,)).fetchall()
    assert new and all(status == "error" for (status,) in new)
