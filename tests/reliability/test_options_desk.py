"""Reliability of the options desk (options_vol_01) with real servers and a real MCP client,
as test_risk_desk does for portfolio_risk_01: schemathesis over its OpenAPI, a matrix of
hostile arguments for each of its 15 tools, concurrent clients adding positions to one
book, and kill -9 while strategies and positions are being written.

Every tool call writes (a pricing or an analysis is logged as a run), so the concurrent
clients contend for the write lock on every call, not only on add_position. After a kill,
the state is checked against the answers the client got: every answered write is there as
answered, every strategy has its legs, and nothing else was written but, at most, the one
call in flight.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import time
from contextlib import closing

import pytest

from tests.support import dump, fresh_db, mcp_calls, phinance_app, serve_process, served

pytestmark = pytest.mark.integration

SCENARIO = "options_vol_01"
SERVE_ARGS = ("--scenario", SCENARIO)
DESK_TABLES = ("strategies", "strategy_legs", "option_books", "book_positions", "runs", "notes")
TOOLS = {"get_option_chain", "price_option", "implied_volatility", "compare_to_projection", "hedge_backtest",
         "build_strategy", "list_strategies", "analyze_strategy", "open_book", "add_position", "list_book",
         "book_greeks", "list_runs", "create_note", "list_notes"}
SEEDED_STRATEGIES = ("SPX July 2700/2750 call spread", "NOVA April straddle")
BOOK = "Index Overlay"  # seeded: ^GSPC stock and a short August call, both at 2018-06-29
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


def check_db(db) -> None:
    """SQLite's own checks, and no strategy without legs nor legs without a strategy."""
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        bare = conn.execute("SELECT name FROM strategies s WHERE NOT EXISTS "
                            "(SELECT 1 FROM strategy_legs l WHERE l.strategy_id = s.id)").fetchall()
        orphans = conn.execute("SELECT id FROM strategy_legs l WHERE NOT EXISTS "
                               "(SELECT 1 FROM strategies s WHERE s.id = l.strategy_id)").fetchall()
        stray = conn.execute("SELECT id FROM book_positions p WHERE NOT EXISTS "
                             "(SELECT 1 FROM option_books b WHERE b.id = p.book_id)").fetchall()
        too_many = conn.execute("SELECT strategy_id FROM strategy_legs GROUP BY strategy_id HAVING COUNT(*) > 6").fetchall()
    assert bare == [] and orphans == [] and stray == [] and too_many == [], (bare, orphans, stray, too_many)


