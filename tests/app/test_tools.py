"""Tool behaviour through the real app in-process: answers, logs, and bad input that
changes nothing but the failed-call log line."""

import json
import sqlite3

import pytest

from phinance_env.app.client import AppClient, ToolError
from tests.support import dump, fresh_db, phinance_app


@pytest.fixture
def client(exported, tmp_path):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    c = AppClient(phinance_app(db, mcp=False))
    c.db = db
    yield c
    c.close()


def tool_calls(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT tool, status, http_status, error FROM tool_calls ORDER BY id").fetchall()


def test_projection_is_logged_with_every_field(client):
    out = client.call("get_projection", {"ticker": "nova", "as_of_date": "2016-01-09"})
    assert out["packet"]["as_of"] == "2016-01-08" and "not a trading session" in out["packet"]["warnings"][0]
    run = client.call("get_projection_run", {"run_id": out["run_id"]})
    assert run["ticker"] == "NOVA" and run["requested_date"] == "2016-01-09" and run["as_of"] == "2016-01-08"
    assert run["packet"] == out["packet"]
    assert tool_calls(client.db)[-2:] == [("get_projection", "ok", 200, None), ("get_projection_run", "ok", 200, None)]


def test_compare_ranks_highest_first(client):
    out = client.call("compare_projections", {"tickers": "NOVA,QBIT,HELX,CLDR", "as_of_date": "2016-06-24", "rank_by": "sigma_bps"})
    sigmas = [r["sigma_bps"] for r in out["data"]]
    assert sigmas == sorted(sigmas, reverse=True) and [r["rank"] for r in out["data"]] == [1, 2, 3, 4]


def test_price_history_is_bounded(client):
    out = client.call("get_price_history", {"ticker": "^GSPC", "start": "2000-01-01", "end": "2018-12-31", "limit": 500})
    assert out["count"] == 500 and out["truncated"] and out["end"] == "2018-12-31"


def test_backtest_accepts_list_and_json_string(client):
    a = client.call("run_backtest", {"tickers": ["^GSPC"], "start": "2018-01-01", "end": "2018-12-31"})
    b = client.call("run_backtest", {"tickers": '["^gspc"]', "start": "2018-01-01", "end": "2018-12-31"})
    assert {k: v for k, v in a.items() if k != "run_id"} == {k: v for k, v in b.items() if k != "run_id"}
    assert b["run_id"] == a["run_id"] + 1


BAD = [
    ("get_projection", {"ticker": "AAPL"}, 404, "unknown ticker"),
    ("get_projection", {"ticker": "^GSPC", "as_of_date": "2030-01-01"}, 422, "outside the data"),
    ("get_projection", {"ticker": "^GSPC", "horizon": "2w"}, 422, "1d..63d"),
    ("get_projection_run", {"run_id": 777}, 404, "no projection run"),
    ("run_backtest", {"tickers": "", "start": "2017-01-01", "end": "2017-12-31"}, 422, "empty"),
    ("run_backtest", {"tickers": ",".join(["NOVA", "QBIT", "HELX", "CLDR", "PTRX", "SOLR", "GRDL", "OFSH", "BNKA", "LDGR", "INSR"]),
                      "start": "2017-01-01", "end": "2017-12-31"}, 422, "at most 10"),
    ("run_backtest", {"tickers": "^GSPC", "start": "2017-12-31", "end": "2017-01-01"}, 422, "after end"),
    ("run_backtest", {"tickers": "^GSPC", "start": "2017-01-01", "end": "2017-12-31", "threshold": 0.3}, 422, "threshold"),
    ("run_backtest", {"tickers": "^GSPC,^IXIC,NOVA", "start": "2005-01-01", "end": "2018-12-31", "model": "garch"}, 422, "too large"),
    ("create_watchlist", {"name": "Core Indices"}, 409, "already exists"),
    ("create_watchlist", {"name": "x" * 65}, 422, "at most 64"),
    ("create_watchlist", {"name": "bad\x00name"}, 422, "name"),
    ("create_watchlist", {"name": "Dupes", "tickers": "NOVA,nova"}, 422, "duplicate"),
    ("add_watchlist_item", {"watchlist": "Tech Momentum", "ticker": "NOVA"}, 409, "already on watchlist"),
    ("create_alert", {"ticker": "NOVA", "metric": "p_up", "operator": ">", "threshold": 1.0}, 422, "out of range"),
    ("create_alert", {"ticker": "NOVA", "metric": "volume", "operator": ">", "threshold": 1.0}, 422, "metric"),
    ("create_alert", {"ticker": "NOVA", "metric": "p_up", "operator": "==", "threshold": 0.5}, 422, "operator"),
    ("create_note", {"title": "t", "body": "x" * 10_001}, 422, "at most 10000"),
    ("create_note", {"title": "t", "body": "b", "backtest_run_id": 55}, 404, "no backtest run"),
    ("delete_alert", {"alert_id": 999}, 404, "no alert"),
    ("untrack_ticker", {"ticker": "RETL"}, 404, "not tracked"),
    ("track_ticker", {"ticker": "NOVA"}, 409, "already tracked"),
]


@pytest.mark.parametrize("tool, args, status, words", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_refused_clearly_and_changes_nothing(client, tool, args, status, words):
    before = dump(client.db, skip=("tool_calls",))
    with pytest.raises(ToolError) as err:
        client.call(tool, args)
    assert err.value.status == status and words in err.value.detail, err.value.detail
    assert dump(client.db, skip=("tool_calls",)) == before
    last = tool_calls(client.db)[-1]
    assert last[:3] == (tool, "error", status) and words in last[3]


def test_huge_arguments_are_logged_truncated(client):
    with pytest.raises(ToolError):
        client.call("create_note", {"title": "t", "body": "y" * 1_000_000})
    with sqlite3.connect(client.db) as conn:
        (args,) = conn.execute("SELECT arguments FROM tool_calls ORDER BY id DESC LIMIT 1").fetchone()
    assert len(args) < 10_000 and "1000000 chars" in args
    json.loads(args)
