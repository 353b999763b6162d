"""Reliability of the risk desk (portfolio_risk_01) with real servers and a real MCP client:
schemathesis over its OpenAPI, a matrix of hostile arguments for each of its 16 tools,
concurrent clients trading the same book, and kill -9 while trades are being written.

After concurrency and after a kill, every book is checked against an independent replay of
its blotter. The replay uses only the rows in the trades table and the closes in the bar
store, never the desk's ledger code:

* cash = starting cash - the filled buys' amounts + the filled sells' amounts,
  positions = net shares (all > 0);
* after each session's trades, in session order, cash >= -0.005 and no position < 0;
* a filled row has fill price = the close of its session and amount = shares x price
  rounded to the cent; a rejected row has a reason and no price or amount;
* the session is the requested date, or the session before it when that is no session.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import random
import re
import signal
import sqlite3
import time
from collections import defaultdict
from contextlib import closing

import pytest

from tests.support import dump, fresh_db, mcp_calls, phinance_app, serve_process, served

pytestmark = pytest.mark.integration

SCENARIO = "portfolio_risk_01"
SERVE_ARGS = ("--scenario", SCENARIO)
DESK_TABLES = ("portfolios", "positions", "trades", "limits", "reports", "notes")
SEEDED = ("Core Index", "Tech Growth", "Income Balanced", "Energy Tilt", "Healthcare Fund")
CENT = 0.005
EXAMPLES_PER_OPERATION = int(os.environ.get("PHINANCE_FUZZ_EXAMPLES", "25"))  # make soak: 300


def initial_db(exported):
    return exported / "databases" / f"{SCENARIO}.db"


def desk_dump(db) -> dict[str, list[str]]:
    """Each desk table's rows as SQL text, in rowid order."""
    with closing(sqlite3.connect(db)) as conn:
        out = {}
        for table in DESK_TABLES:
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            out[table] = [repr(row) for row in conn.execute(f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY rowid')]
        return out


# --- 1. fuzz ---------------------------------------------------------------------------------
def test_every_risk_operation_survives_fuzzing(exported, tmp_path):
    """As test_fuzz does for phinance_01: no 5xx, every response conforms to its schema.
    Schema-valid requests may be refused (an unknown book, a date before a book's
    inception): business rules the schema cannot state, so that one check is left out."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    db = fresh_db(initial_db(exported), tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", phinance_app(db, mcp=False, scenario=SCENARIO))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 16
    failures = {}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            fuzz()
        except BaseException as exc:  # noqa: BLE001 - hypothesis raises exception groups
            failures[operation.label] = str(exc)[:1500]
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check_books(db)  # whatever the fuzzer managed to trade, the books still add up


# --- 2. hostile input ------------------------------------------------------------------------
BOOK = "Core Index"  # incepted 2006-01-03
EARLY = "Early Cash"  # opened by the test on 2000-01-03, cash only
D = "2017-01-03"
SQL = "x'); DROP TABLE trades; --"
LONG = "A" * 100_000  # in a POST body: the app refuses it with one short message
LONG_QUERY = "A" * 60_000  # in a GET query: still under the MCP bridge's URL limit (64 KiB)
TOO_LONG_URL = "query' too long"  # the MCP bridge (httpx) will not build the URL: never reaches the app
NO_BOOK = "no portfolio named"
NOT_A_DATE = "is not a date"
OUTSIDE = "outside the data: accepted 1999-01-04..2018-12-31"
BEFORE_INCEPTION = "opened on 2006-01-03"
SCHEMA = "Input validation error"
TRADE = dict(portfolio=BOOK, ticker="NOVA", side="buy", shares=10, date=D)


def _trade(words: str, **change) -> tuple[str, dict, str]:
    return ("place_trade", {**TRADE, **change}, words)


CASES: list[tuple[str, dict, str]] = [
    # create_portfolio
    ("create_portfolio", {"name": BOOK, "cash": 1000, "inception_date": D}, "already exists"),
    ("create_portfolio", {"name": LONG, "cash": 1000, "inception_date": D}, "name: at most 64 characters"),
    ("create_portfolio", {"name": SQL * 3, "cash": 1000, "inception_date": D}, "name: at most 64 characters"),
    ("create_portfolio", {"name": "nul\x00name", "cash": 1000, "inception_date": D}, "control characters"),
    ("create_portfolio", {"name": "esc\x1b[31m", "cash": 1000, "inception_date": D}, "control characters"),
    ("create_portfolio", {"name": "   ", "cash": 1000, "inception_date": D}, "must not be empty"),
    ("create_portfolio", {"name": 123, "cash": 1000, "inception_date": D}, "not of type 'string'"),
    ("create_portfolio", {"name": "n", "cash": 0, "inception_date": D}, "minimum"),
    ("create_portfolio", {"name": "n", "cash": -5, "inception_date": D}, "minimum"),
    ("create_portfolio", {"name": "n", "cash": 1e308, "inception_date": D}, "maximum"),
    ("create_portfolio", {"name": "n", "cash": 0.001, "inception_date": D}, "minimum of 0.01"),  # below a cent
    ("create_portfolio", {"name": "n", "cash": "NaN", "inception_date": D}, "not of type 'number'"),
    ("create_portfolio", {"name": "n", "cash": "Infinity", "inception_date": D}, "not of type 'number'"),
    ("create_portfolio", {"name": "n", "cash": [1000], "inception_date": D}, "not of type 'number'"),
    ("create_portfolio", {"name": "n", "cash": 1000}, "required"),
    ("create_portfolio", {"name": "n", "cash": 1000, "inception_date": "1998-12-31"}, OUTSIDE),
    ("create_portfolio", {"name": "n", "cash": 1000, "inception_date": "2019-01-02"}, OUTSIDE),
    ("create_portfolio", {"name": "n", "cash": 1000, "inception_date": "2018-02-30"}, NOT_A_DATE),
    ("create_portfolio", {"name": "n", "cash": 1000, "inception_date": "2017/01/03"}, NOT_A_DATE),
    ("create_portfolio", {"name": "n", "cash": 1000, "inception_date": "0000-00-00"}, NOT_A_DATE),
    ("create_portfolio", {"name": "n", "cash": 1000, "inception_date": SQL}, "at most 10 characters"),
    # get_portfolio
    ("get_portfolio", {"name": "Nope"}, NO_BOOK),
    ("get_portfolio", {"name": SQL}, NO_BOOK),
    ("get_portfolio", {"name": LONG_QUERY}, "name: at most 64 characters"),
    ("get_portfolio", {"name": LONG}, TOO_LONG_URL),
    ("get_portfolio", {"name": "Core\tIndex"}, "control characters"),
    ("get_portfolio", {"name": BOOK, "as_of_date": "2005-01-03"}, BEFORE_INCEPTION),
    ("get_portfolio", {"name": BOOK, "as_of_date": "1999-01-01"}, OUTSIDE),
    ("get_portfolio", {"name": BOOK, "as_of_date": "2019-01-02"}, OUTSIDE),
    ("get_portfolio", {"name": BOOK, "as_of_date": "2018-13-01"}, NOT_A_DATE),
    ("get_portfolio", {"name": BOOK, "as_of_date": 20170103}, "not of type"),
    # place_trade: books and tickers
    _trade(NO_BOOK, portfolio="Nope"),
    _trade(NO_BOOK, portfolio=SQL),
    _trade("portfolio: at most 64 characters", portfolio=LONG),
    _trade("unknown ticker 'ZZZZ'", ticker="ZZZZ"),
    _trade("^VIX is not tradable", ticker="^VIX"),
    _trade("not a valid symbol", ticker=SQL),
    _trade("not a valid symbol", ticker="ＮＯＶＡ"),
    _trade("not a valid symbol", ticker="\u202eNOVA"),
    _trade("control characters", ticker="NOVA\x00"),
    _trade("ticker: at most 40 characters", ticker=LONG),
    _trade("has no close on 2001-06-01", portfolio=EARLY, date="2001-06-01"),  # NOVA's data starts 2005
    # place_trade: sides and shares
    _trade("is not one of", side="hold"),
    _trade("is not one of", side="BUY "),
    _trade("not of type 'string'", side=1),
    _trade("minimum", shares=0),
    _trade("minimum", shares=-5),
    _trade("maximum", shares=10**12),
    _trade("maximum", shares=2**63),
    _trade("not of type 'integer'", shares=1.5),
    _trade("not of type 'integer'", shares="ten"),
    _trade("not of type 'integer'", shares="NaN"),
    _trade("not of type 'integer'", shares="inf"),
    _trade("not of type 'integer'", shares=None),
    _trade("not of type 'integer'", shares=True),
    # place_trade: dates
    _trade(BEFORE_INCEPTION, date="2005-06-01"),
    _trade(OUTSIDE, date="1998-12-31"),
    _trade(OUTSIDE, date="2019-01-02"),
    _trade(OUTSIDE, date="9999-12-31"),
    _trade(NOT_A_DATE, date="2018-02-30"),
    _trade(NOT_A_DATE, date="2018-6-29"),
    _trade(NOT_A_DATE, date="yesterday"),
    _trade("date: at most 10 characters", date="9" * 5000),
    _trade("not of type 'string'", date=20170103),
    # list_trades
    ("list_trades", {"portfolio": "Nope"}, NO_BOOK),
    ("list_trades", {"portfolio": SQL}, NO_BOOK),
    ("list_trades", {"portfolio": LONG}, TOO_LONG_URL),
    ("list_trades", {"portfolio": BOOK, "status": "open"}, "is not one of"),
    ("list_trades", {"portfolio": BOOK, "limit": 0}, "minimum"),
    ("list_trades", {"portfolio": BOOK, "limit": 10**6}, "maximum"),
    ("list_trades", {"portfolio": BOOK, "limit": "NaN"}, "not of type 'integer'"),
    ("list_trades", {"portfolio": BOOK, "offset": -1}, "minimum"),
    ("list_trades", {}, "required"),
    # set_limit
    ("set_limit", {"portfolio": "Nope", "metric": "max_var_99", "threshold": 0.05}, NO_BOOK),
    ("set_limit", {"portfolio": BOOK, "metric": "max_leverage", "threshold": 0.05}, "is not one of"),
    ("set_limit", {"portfolio": BOOK, "metric": SQL, "threshold": 0.05}, "is not one of"),
    ("set_limit", {"portfolio": BOOK, "metric": "max_var_99", "threshold": 0}, "minimum"),
    ("set_limit", {"portfolio": BOOK, "metric": "max_var_99", "threshold": -0.1}, "minimum"),
    ("set_limit", {"portfolio": BOOK, "metric": "max_var_99", "threshold": 1.5}, "maximum"),
    ("set_limit", {"portfolio": BOOK, "metric": "max_var_99", "threshold": "NaN"}, "not of type 'number'"),
    ("set_limit", {"portfolio": BOOK, "metric": "max_var_99", "threshold": "-Infinity"}, "not of type 'number'"),
    ("set_limit", {"portfolio": "bell\x07", "metric": "max_var_99", "threshold": 0.05}, "control characters"),
    # list_limits
    ("list_limits", {"portfolio": "Nope"}, NO_BOOK),
    ("list_limits", {"portfolio": LONG_QUERY}, "at most 64 characters"),
    ("list_limits", {"portfolio": LONG}, TOO_LONG_URL),
    ("list_limits", {}, "required"),
    # list_reports
    ("list_reports", {"portfolio": "Nope"}, NO_BOOK),
    ("list_reports", {"portfolio": "bell\x07"}, "control characters"),
    ("list_reports", {"kind": "audit"}, "is not one of"),
    ("list_reports", {"limit": 0}, "minimum"),
    ("list_reports", {"limit": 201}, "maximum"),
    ("list_reports", {"offset": -3}, "minimum"),
    # create_note
    ("create_note", {"title": LONG, "body": "b"}, "title: at most 200 characters"),
    ("create_note", {"title": "t", "body": "B" * 100_001}, "body: at most 10000 characters"),
    ("create_note", {"title": "", "body": "b"}, "must not be empty"),
    ("create_note", {"title": "t\x00", "body": "b"}, "control characters"),
    ("create_note", {"title": "t", "body": "b\x1b[2J"}, "control characters"),
    ("create_note", {"title": ["t"], "body": "b"}, "not of type 'string'"),
    ("create_note", {"title": "t", "body": "b", "portfolio": "Nope"}, NO_BOOK),
    ("create_note", {"title": "t", "body": "b", "portfolio": SQL}, NO_BOOK),
    ("create_note", {"title": "t", "body": "b", "report_id": 987654}, "no report 987654"),
    ("create_note", {"title": "t", "body": "b", "report_id": 0}, "minimum"),
    ("create_note", {"title": "t", "body": "b", "report_id": "one"}, "not of type 'integer'"),
    # list_notes
    ("list_notes", {"portfolio": "Nope"}, NO_BOOK),
    ("list_notes", {"portfolio": LONG}, TOO_LONG_URL),
    ("list_notes", {"portfolio": 7}, "not of type 'string'"),
    # compute_risk
    ("compute_risk", {"portfolio": "Nope", "as_of_date": D}, NO_BOOK),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": "2005-12-30"}, BEFORE_INCEPTION),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": "2019-01-02"}, OUTSIDE),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": "2017-02-29"}, NOT_A_DATE),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": D, "window": 19}, "minimum"),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": D, "window": -250}, "minimum"),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": D, "window": 2501}, "maximum"),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": D, "window": True}, "not of type 'integer'"),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": "2006-01-10", "window": 2500}, "2500-session window"),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": D, "confidence": 0}, "minimum"),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": D, "confidence": 1}, "maximum"),
    ("compute_risk", {"portfolio": BOOK, "as_of_date": D, "confidence": "NaN"}, "not of type 'number'"),
    ("compute_risk", {"portfolio": EARLY, "as_of_date": D}, "holds no positions"),
    # get_performance
    ("get_performance", {"portfolio": "Nope", "start": "2016-01-04", "end": D}, NO_BOOK),
    ("get_performance", {"portfolio": BOOK, "start": D, "end": "2016-01-04"}, "must be a session after start"),
    ("get_performance", {"portfolio": BOOK, "start": D, "end": D}, "must be a session after start"),
    ("get_performance", {"portfolio": BOOK, "start": "2005-01-03", "end": D}, BEFORE_INCEPTION),
    ("get_performance", {"portfolio": BOOK, "start": "2016-01-04", "end": "2019-06-01"}, OUTSIDE),
    ("get_performance", {"portfolio": BOOK, "start": "2016-1-4", "end": D}, NOT_A_DATE),
    # check_limits
    ("check_limits", {"portfolio": "Nope", "date": D}, NO_BOOK),
    ("check_limits", {"portfolio": BOOK, "date": "2005-01-03"}, BEFORE_INCEPTION),
    ("check_limits", {"portfolio": BOOK, "date": "2031-01-01"}, OUTSIDE),
    ("check_limits", {"portfolio": BOOK, "date": "not a date"}, NOT_A_DATE),
    ("check_limits", {"portfolio": BOOK, "date": "2017-01-03T00:00"}, "at most 10 characters"),
    # propose_rebalance
    ("propose_rebalance", {"portfolio": "Nope", "date": D, "target": "NOVA:0.5"}, NO_BOOK),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "NOVA:0.7, ^GSPC:0.6"}, "sum to 1.3000"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": '{"NOVA": 0.7, "^GSPC": 0.6}'}, "sum to 1.3000"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "NOVA:50%, ^GSPC:60%"}, "sum to 1.1000"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "NOVA:1.5"}, "must be in [0, 1]"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "NOVA:-0.2"}, "must be in [0, 1]"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "NOVA:NaN"}, "must be in [0, 1]"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "NOVA:inf"}, "must be in [0, 1]"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": '{"NOVA": 1e400}'}, "must be in [0, 1]"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "NOVA:abc"}, "is not a number"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": '{"NOVA": [1]}'}, "is not a number"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "{bad json"}, "does not parse"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": SQL}, "is not TICKER:WEIGHT"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": LONG}, "is not TICKER:WEIGHT"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": ""}, "at least one TICKER:WEIGHT"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": {"NOVA": 0.7}}, "not of type 'string'"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "^VIX:0.2"}, "^VIX is not tradable"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "ZZZZ:0.2"}, "unknown ticker"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D}, "exactly one of target"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "target": "NOVA:0.5", "objective": "min_volatility"},
     "exactly one of target"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "objective": "max_return"}, "is not one of"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "objective": "min_volatility", "window": 5}, "minimum"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "objective": "min_volatility", "window": 99_999}, "maximum"),
    ("propose_rebalance", {"portfolio": BOOK, "date": "2006-01-04", "objective": "min_volatility", "window": 2500},
     "2500-session window"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "objective": "min_volatility", "tickers": "^VIX,NOVA"},
     "^VIX is not tradable"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "objective": "min_volatility", "tickers": "[1, 2]"},
     "list of strings"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "objective": "min_volatility", "min_weight": 0.9,
                           "max_weight": 0.1}, "min_weight <= max_weight"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "objective": "min_volatility", "min_weight": 0.6,
                           "tickers": "NOVA,BNKA,PTRX"}, "cannot sum to 1"),
    ("propose_rebalance", {"portfolio": BOOK, "date": D, "objective": "max_sharpe", "risk_free_rate": 5}, "maximum"),
    ("propose_rebalance", {"portfolio": BOOK, "date": "1999-01-04", "target": "NOVA:0.5"}, BEFORE_INCEPTION),
    ("propose_rebalance", {"portfolio": BOOK, "date": "2019-01-04", "target": "NOVA:0.5"}, OUTSIDE),
    # stress_test
    ("stress_test", {"portfolio": "Nope", "scenario": "lehman_2008"}, NO_BOOK),
    ("stress_test", {"portfolio": BOOK, "scenario": "crash_1987"}, "unknown stress scenario"),
    ("stress_test", {"portfolio": BOOK, "scenario": SQL}, "unknown stress scenario"),
    ("stress_test", {"portfolio": BOOK, "scenario": "x" * 41}, "at most 40 characters"),
    ("stress_test", {"portfolio": BOOK, "scenario": LONG}, TOO_LONG_URL),
    ("stress_test", {"portfolio": BOOK}, "give a named scenario"),
    ("stress_test", {"portfolio": BOOK, "start": "2018-12-01", "end": "2018-01-01"}, "start <= end"),
    ("stress_test", {"portfolio": BOOK, "start": "1999-01-04", "end": "1999-01-04"}, "with a close before it"),
    ("stress_test", {"portfolio": BOOK, "start": "1990-01-01", "end": "1995-01-01"}, OUTSIDE),
    ("stress_test", {"portfolio": BOOK, "start": "2019-01-01", "end": "2019-02-01"}, OUTSIDE),
    ("stress_test", {"portfolio": BOOK, "start": "2018-02-30", "end": "2018-03-05"}, NOT_A_DATE),
    ("stress_test", {"portfolio": BOOK, "scenario": "lehman_2008", "as_of_date": "2005-01-03"}, BEFORE_INCEPTION),
    ("stress_test", {"portfolio": BOOK, "scenario": "lehman_2008", "as_of_date": "2019-01-02"}, OUTSIDE),
    ("stress_test", {"portfolio": "Tech Growth", "scenario": "dotcom_2000", "as_of_date": D}, "no closes through"),
]
REFUSAL = re.compile(r"^Error calling (\w+)\. Status code: (\d+)\. Response: (.*)$", re.S)


def refusal_detail(text: str) -> tuple[int, str]:
    """(HTTP status, detail) of a tool's refusal as the MCP bridge words it."""
    match = REFUSAL.match(text)
    assert match, text[:300]
    return int(match[2]), json.loads(match[3])["detail"]


def test_every_tool_refuses_hostile_input_and_changes_nothing(exported, tmp_path):
    db = fresh_db(initial_db(exported), tmp_path)
    tools_hit = {tool for tool, _, _ in CASES}
    with served(phinance_app(db, scenario=SCENARIO)) as url:
        (early,) = mcp_calls(f"{url}/mcp", [("create_portfolio", {"name": EARLY, "cash": 50_000, "inception_date": "2000-01-03"})])
        assert not early.is_error, early.text
        before, before_sql = desk_dump(db), dump(db, skip=("tool_calls",))
        with closing(sqlite3.connect(db)) as conn:
            last_call = conn.execute("SELECT MAX(id) FROM tool_calls").fetchone()[0]
        results = mcp_calls(f"{url}/mcp", [(tool, args) for tool, args, _ in CASES])
        # The two tools without arguments ignore stray ones and answer as usual.
        plain = mcp_calls(f"{url}/mcp", [("list_tickers", {}), ("list_portfolios", {})])
        stray = mcp_calls(f"{url}/mcp", [("list_tickers", {"ticker": SQL, "limit": -1}), ("list_portfolios", {"name": LONG_QUERY})])
    assert tools_hit | {"list_tickers", "list_portfolios"} == {
        "list_tickers", "create_portfolio", "list_portfolios", "get_portfolio", "place_trade", "list_trades", "set_limit",
        "list_limits", "list_reports", "create_note", "list_notes", "compute_risk", "get_performance", "check_limits",
        "propose_rebalance", "stress_test"}
    problems, reached_app = [], 0
    for (tool, args, words), result in zip(CASES, results):
        shown = (tool, {k: (v if len(repr(v)) < 60 else repr(v)[:40] + "...") for k, v in args.items()}, result.text[:240])
        if not result.is_error:
            problems.append(("accepted", *shown))
            continue
        if "Traceback" in result.text or "Internal Server Error" in result.text or len(result.text) > 5_000:
            problems.append(("crash or echo", *shown))
            continue
        if result.text.startswith(SCHEMA):
            pass  # refused by the MCP layer against the tool's input schema: never reached the app
        elif words == TOO_LONG_URL:
            if TOO_LONG_URL not in result.text:
                problems.append(("expected the URL-length refusal", *shown))
            continue
        else:
            status, detail = refusal_detail(result.text)
            reached_app += 1
            if not (400 <= status < 500 and detail.startswith("invalid argument: ")):
                problems.append((f"status {status}", *shown))
                continue
        if words.lower() not in result.text.lower():
            problems.append((f"no {words!r}", *shown))
    assert not problems, "\n".join(map(str, problems))
    for a, b in zip(plain, stray):
        assert not b.is_error and b.json() == a.json()
    assert desk_dump(db) == before  # every desk table byte-identical
    assert dump(db, skip=("tool_calls",)) == before_sql
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        new = conn.execute("SELECT tool, status, http_status FROM tool_calls WHERE id > ?", (last_call,)).fetchall()
    failed = [row for row in new if row[1] == "error"]
    assert len(failed) == reached_app and all(400 <= s < 500 for _, _, s in failed)
    assert {t for t, status, _ in new if status == "ok"} <= {"list_tickers", "list_portfolios"}


@pytest.mark.parametrize("tool, args", [
    ("list_trades", {"portfolio": BOOK, "offset": 2**63}),
    ("list_reports", {"offset": 2**63}),
    ("create_note", {"title": "t", "body": "b", "report_id": 2**63}),
], ids=["list_trades-offset", "list_reports-offset", "create_note-report_id"])
def test_integers_beyond_sqlite_are_refused_not_a_500(exported, tmp_path, tool, args):
    """An integer past SQLite's 64-bit range: refused as a bad argument (phinance_01 caps
    its offsets and ids), not an OverflowError escaping as 500 Internal Server Error."""
    db = fresh_db(initial_db(exported), tmp_path)
    before = desk_dump(db)
    with served(phinance_app(db, scenario=SCENARIO)) as url:
        (result,) = mcp_calls(f"{url}/mcp", [(tool, args)])
    assert result.is_error
    assert "Internal Server Error" not in result.text and "Status code: 5" not in result.text, result.text[:300]
    assert result.text.startswith(SCHEMA) or refusal_detail(result.text)[1].startswith("invalid argument: ")
    assert desk_dump(db) == before


# --- the independent replay ------------------------------------------------------------------
_CLOSES: dict[str, dict[str, float]] = {}
_SESSIONS: list[str] = []


def _bars(cache_dir) -> None:
    """Closes by ticker and the ^GSPC sessions, read straight from bars.db (once)."""
    if _SESSIONS:
        return
    with closing(sqlite3.connect(f"file:{cache_dir / 'bars.db'}?mode=ro", uri=True)) as conn:
        for symbol, session, close in conn.execute("SELECT symbol, session, close FROM bars"):
            _CLOSES.setdefault(symbol, {})[session] = close
    _SESSIONS.extend(sorted(_CLOSES["^GSPC"]))


def session_on_or_before(day: str) -> str:
    import bisect

    i = bisect.bisect_right(_SESSIONS, day) - 1
    assert i >= 0, day
    return _SESSIONS[i]


def feasible(starting_cash: float, fills: list[tuple[str, str, int, float]]) -> bool:
    """Cash >= -0.005 and no position < 0 after every session's trades, sessions in order.
    ``fills``: (session, ticker, signed shares, signed amount; > 0 for a buy)."""
    by_session = defaultdict(list)
    for f in fills:
        by_session[f[0]].append(f)
    cash, shares = starting_cash, defaultdict(int)
    for session in sorted(by_session):
        for _, ticker, n, amount in by_session[session]:
            shares[ticker] += n
            cash -= amount
        if cash < -CENT or any(s < 0 for s in shares.values()):
            return False
    return True


def check_books(db, cache_dir=None, serial: str | None = None) -> dict[str, list[tuple]]:
    """Every book's cash and positions equal the replay of its filled trades, its timeline
    is feasible, and no trade row is half-written. With ``cache_dir``, fill prices and
    sessions are checked against the bar store. With ``serial`` (a book name), its
    trades, taken in id order (the write lock's order), are filled exactly when feasible
    after the earlier ones. Returns each book's trades."""
    if cache_dir is not None:
        _bars(cache_dir)
    with closing(sqlite3.connect(db)) as conn:
        books = conn.execute("SELECT id, name, starting_cash, cash, inception_date FROM portfolios").fetchall()
        out = {}
        for pid, name, start_cash, cash, inception in books:
            trades = conn.execute(
                "SELECT id, ticker, side, shares, requested_date, session, fill_price, amount, status, reason"
                " FROM trades WHERE portfolio_id = ? ORDER BY id", (pid,)).fetchall()
            positions = dict(conn.execute("SELECT ticker, shares FROM positions WHERE portfolio_id = ?", (pid,)).fetchall())
            fills = []
            for tid, ticker, side, n, requested, session, price, amount, status, reason in trades:
                where = f"{name} trade {tid}"
                assert side in ("buy", "sell") and isinstance(n, int) and n > 0, where
                assert session >= inception, where
                if status == "filled":
                    assert price is not None and amount is not None and reason is None, where
                    assert price > 0 and amount == round(n * price, 2), (where, n, price, amount)
                    fills.append((session, ticker, n if side == "buy" else -n, amount if side == "buy" else -amount))
                else:
                    assert status == "rejected", where
                    assert reason and price is None and amount is None, where
                if cache_dir is not None:
                    assert session == session_on_or_before(requested[:10]), where
                    if status == "filled":
                        assert math.isclose(price, _CLOSES[ticker][session], rel_tol=1e-12), (where, price)
            expected_cash = round(start_cash - math.fsum(f[3] for f in fills), 2)
            assert cash == pytest.approx(expected_cash, abs=CENT), (name, cash, expected_cash)
            assert cash >= -CENT, name
            net = defaultdict(int)
            for _, ticker, n, _ in fills:
                net[ticker] += n
            assert all(v >= 0 for v in net.values()), (name, dict(net))
            assert positions == {t: v for t, v in net.items() if v}, (name, positions, dict(net))
            assert feasible(start_cash, fills), name
            if name == serial:
                done: list = []
                for tid, ticker, side, n, _, session, price, amount, status, reason in trades:
                    sign = 1 if side == "buy" else -1
                    if status == "filled":
                        new = (session, ticker, sign * n, sign * amount)
                        assert feasible(start_cash, [*done, new]), f"{name} trade {tid} filled but infeasible"
                        done.append(new)
                    else:
                        close = _CLOSES[ticker][session]
                        new = (session, ticker, sign * n, sign * round(n * close, 2))
                        assert not feasible(start_cash, [*done, new]), f"{name} trade {tid} rejected but feasible: {reason}"
                        assert reason.startswith(("not enough cash", "not enough shares")), reason
            out[name] = trades
    return out


# --- 3. concurrent clients -------------------------------------------------------------------
CLIENTS = 8
TRADES_PER_CLIENT = 15
CROWD = "Crowd Book"
CROWD_CASH = 250_000.0
CROWD_TICKERS = ("^GSPC", "^IXIC", "NOVA", "BNKA", "PTRX")


async def _trader(url: str, i: int, stop_at: float, acked: list, errors: list) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    rng = random.Random(1000 + i)
    first = dt.date(2012, 1, 4)
    async with streamablehttp_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for k in range(TRADES_PER_CLIENT):
                if time.perf_counter() > stop_at:
                    break
                day = first + dt.timedelta(days=rng.randrange(0, 2550))  # weekends and holidays too
                order = {"portfolio": CROWD, "ticker": rng.choice(CROWD_TICKERS),
                         "side": "buy" if rng.random() < 0.6 else "sell", "shares": rng.randint(1, 120),
                         "date": day.isoformat()}
                calls = [("place_trade", order)]
                if k % 3 == 0:
                    calls.append(("get_portfolio", {"name": CROWD}))
                if k % 5 == 1:
                    calls.append(("list_trades", {"portfolio": CROWD, "limit": 5}))
                if k % 7 == 2:
                    calls.append(("list_portfolios", {}))
                for tool, args in calls:
                    result = await session.call_tool(tool, args)
                    text = "\n".join(c.text for c in result.content if hasattr(c, "text"))
                    if result.isError:
                        errors.append(f"{tool}: {text[:300]}")
                    elif tool == "place_trade":
                        answer = json.loads(text)
                        acked.append((answer["trade"]["id"], answer["trade"]["status"], order))
                        if answer["cash"] < -CENT or answer["shares_held"] < 0:
                            errors.append(f"negative book in an answer: {answer}")
                    elif tool == "get_portfolio":
                        value = json.loads(text)
                        if value["cash"] < -CENT or any(p["shares"] <= 0 for p in value["positions"]):
                            errors.append(f"negative book in a valuation: {value}")


def test_concurrent_clients_trading_one_book_keep_it_consistent(exported, cache_dir, tmp_path):
    db = fresh_db(initial_db(exported), tmp_path)
    acked, errors = [], []
    with serve_process(db, cache_dir, args=SERVE_ARGS) as (_, url):
        (opened,) = mcp_calls(f"{url}/mcp", [("create_portfolio", {"name": CROWD, "cash": CROWD_CASH, "inception_date": "2012-01-03"})])
        assert not opened.is_error, opened.text

        async def run():
            stop_at = time.perf_counter() + 20
            await asyncio.wait_for(asyncio.gather(*(_trader(f"{url}/mcp", i, stop_at, acked, errors) for i in range(CLIENTS))), 60)
        started = time.perf_counter()
        asyncio.run(run())
        took = time.perf_counter() - started
    assert not errors, errors[:5]
    statuses = [s for _, s, _ in acked]
    print(f"\nrisk desk: {CLIENTS} clients, {len(acked)} orders on one book in {took:.1f} s: "
          f"{statuses.count('filled')} filled, {statuses.count('rejected')} rejected")
    assert len(acked) >= CLIENTS * 5
    assert statuses.count("filled") >= 10 and statuses.count("rejected") >= 3  # both paths ran under contention
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM tool_calls WHERE status = 'error'").fetchone()[0] == 0
    trades = check_books(db, cache_dir, serial=CROWD)[CROWD]
    rows = {t[0]: t for t in trades}
    assert len(rows) == len(acked) == len({tid for tid, _, _ in acked})  # one row per answered order, no more
    for tid, status, order in acked:  # each answer is what the blotter holds
        row = rows[tid]
        assert (row[1], row[2], row[3], row[4], row[8]) == (order["ticker"], order["side"], order["shares"], order["date"], status)


# --- 4. kill -9 during trades ----------------------------------------------------------------
async def _hammer(url: str, seconds: float, acked: list, sent: list) -> None:
    """One client writing as fast as it can (books, limits, filled and rejected orders) until
    the server dies under it: ``sent`` gets every call as it goes out, ``acked`` every
    answer that came back."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    rng = random.Random(7)
    deadline = time.perf_counter() + seconds
    try:
        async with streamablehttp_client(url) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                k = 0
                while time.perf_counter() < deadline:
                    name = f"kill {k}"
                    calls = [
                        ("create_portfolio", {"name": name, "cash": 100_000 + k, "inception_date": "2014-01-02"}),
                        ("set_limit", {"portfolio": name, "metric": "max_position_weight", "threshold": 0.6}),
                        ("place_trade", {"portfolio": name, "ticker": "NOVA", "side": "buy", "shares": 40 + k % 50,
                                         "date": "2015-06-01"}),
                        ("place_trade", {"portfolio": name, "ticker": "^GSPC", "side": "buy", "shares": 30,
                                         "date": "2016-03-01"}),  # ~60 k of 100 k: over the weight cap, rejected
                        ("place_trade", {"portfolio": name, "ticker": "NOVA", "side": "sell", "shares": 10,
                                         "date": "2014-06-02"}),  # back-dated before the buy: rejected
                        ("place_trade", {"portfolio": SEEDED[k % 5], "ticker": rng.choice(("^GSPC", "NOVA", "BNKA")),
                                         "side": rng.choice(("buy", "sell")), "shares": rng.randint(1, 20),
                                         "date": "2018-06-01"}),
                        ("set_limit", {"portfolio": SEEDED[(k + 2) % 5], "metric": "max_drawdown",
                                       "threshold": round(0.3 + 0.01 * (k % 10), 2)}),
                    ]
                    for tool, args in calls:
                        sent.append((tool, args))
                        result = await session.call_tool(tool, args)
                        text = "\n".join(c.text for c in result.content if hasattr(c, "text"))
                        acked.append((tool, args, None if result.isError else json.loads(text)))
                    k += 1
    except BaseException:  # noqa: BLE001 - the server is killed under us on purpose
        pass


@pytest.mark.parametrize("delay", [0.4, 1.1, 2.3])
def test_kill_9_during_trades_leaves_consistent_books(exported, cache_dir, tmp_path, delay):
    db = fresh_db(initial_db(exported), tmp_path)
    with closing(sqlite3.connect(db)) as conn:
        seeded_trades = conn.execute("SELECT COUNT(*) FROM trades").fetchone()[0]
    acked: list = []
    sent: list = []
    with serve_process(db, cache_dir, args=SERVE_ARGS) as (proc, url):
        warm = mcp_calls(f"{url}/mcp", [("list_tickers", {}), ("check_limits", {"portfolio": BOOK, "date": D})])
        assert not any(w.is_error for w in warm)

        async def run():
            task = asyncio.create_task(_hammer(f"{url}/mcp", 15, acked, sent))
            await asyncio.sleep(delay)
            os.killpg(proc.pid, signal.SIGKILL)
            await asyncio.wait_for(task, 30)
        asyncio.run(run())
    answered = [(tool, args, answer) for tool, args, answer in acked if answer is not None]
    refused = [(tool, args) for tool, args, answer in acked if answer is None]
    assert answered, "nothing was written before the kill: raise the delay"
    assert not refused, refused[:3]  # every call of the script is valid: refusals mean trouble before the kill
    in_flight = sent[len(acked):]  # the call the kill interrupted: it may or may not have committed
    assert len(in_flight) <= 1
    with closing(sqlite3.connect(db)) as conn:  # opening it rolls back a hot journal, if any
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        limits = {(name, metric): t for name, metric, t in conn.execute(
            "SELECT p.name, l.metric, l.threshold FROM limits l JOIN portfolios p ON p.id = l.portfolio_id")}
        names = {n for (n,) in conn.execute("SELECT name FROM portfolios")}
        n_trades = conn.execute("SELECT COUNT(*) FROM trades").fetchone()[0]
    assert all(0 < t <= 1 for t in limits.values())
    books = check_books(db, cache_dir)
    # Every write answered before the kill survived it, as answered; nothing else was
    # written but, at most, the one call in flight.
    maybe = {args.get("name") for tool, args in in_flight if tool == "create_portfolio"}
    created = {args["name"] for tool, args, _ in answered if tool == "create_portfolio"}
    assert created <= names and names - created - set(SEEDED) <= maybe
    trades = {row[0]: row for rows in books.values() for row in rows}
    placed = [(args, answer) for tool, args, answer in answered if tool == "place_trade"]
    for args, answer in placed:
        row = trades[answer["trade"]["id"]]
        assert (row[1], row[2], row[3], row[8]) == (answer["trade"]["ticker"], args["side"], args["shares"],
                                                    answer["trade"]["status"])
    extra = n_trades - seeded_trades - len(placed)
    assert extra == 0 or (extra == 1 and in_flight and in_flight[0][0] == "place_trade"), extra
    last: dict = {}
    for tool, args, _ in answered:
        if tool == "set_limit":
            last[(args["portfolio"], args["metric"])] = args["threshold"]
    for key, threshold in last.items():
        pending = [a["threshold"] for t, a in in_flight if t == "set_limit" and (a["portfolio"], a["metric"]) == key]
        assert limits[key] in (threshold, *pending), (key, limits[key], threshold)
    statuses = {answer["trade"]["status"] for _, answer in placed}
    print(f"\nkill after {delay} s: {len(answered)} answered writes ({len(placed)} orders, {sorted(statuses)}), "
          f"in flight: {[t for t, _ in in_flight]}")
    with serve_process(db, cache_dir, args=SERVE_ARGS) as (_, url):  # it restarts and serves the same state
        results = mcp_calls(f"{url}/mcp", [("list_portfolios", {}), *[("get_portfolio", {"name": n}) for n in sorted(names)],
                                           ("place_trade", {"portfolio": BOOK, "ticker": "^GSPC", "side": "buy",
                                                            "shares": 1, "date": "2018-12-31"})])
    assert not any(r.is_error for r in results), [r.text[:200] for r in results if r.is_error]
    assert {b["name"] for b in results[0].json()["data"]} == names
    assert results[-1].json()["trade"]["status"] == "filled"
    check_books(db, cache_dir)