# --- 1. fuzz ---------------------------------------------------------------------------------
def test_every_options_operation_survives_fuzzing(exported, tmp_path):
    """As test_fuzz does for phinance_01: no 5xx, every response conforms to its schema.
    Schema-valid requests may be refused (an expiry that is not listed, a strike off the
    grid, an unknown strategy): business rules the schema cannot state, so that one check
    is left out."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    db = fresh_db(initial_db(exported), tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", phinance_app(db, mcp=False, scenario=SCENARIO))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 15
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
    check_db(db)  # whatever the fuzzer managed to write, nothing is half-written


# --- 2. hostile input ------------------------------------------------------------------------
SQL = "x'); DROP TABLE strategies; --"
LONG = "A" * 100_000  # in a POST body: the app refuses it with one short message
LONG_QUERY = "A" * 60_000  # in a GET query: still under the MCP bridge's URL limit (64 KiB)
TOO_LONG_URL = "query' too long"  # the MCP bridge (httpx) will not build the URL: never reaches the app
SCHEMA = "Input validation error"
NOT_A_DATE = "is not a date"
OUTSIDE = "outside the data: accepted 1999-01-04..2018-12-31"
OUTSIDE_NOVA = "outside the data: accepted 2005-01-03..2018-12-31"  # NOVA's closes start later
NO_TICKER = "unknown ticker 'ZZZZ'"
VIX = "^VIX has no options"
BAD_SYMBOL = "not a valid symbol"
CONTROL = "control characters"
EXPIRED = "is not after the as-of session"
UNLISTED = "no listed expiry on"
OFF_GRID = "is not on the grid"
SHORT_HISTORY = "the surface needs 253 closes"
NO_STRATEGY = "no strategy named"
NO_BOOK = "no book named"
OFF_GRID_STRATEGY = "Off grid NOVA call"  # opened by the test: a 473 call, between the grid's 470 and 475
ODD_EXPIRY_STRATEGY = "Saturday NOVA call"  # opened by the test: expiry 2016-04-16, the day after the listed one
SPX = dict(ticker="^GSPC", as_of_date="2018-06-29", expiry="2018-07-20", strike=2700, kind="put")
NOVA = dict(ticker="NOVA", as_of_date="2016-03-01", expiry="2016-04-15", strike=475, kind="call")
HEDGE = dict(ticker="^GSPC", start="2018-06-29", expiry="2018-07-20", strike=2700, kind="put")
ADD = dict(book=BOOK, ticker="NOVA", instrument="put", quantity=1, as_of_date="2016-03-01", expiry="2016-04-15",
           strike=470)
CALL_475 = {"kind": "call", "strike": 475, "quantity": 1}


def _legs(*legs) -> str:
    return json.dumps(list(legs))


def _case(tool: str, base: dict, words: str, drop: tuple[str, ...] = (), **change) -> tuple[str, dict, str]:
    args = {k: v for k, v in {**base, **change}.items() if k not in drop}
    return (tool, args, words)


def _price(words, **change):
    return _case("price_option", SPX, words, **change)


def _iv(words, **change):
    return _case("implied_volatility", {**SPX, "price": 20.0}, words, **change)


def _hedge(words, **change):
    return _case("hedge_backtest", HEDGE, words, **change)


def _build(words, **change):
    return _case("build_strategy", dict(name="fresh", ticker="NOVA", expiry="2016-04-15", legs=_legs(CALL_475)),
                 words, **change)


def _add(words, drop=(), **change):
    return _case("add_position", ADD, words, drop, **change)


def _note(words, **change):
    return _case("create_note", dict(title="t", body="b"), words, **change)


CASES: list[tuple[str, dict, str]] = [
    # get_option_chain
    ("get_option_chain", {"ticker": "ZZZZ", "as_of_date": "2018-06-29"}, NO_TICKER),
    ("get_option_chain", {"ticker": "^VIX", "as_of_date": "2018-06-29"}, VIX),
    ("get_option_chain", {"ticker": SQL, "as_of_date": "2018-06-29"}, BAD_SYMBOL),
    ("get_option_chain", {"ticker": "ＮＯＶＡ", "as_of_date": "2018-06-29"}, BAD_SYMBOL),
    ("get_option_chain", {"ticker": "\u202eNOVA", "as_of_date": "2018-06-29"}, BAD_SYMBOL),
    ("get_option_chain", {"ticker": "NOVA\x00", "as_of_date": "2018-06-29"}, CONTROL),
    ("get_option_chain", {"ticker": LONG_QUERY, "as_of_date": "2018-06-29"}, "ticker: at most 40 characters"),
    ("get_option_chain", {"ticker": LONG, "as_of_date": "2018-06-29"}, TOO_LONG_URL),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2018-02-30"}, NOT_A_DATE),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2018/06/29"}, NOT_A_DATE),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "0000-00-00"}, NOT_A_DATE),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2018-06-29T16:00"}, "at most 10 characters"),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "1998-12-31"}, OUTSIDE),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2019-01-02"}, OUTSIDE),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "9999-12-31"}, OUTSIDE),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "1999-01-04"}, SHORT_HISTORY),
    ("get_option_chain", {"ticker": "NOVA", "as_of_date": "2005-06-01"}, SHORT_HISTORY),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2018-06-29", "expiry": "2018-06-15"}, EXPIRED),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2018-06-29", "expiry": "2018-07-21"}, UNLISTED),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2018-06-29", "expiry": "2020-01-17"}, UNLISTED),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2018-06-29", "kind": "straddle"}, "is not one of"),
    ("get_option_chain", {"ticker": "^GSPC", "as_of_date": 20180629}, "not of type 'string'"),
    ("get_option_chain", {"ticker": "^GSPC"}, "required"),
    # price_option
    _price(NO_TICKER, ticker="ZZZZ"),
    _price(VIX, ticker="^VIX"),
    _price(OFF_GRID, strike=2701),
    _price(OFF_GRID, strike=1e7),
    _price("minimum", strike=0),
    _price("minimum", strike=-2700),
    _price("maximum", strike=1e8),
    _price("not of type 'number'", strike="NaN"),
    _price("not of type 'number'", strike="Infinity"),
    _price("not of type 'number'", strike=float("nan")),  # the client sends NaN as null
    _price("not of type 'number'", strike=True),
    _price("minimum", volatility=0),
    _price("minimum", volatility=-0.2),
    _price("maximum", volatility=5.01),
    _price("not of type 'number'", volatility=float("inf")),
    _price("is not one of", kind="CALL"),
    _price(EXPIRED, as_of_date="2018-07-20"),
    _price(EXPIRED, as_of_date="2018-08-01"),
    _price(UNLISTED, expiry="2018-07-19"),
    _price(NOT_A_DATE, expiry="2018-07-2x"),
    _price(NOT_A_DATE, as_of_date="2017-02-29"),
    _price(OUTSIDE, as_of_date="1900-01-01"),
    _price("required", drop=("strike",)),
    # implied_volatility
    _iv("outside the no-arbitrage bounds", price=5000.0),  # a put is worth less than its discounted strike
    _iv("outside the no-arbitrage bounds", price=1e7),
    _iv("carries no time value", price=1e-300),
    _case("implied_volatility", {**NOVA, "strike": 440, "price": 10.0}, "outside the no-arbitrage bounds"),  # < intrinsic 32.57
    _case("implied_volatility", {**NOVA, "strike": 500, "price": 473.0}, "outside the no-arbitrage bounds"),  # > spot
    _iv("minimum", price=0),
    _iv("minimum", price=-1.0),
    _iv("maximum", price=1e8),
    _iv("not of type 'number'", price="NaN"),
    _iv("not of type 'number'", price=float("-inf")),
    ("implied_volatility", SPX, "required"),
    _iv(OFF_GRID, strike=2712.5),
    _iv(UNLISTED, expiry="2018-07-27"),
    _iv(EXPIRED, expiry="2018-06-29"),
    _iv(OUTSIDE, as_of_date="2019-01-02"),
    _iv(VIX, ticker="^VIX"),
    # compare_to_projection
    ("compare_to_projection", {"ticker": "^VIX", "as_of_date": "2018-06-29", "expiry": "2018-07-20"}, VIX),
    ("compare_to_projection", {"ticker": "ZZZZ", "as_of_date": "2018-06-29", "expiry": "2018-07-20"}, NO_TICKER),
    ("compare_to_projection", {"ticker": "^GSPC", "as_of_date": "2018-06-29", "expiry": "2018-06-15"}, EXPIRED),
    ("compare_to_projection", {"ticker": "^GSPC", "as_of_date": "2018-06-29", "expiry": "2018-07-13"}, UNLISTED),
    ("compare_to_projection", {"ticker": "^GSPC", "as_of_date": "1999-01-04", "expiry": "1999-01-15"}, SHORT_HISTORY),
    ("compare_to_projection", {"ticker": "^GSPC", "as_of_date": "2019-06-28", "expiry": "2019-07-19"}, OUTSIDE),
    ("compare_to_projection", {"ticker": "^GSPC", "as_of_date": "2018-06-29", "expiry": "next month"}, NOT_A_DATE),
    ("compare_to_projection", {"ticker": "^GSPC", "as_of_date": "2018-06-29"}, "required"),
    # hedge_backtest
    _hedge("after the last close", start="2018-12-03", expiry="2019-01-18"),  # listed, but past the data
    _hedge(UNLISTED, expiry="2018-07-19"),
    _hedge(EXPIRED, expiry="2018-06-15"),
    _hedge(OFF_GRID, strike=2701),
    _hedge("minimum", rebalance=0),
    _hedge("maximum", rebalance=64),
    _hedge("not of type 'integer'", rebalance="daily"),
    _hedge("not of type 'integer'", rebalance=1.5),
    _hedge("is not one of", position="flat"),
    _hedge("is not one of", kind="straddle"),
    _hedge(OUTSIDE, start="1998-06-01"),
    _hedge(NOT_A_DATE, start="2018-13-01"),
    _hedge(VIX, ticker="^VIX"),
    _hedge(NO_TICKER, ticker="ZZZZ"),
    # build_strategy: names, tickers, expiries
    _build("already exists", name="NOVA April straddle"),
    _build("name: at most 64 characters", name=LONG),
    _build("name: at most 64 characters", name=SQL * 3),
    _build("must not be empty", name="   "),
    _build(CONTROL, name="nul\x00name"),
    _build(CONTROL, name="esc\x1b[31m"),
    _build("not of type 'string'", name=123),
    _build(NO_TICKER, ticker="ZZZZ"),
    _build(VIX, ticker="^VIX"),
    _build(BAD_SYMBOL, ticker=SQL),
    _build(NOT_A_DATE, expiry="2016-02-30"),
    _build(NOT_A_DATE, expiry="April 2016"),
    _build("required", drop=("expiry",)),
    # build_strategy: legs
    _build("must be a JSON list", legs="not json"),
    _build("must be a JSON list", legs=SQL),
    _build("must be a JSON list", legs=LONG),
    _build("must be a JSON list", legs=""),
    _build("valid list", legs=json.dumps(CALL_475)),  # an object, not a list
    _build("valid list", legs="42"),
    _build("1 to 6 legs, got 0", legs="[]"),
    _build("1 to 6 legs, got 7", legs=_legs(*({"kind": "call", "strike": 450 + 5 * i, "quantity": 1} for i in range(7)))),
    _build("field required", legs=_legs({"type": "call", "strike": 475, "qty": 1})),
    _build("extra inputs are not permitted", legs=_legs({**CALL_475, "expiry": "2016-04-15"})),
    _build("valid dictionary", legs=_legs([CALL_475])),
    _build("must not be 0", legs=_legs({**CALL_475, "quantity": 0})),
    _build("an option leg needs a strike", legs=_legs({"kind": "put", "quantity": 1})),
    _build("an option leg needs a strike", legs=_legs({"kind": "put", "strike": None, "quantity": 1})),
    _build("a stock leg has none", legs=_legs({"kind": "stock", "strike": 475, "quantity": 1})),
    _build("two legs are the same", legs=_legs(CALL_475, {**CALL_475, "quantity": -2})),
    _build("two legs are the same", legs=_legs({"kind": "stock", "quantity": 1}, {"kind": "stock", "quantity": 1})),
    _build("two legs are the same", legs=_legs(CALL_475, {**CALL_475, "strike": 475.0})),
    _build("less than or equal to 1000", legs=_legs({**CALL_475, "quantity": 1001})),
    _build("greater than or equal to -1000", legs=_legs({**CALL_475, "quantity": -10**6})),
    _build("fractional part", legs=_legs({**CALL_475, "quantity": 1.5})),
    _build("greater than 0", legs=_legs({**CALL_475, "strike": -475})),
    _build("greater than 0", legs=_legs({**CALL_475, "strike": 0})),
    _build("less than or equal to 10000000", legs=_legs({**CALL_475, "strike": 1e8})),
    _build("less than or equal to 10000000", legs='[{"kind": "call", "strike": Infinity, "quantity": 1}]'),
    _build("less than or equal to 10000000", legs='[{"kind": "call", "strike": NaN, "quantity": 1}]'),
    _build("'call', 'put' or 'stock'", legs=_legs({**CALL_475, "kind": "straddle"})),
    _build("not of type 'string'", legs=[CALL_475]),  # a real list: the MCP schema says string
    _build("required", drop=("legs",)),
    # analyze_strategy
    ("analyze_strategy", {"name": "Nope", "as_of_date": "2016-03-01"}, NO_STRATEGY),
    ("analyze_strategy", {"name": SQL, "as_of_date": "2016-03-01"}, NO_STRATEGY),
    ("analyze_strategy", {"name": LONG_QUERY, "as_of_date": "2016-03-01"}, "name: at most 64 characters"),
    ("analyze_strategy", {"name": LONG, "as_of_date": "2016-03-01"}, TOO_LONG_URL),
    ("analyze_strategy", {"name": "bell\x07", "as_of_date": "2016-03-01"}, CONTROL),
    ("analyze_strategy", {"name": SEEDED_STRATEGIES[0], "as_of_date": "2018-07-20"}, EXPIRED),
    ("analyze_strategy", {"name": SEEDED_STRATEGIES[0], "as_of_date": "2018-12-31"}, EXPIRED),
    ("analyze_strategy", {"name": SEEDED_STRATEGIES[0], "as_of_date": "2019-01-02"}, OUTSIDE),
    ("analyze_strategy", {"name": SEEDED_STRATEGIES[0], "as_of_date": "2018-6-29"}, NOT_A_DATE),
    ("analyze_strategy", {"name": SEEDED_STRATEGIES[1], "as_of_date": "2005-06-01"}, SHORT_HISTORY),
    ("analyze_strategy", {"name": SEEDED_STRATEGIES[1], "as_of_date": "1998-12-31"}, OUTSIDE_NOVA),
    ("analyze_strategy", {"name": OFF_GRID_STRATEGY, "as_of_date": "2016-03-01"}, OFF_GRID),
    ("analyze_strategy", {"name": ODD_EXPIRY_STRATEGY, "as_of_date": "2016-03-01"}, UNLISTED),
    ("analyze_strategy", {"name": SEEDED_STRATEGIES[1]}, "required"),
    # open_book
    ("open_book", {"name": BOOK}, "already exists"),
    ("open_book", {"name": LONG}, "name: at most 64 characters"),
    ("open_book", {"name": SQL * 3}, "name: at most 64 characters"),
    ("open_book", {"name": ""}, "must not be empty"),
    ("open_book", {"name": "tab\tname"}, CONTROL),
    ("open_book", {"name": ["b"]}, "not of type 'string'"),
    ("open_book", {}, "required"),
    # add_position
    _add(NO_BOOK, book="Nope"),
    _add(NO_BOOK, book=SQL),
    _add("book: at most 64 characters", book=LONG),
    _add(CONTROL, book="Index\x00Overlay"),
    _add(NO_TICKER, ticker="ZZZZ"),
    _add(VIX, ticker="^VIX"),
    _add("ticker: at most 40 characters", ticker=LONG),
    _add("is not one of", instrument="future"),
    _add("must not be 0", quantity=0),
    _add("maximum", quantity=100_001),
    _add("minimum", quantity=-100_001),
    _add("maximum", quantity=2**63),
    _add("not of type 'integer'", quantity=1.5),
    _add("not of type 'integer'", quantity="NaN"),
    _add("needs expiry and strike", drop=("strike",)),
    _add("needs expiry and strike", drop=("expiry",)),
    _add("no expiry or strike", instrument="stock"),
    _add("no expiry or strike", instrument="stock", drop=("strike",)),
    _add(OFF_GRID, strike=473),
    _add(OFF_GRID, strike=1e-9),
    _add("minimum", strike=0),
    _add(UNLISTED, expiry="2016-04-16"),
    _add(EXPIRED, expiry="2016-02-19"),
    _add(NOT_A_DATE, expiry="2016-4-15"),
    _add(NOT_A_DATE, expiry=LONG),
    _add(OUTSIDE_NOVA, as_of_date="2019-01-02"),
    _add(OUTSIDE_NOVA, as_of_date="1998-12-31"),
    _add(NOT_A_DATE, as_of_date="2016-02-30"),
    _add(SHORT_HISTORY, as_of_date="2005-06-01"),
    # list_book
    ("list_book", {"name": "Nope"}, NO_BOOK),
    ("list_book", {"name": SQL}, NO_BOOK),
    ("list_book", {"name": LONG_QUERY}, "name: at most 64 characters"),
    ("list_book", {"name": LONG}, TOO_LONG_URL),
    ("list_book", {"name": ""}, "must not be empty"),
    ("list_book", {"name": "Index\rOverlay"}, CONTROL),
    ("list_book", {}, "required"),
    # book_greeks
    ("book_greeks", {"name": "Nope", "as_of_date": "2018-06-29"}, NO_BOOK),
    ("book_greeks", {"name": BOOK, "as_of_date": "1998-12-31"}, OUTSIDE),
    ("book_greeks", {"name": BOOK, "as_of_date": "2019-01-02"}, OUTSIDE),
    ("book_greeks", {"name": BOOK, "as_of_date": "2018-02-30"}, NOT_A_DATE),
    ("book_greeks", {"name": BOOK, "as_of_date": "1998-06-01"}, "outside the data"),
    ("book_greeks", {"name": BOOK}, "required"),
    # list_runs
    ("list_runs", {"limit": 0}, "minimum"),
    ("list_runs", {"limit": 201}, "maximum"),
    ("list_runs", {"limit": "NaN"}, "not of type 'integer'"),
    ("list_runs", {"offset": -1}, "minimum"),
    ("list_runs", {"offset": 1_000_001}, "maximum"),
    ("list_runs", {"offset": 2**63}, "maximum"),
    ("list_runs", {"offset": 2**64 + 1}, "maximum"),
    ("list_runs", {"tool": LONG_QUERY}, "tool: at most 40 characters"),
    ("list_runs", {"tool": "price\x00option"}, CONTROL),
    # create_note
    _note("title: at most 200 characters", title=LONG),
    _note("body: at most 10000 characters", body="B" * 100_001),
    _note("must not be empty", title=""),
    _note(CONTROL, title="t\x00"),
    _note(CONTROL, body="b\x1b[2J"),
    _note("not of type 'string'", title=["t"]),
    _note("no run 987654", run_id=987654),
    _note("no run 9223372036854775807", run_id=2**63 - 1),
    _note("minimum", run_id=0),
    _note("minimum", run_id=-1),
    _note("less than or equal to 9223372036854775807", run_id=2**63),
    _note("not of type 'integer'", run_id="one"),
    _note(NO_STRATEGY, strategy="Nope"),
    _note(NO_STRATEGY, strategy=SQL),
    _note("strategy: at most 64 characters", strategy=LONG),
    _note("required", drop=("body",)),
]
REFUSAL = re.compile(r"^Error calling (\w+)\. Status code: (\d+)\. Response: (.*)$", re.S)


def refusal_detail(text: str) -> tuple[int, str]:
    """(HTTP status, detail) of a tool's refusal as the MCP bridge words it."""
    match = REFUSAL.match(text)
    assert match, text[:300]
    return int(match[2]), json.loads(match[3])["detail"]


