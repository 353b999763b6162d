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


def test_projection_answers_are_typed_packets(client):
    from phinance_env.projection import ProjectionPacket

    out = client.call("get_projection", {"ticker": "^GSPC", "as_of_date": "2018-06-29"})
    packet = ProjectionPacket.model_validate(out["packet"])
    assert [h.horizon for h in packet.horizons] == ["1d", "5d", "21d"] and out["summary"] == packet.summary
    assert ProjectionPacket.model_validate(client.call("get_projection_run", {"run_id": out["run_id"]})["packet"]) == packet


def test_list_tickers_by_sector_is_case_insensitive(client):
    out = client.call("list_tickers", {"sector": "financials"})
    assert {t["symbol"] for t in out["data"]} == {"BNKA", "INSR", "LDGR", "PAYS"} and out["count"] == 4
    assert {t["sector"] for t in out["data"]} == {"Financials"}
    both = client.call("list_tickers", {"sector": "Financials", "tracked_only": True})
    assert {t["symbol"] for t in both["data"]} == {"BNKA", "LDGR"}


def test_last_n_sessions_ending_on_a_date(client):
    out = client.call("get_price_history", {"ticker": "^GSPC", "end": "2008-10-10", "limit": 10})
    assert out["count"] == 10 and out["end"] == "2008-10-10" and out["start"] == "2008-09-29"
    assert not out["truncated"]  # exactly what was asked, nothing cut
    weekend = client.call("get_price_history", {"ticker": "^GSPC", "end": "2008-10-12", "limit": 10})
    assert weekend["data"] == out["data"]  # a Sunday ends the window at the Friday session


def test_delete_alerts_by_ticker_and_untrack_says_what_remains(client):
    left = client.call("untrack_ticker", {"ticker": "bnka"})
    assert left == {"deleted": "tracked ticker BNKA", "ticker": "BNKA", "alerts_remaining": 2}
    ids = [a["id"] for a in client.call("list_alerts", {"ticker": "BNKA"})["data"]]
    out = client.call("delete_alert", {"ticker": "bnka"})
    assert out["alert_ids"] == ids and out["count"] == 2
    assert client.call("list_alerts", {"ticker": "BNKA"})["count"] == 0
    assert client.call("list_alerts")["count"] == 3  # the other tickers' alerts stay
    assert client.call("delete_alert", {"alert_id": 1})["alert_ids"] == [1]


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
    ("delete_alert", {}, 422, "exactly one of alert_id"),
    ("delete_alert", {"alert_id": 1, "ticker": "NOVA"}, 422, "got both"),
    ("delete_alert", {"ticker": "HELX"}, 404, "no alerts on HELX; tickers with alerts: BNKA, NOVA, PTRX, ^GSPC"),
    ("list_tickers", {"sector": "Utilities"}, 422, "unknown sector 'Utilities'; sectors: Consumer, Energy, Financials"),
    ("get_price_history", {"ticker": "^GSPC", "end": "2008-10-10", "limit": 0}, 422, "limit"),
    ("get_price_history", {"ticker": "^GSPC", "end": "1998-12-31", "limit": 10}, 422, "data covers 1999-01-04..2018-12-31"),
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