def _setup_calls() -> list[tuple[str, dict]]:
    """Strategies build_strategy accepts (it prices nothing) that analyze_strategy must refuse."""
    return [("build_strategy", dict(name=OFF_GRID_STRATEGY, ticker="NOVA", expiry="2016-04-15",
                                    legs=_legs({"kind": "call", "strike": 473, "quantity": 1}))),
            ("build_strategy", dict(name=ODD_EXPIRY_STRATEGY, ticker="NOVA", expiry="2016-04-16",
                                    legs=_legs(CALL_475)))]


def test_every_tool_refuses_hostile_input_and_changes_nothing(exported, tmp_path):
    db = fresh_db(initial_db(exported), tmp_path)
    assert len(CASES) >= 100
    with served(phinance_app(db, scenario=SCENARIO)) as url:
        setup = mcp_calls(f"{url}/mcp", _setup_calls())
        assert not any(s.is_error for s in setup), [s.text[:200] for s in setup]
        before, before_sql = desk_dump(db), dump(db, skip=("tool_calls",))
        with closing(sqlite3.connect(db)) as conn:
            last_call = conn.execute("SELECT MAX(id) FROM tool_calls").fetchone()[0]
        results = mcp_calls(f"{url}/mcp", [(tool, args) for tool, args, _ in CASES])
        # The two tools without arguments (they log no run) ignore stray ones and answer as usual.
        plain = mcp_calls(f"{url}/mcp", [("list_strategies", {}), ("list_notes", {})])
        stray = mcp_calls(f"{url}/mcp", [("list_strategies", {"name": SQL, "limit": -1}),
                                         ("list_notes", {"strategy": LONG_QUERY, "offset": 2**63})])
    assert {tool for tool, _, _ in CASES} | {"list_strategies", "list_notes"} == TOOLS
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
        assert not a.is_error and not b.is_error and b.json() == a.json()
    assert desk_dump(db) == before  # every desk table byte-identical
    assert dump(db, skip=("tool_calls",)) == before_sql
    check_db(db)
    with closing(sqlite3.connect(db)) as conn:
        new = conn.execute("SELECT tool, status, http_status FROM tool_calls WHERE id > ?", (last_call,)).fetchall()
    failed = [row for row in new if row[1] == "error"]
    assert len(failed) == reached_app and all(400 <= s < 500 for _, _, s in failed)
    assert {t for t, status, _ in new if status == "ok"} <= {"list_strategies", "list_notes"}


# Refusals this file found missing, now made (each was a 500 or an answer): kept apart so the
# reasons stay readable beside the cases.
KNOWN_GAPS = [
    # json.loads raised RecursionError past ~1000 levels: a 500
    pytest.param("build_strategy", dict(name="deep", ticker="NOVA", expiry="2016-04-15", legs="[" * 3000),
                 id="build_strategy-legs-nested-3000-deep"),
    # a strategy no session can analyze was saved
    pytest.param("build_strategy", dict(name="far", ticker="NOVA", expiry="2030-01-01", legs=_legs(CALL_475)),
                 id="build_strategy-expiry-2030"),
    pytest.param("build_strategy", dict(name="ancient", ticker="NOVA", expiry="0001-01-01", legs=_legs(CALL_475)),
                 id="build_strategy-expiry-0001"),
    # an empty book never built a chain, so the date was never checked against the data
    pytest.param("book_greeks", dict(name="Empty Book", as_of_date="1900-01-01"), id="book_greeks-empty-1900"),
    pytest.param("book_greeks", dict(name="Empty Book", as_of_date="2030-01-01"), id="book_greeks-empty-2030"),
    # date.fromisoformat reads '20180720xx' and ISO week dates; parse_date is strict now
    pytest.param("price_option", {**SPX, "expiry": "20180720xx"}, id="price_option-expiry-20180720xx"),
    pytest.param("add_position", {**ADD, "as_of_date": "2016-W09-2"}, id="add_position-as_of-iso-week-date"),
]


@pytest.mark.parametrize("tool, args", KNOWN_GAPS)
def test_known_gaps_are_refused(exported, tmp_path, tool, args):
    db = fresh_db(initial_db(exported), tmp_path)
    with served(phinance_app(db, scenario=SCENARIO)) as url:
        (opened,) = mcp_calls(f"{url}/mcp", [("open_book", {"name": "Empty Book"})])
        assert not opened.is_error, opened.text
        before = desk_dump(db)
        (result,) = mcp_calls(f"{url}/mcp", [(tool, args)])
    assert result.is_error, result.text[:300]
    assert "Internal Server Error" not in result.text and "Status code: 5" not in result.text, result.text[:300]
    assert result.text.startswith(SCHEMA) or refusal_detail(result.text)[1].startswith("invalid argument: ")
    assert desk_dump(db) == before


# --- 3. concurrent clients -------------------------------------------------------------------
CLIENTS = 6
CROWD = "Crowd Book"
SECONDS = 15
MARKETS = (("NOVA", "2016-03-01"), ("NOVA", "2016-03-02"), ("^GSPC", "2018-06-29"), ("^GSPC", "2018-06-28"))


async def _client(url: str, i: int, stop_at: float, chains: dict, acked: list, errors: list, counts: dict) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    rng = random.Random(500 + i)
    async with streamablehttp_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            k = 0
            while time.perf_counter() < stop_at:
                ticker, day = rng.choice(MARKETS)
                ch = chains[(ticker, day)]
                expiry = rng.choice(ch["expiries"][:3])
                spot = ch["spot"]
                near = [s for s in ch["strikes"] if 0.85 * spot <= s <= 1.15 * spot]
                strike = rng.choice(near)
                kind = rng.choice(("call", "put"))
                if rng.random() < 0.2:
                    order = dict(book=CROWD, ticker=ticker, instrument="stock", quantity=rng.choice((-1, 1)) * rng.randint(1, 50),
                                 as_of_date=day)
                else:
                    order = dict(book=CROWD, ticker=ticker, instrument=kind, quantity=rng.choice((-1, 1)) * rng.randint(1, 50),
                                 as_of_date=day, expiry=expiry, strike=strike)
                calls = [("add_position", order), ("price_option", dict(ticker=ticker, as_of_date=day, expiry=expiry,
                                                                         strike=strike, kind=kind))]
                if k % 3 == 0:
                    calls.append(("get_option_chain", dict(ticker=ticker, as_of_date=day, expiry=expiry, kind=kind)))
                if k % 4 == 1:
                    name, when = rng.choice(((SEEDED_STRATEGIES[0], "2018-06-29"), (SEEDED_STRATEGIES[1], "2016-03-01")))
                    calls.append(("analyze_strategy", dict(name=name, as_of_date=when)))
                if k % 6 == 2:
                    calls.append(("list_book", dict(name=CROWD)))
                if k % 9 == 5:
                    calls.append(("book_greeks", dict(name=CROWD, as_of_date="2018-06-29")))
                for tool, args in calls:
                    result = await session.call_tool(tool, args)
                    text = "\n".join(c.text for c in result.content if hasattr(c, "text"))
                    counts[tool] = counts.get(tool, 0) + 1
                    if result.isError:
                        errors.append(f"{tool} {args}: {text[:300]}")
                    elif tool == "add_position":
                        positions = json.loads(text)["positions"]
                        acked.append((max(p["id"] for p in positions), len(positions), order))
                    elif tool == "list_book":
                        ids = [p["id"] for p in json.loads(text)["positions"]]
                        if ids != sorted(ids) or len(set(ids)) != len(ids):
                            errors.append(f"list_book: positions out of order or repeated: {ids}")
                k += 1


def test_concurrent_clients_adding_to_one_book_keep_every_answer(exported, cache_dir, tmp_path):
    db = fresh_db(initial_db(exported), tmp_path)
    acked, errors, counts = [], [], {}
    with serve_process(db, cache_dir, args=SERVE_ARGS) as (_, url):
        warm = mcp_calls(f"{url}/mcp", [("open_book", {"name": CROWD}),
                                        *[("get_option_chain", {"ticker": t, "as_of_date": d}) for t, d in MARKETS]])
        assert not any(w.is_error for w in warm), [w.text[:200] for w in warm if w.is_error]
        chains = {m: w.json() for m, w in zip(MARKETS, warm[1:])}

        async def run():
            stop_at = time.perf_counter() + SECONDS
            await asyncio.wait_for(asyncio.gather(*(_client(f"{url}/mcp", i, stop_at, chains, acked, errors, counts)
                                                    for i in range(CLIENTS))), SECONDS + 45)
        started = time.perf_counter()
        asyncio.run(run())
        took = time.perf_counter() - started
    assert not errors, errors[:5]
    print(f"\noptions desk: {CLIENTS} clients for {took:.1f} s: {sum(counts.values())} calls {counts}")
    assert len(acked) >= CLIENTS * 5
    check_db(db)
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tool_calls WHERE status = 'error' OR http_status >= 500").fetchone()[0] == 0
        (book_id,) = conn.execute("SELECT id FROM option_books WHERE name = ?", (CROWD,)).fetchone()
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT id, ticker, instrument, expiry, strike, quantity, session, price FROM book_positions"
            " WHERE book_id = ? ORDER BY id", (book_id,))}
        n_runs = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    ids = [pid for pid, _, _ in acked]
    assert len(ids) == len(set(ids)) == len(rows) and set(ids) == set(rows)  # each answered add exactly once, no more
    ordered = sorted(rows)
    for pid, n_seen, order in acked:
        ticker, instrument, expiry, strike, quantity, session, price = rows[pid]
        assert (ticker, instrument, quantity, session) == (order["ticker"], order["instrument"], order["quantity"],
                                                           order["as_of_date"]), (pid, rows[pid], order)
        assert (expiry, strike) == (order.get("expiry"), order.get("strike") and float(order["strike"]))
        assert price > 0
        assert n_seen == ordered.index(pid) + 1  # the answer saw exactly the positions written before it
    priced = sum(counts.get(t, 0) for t in ("price_option", "get_option_chain", "analyze_strategy", "book_greeks"))
    assert n_runs >= priced  # every answered pricing and analysis was logged as a run


# --- 4. kill -9 during writes ----------------------------------------------------------------
NOVA_STRIKES = tuple(range(450, 505, 5))  # the grid at 2016-03-01: ..., 440, 450, 455, ..., 500, 510, ...


def _script(k: int, rng: random.Random) -> list[tuple[str, dict]]:
    """Round k of the writer: a strategy of 1-5 legs, positions in the seeded book and a
    new one, a note on the strategy. Every call is valid."""
    strikes = rng.sample(NOVA_STRIKES, 4)
    legs = [{"kind": "call", "strike": strikes[0], "quantity": 1}, {"kind": "put", "strike": strikes[1], "quantity": -2},
            {"kind": "call", "strike": strikes[2], "quantity": -1}, {"kind": "put", "strike": strikes[3], "quantity": 3},
            {"kind": "stock", "quantity": 1}][: 1 + k % 5]
    name, book = f"kill {k}", f"kill book {k}"
    return [
        ("build_strategy", dict(name=name, ticker="NOVA", expiry="2016-04-15", legs=json.dumps(legs))),
        ("add_position", dict(book=BOOK, ticker="NOVA", instrument=rng.choice(("call", "put")), quantity=1 + k % 7,
                              as_of_date="2016-03-01", expiry="2016-04-15", strike=rng.choice(NOVA_STRIKES))),
        ("open_book", dict(name=book)),
        ("add_position", dict(book=book, ticker="^GSPC", instrument="stock", quantity=-(k + 1), as_of_date="2018-06-29")),
        ("create_note", dict(title=f"note {k}", body="written under kill -9", strategy=name)),
    ]


async def _writer(url: str, seconds: float, acked: list, sent: list) -> None:
    """One client writing as fast as it can until the server dies under it: ``sent`` gets
    every call as it goes out, ``acked`` every answer that came back."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    rng = random.Random(9)
    deadline = time.perf_counter() + seconds
    try:
        async with streamablehttp_client(url) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                k = 0
                while time.perf_counter() < deadline:
                    for tool, args in _script(k, rng):
                        sent.append((tool, args))
                        result = await session.call_tool(tool, args)
                        text = "\n".join(c.text for c in result.content if hasattr(c, "text"))
                        acked.append((tool, args, None if result.isError else json.loads(text)))
                    k += 1
    except BaseException:  # noqa: BLE001 - the server is killed under us on purpose
        pass


@pytest.mark.parametrize("delay", [0.5, 1.6])
def test_kill_9_during_writes_leaves_whole_strategies_and_every_answer(exported, cache_dir, tmp_path, delay):
    db = fresh_db(initial_db(exported), tmp_path)
    with closing(sqlite3.connect(db)) as conn:
        seeded_positions = conn.execute("SELECT COUNT(*) FROM book_positions").fetchone()[0]
        seeded_names = {n for (n,) in conn.execute("SELECT name FROM strategies")}
        seeded_books = {n for (n,) in conn.execute("SELECT name FROM option_books")}
        seeded_notes = conn.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
    acked: list = []
    sent: list = []
    with serve_process(db, cache_dir, args=SERVE_ARGS) as (proc, url):
        warm = mcp_calls(f"{url}/mcp", [("get_option_chain", {"ticker": "NOVA", "as_of_date": "2016-03-01"}),
                                        ("get_option_chain", {"ticker": "^GSPC", "as_of_date": "2018-06-29"})])
        assert not any(w.is_error for w in warm)
        assert set(NOVA_STRIKES) <= set(warm[0].json()["strikes"]) and "2016-04-15" in warm[0].json()["expiries"]

        async def run():
            task = asyncio.create_task(_writer(f"{url}/mcp", 15, acked, sent))
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
    maybe = {tool for tool, _ in in_flight}
    check_db(db)  # opening it rolls back a hot journal, if any
    with closing(sqlite3.connect(db)) as conn:
        strategies = {name: (ticker, expiry, sorted(conn.execute(
            "SELECT kind, strike, quantity FROM strategy_legs WHERE strategy_id = ?", (sid,)).fetchall(), key=repr))
            for sid, name, ticker, expiry in conn.execute("SELECT id, name, ticker, expiry FROM strategies")}
        books = {n for (n,) in conn.execute("SELECT name FROM option_books")}
        positions = {r[0]: r[1:] for r in conn.execute(
            "SELECT p.id, b.name, p.ticker, p.instrument, p.expiry, p.strike, p.quantity FROM book_positions p"
            " JOIN option_books b ON b.id = p.book_id")}
        notes = {r[0]: r[1:] for r in conn.execute(
            "SELECT n.id, n.title, s.name FROM notes n LEFT JOIN strategies s ON s.id = n.strategy_id")}
    # Every write answered before the kill survived it, as answered.
    built = {args["name"]: (args, answer) for tool, args, answer in answered if tool == "build_strategy"}
    for name, (args, answer) in built.items():
        asked = sorted(((leg["kind"], leg.get("strike") and float(leg["strike"]), leg["quantity"])
                        for leg in json.loads(args["legs"])), key=repr)
        got = sorted(((leg["kind"], leg["strike"], leg["quantity"]) for leg in answer["legs"]), key=repr)
        assert got == asked and strategies[name] == ("NOVA", "2016-04-15", asked), name
    extra = set(strategies) - set(built) - seeded_names
    assert not extra or (maybe == {"build_strategy"} and extra == {in_flight[0][1]["name"]}), extra
    opened = {args["name"] for tool, args, _ in answered if tool == "open_book"}
    assert opened <= books
    assert books - opened - seeded_books <= ({in_flight[0][1]["name"]} if maybe == {"open_book"} else set())
    added = [(args, answer) for tool, args, answer in answered if tool == "add_position"]
    for args, answer in added:
        pid = max(p["id"] for p in answer["positions"])
        assert positions[pid] == (args["book"], args["ticker"], args["instrument"], args.get("expiry"),
                                  args.get("strike") and float(args["strike"]), args["quantity"]), (pid, args)
    extra_positions = len(positions) - seeded_positions - len(added)
    assert extra_positions == 0 or (extra_positions == 1 and maybe == {"add_position"}), extra_positions
    written = [answer for tool, _, answer in answered if tool == "create_note"]
    for answer in written:
        assert notes[answer["id"]] == (answer["title"], answer["strategy"])
    assert len(notes) - seeded_notes - len(written) in ((0, 1) if maybe == {"create_note"} else (0,))
    print(f"\nkill after {delay} s: {len(answered)} answered writes ({len(built)} strategies, {len(added)} positions), "
          f"in flight: {sorted(maybe)}")
    last = max(built, key=lambda n: int(n.split()[-1])) if built else SEEDED_STRATEGIES[1]
    with serve_process(db, cache_dir, args=SERVE_ARGS) as (_, url):  # it restarts and serves the same state
        results = mcp_calls(f"{url}/mcp", [
            ("list_strategies", {}), ("analyze_strategy", {"name": last, "as_of_date": "2016-03-01"}),
            ("list_book", {"name": BOOK}), ("list_notes", {}),
            ("build_strategy", dict(name="after the kill", ticker="NOVA", expiry="2016-04-15", legs=_legs(CALL_475))),
            ("add_position", ADD)])
    assert not any(r.is_error for r in results), [r.text[:200] for r in results if r.is_error]
    assert {s["name"] for s in results[0].json()["data"]} == set(strategies)
    assert results[1].json()["name"] == last
    assert [p["id"] for p in results[2].json()["positions"]] == sorted(pid for pid, p in positions.items() if p[0] == BOOK)
    assert results[3].json()["total"] == len(notes)
    assert results[-1].json()["positions"][-1]["strike"] == 470.0
    check_db(db)
