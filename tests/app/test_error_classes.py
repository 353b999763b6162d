"""Failed tool calls as a harness classes them: through a real MCP client (streamable HTTP,
a real uvicorn server on 127.0.0.1), every kind of bad argument to every tool family is
``invalid_args`` under OpenEnv's AWM rule (copied in ``openenv_awm_rule``), and a genuine
server fault is not. The texts stay short and keep fastapi-mcp's "Status code: NNN"."""

import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest

from tests.app.openenv_awm_rule import classify_tool_error
from tests.support import fresh_db, mcp_calls, mcp_list_tools, phinance_app, served

pytestmark = pytest.mark.integration

STATUS = re.compile(r"Status code: (\d{3})\.")
D = {"start": "2017-01-03", "end": "2017-12-29"}

# (kind, tool, arguments, words the message must hold). "mcp" = refused by the MCP layer's
# schema check before the app; every other case reaches the app and answers 4xx.
MATRIX = [
    # unknown or malformed tickers, in every family
    ("unknown ticker", "get_ticker", {"ticker": "ZZZZ"}, "unknown ticker 'ZZZZ'"),
    ("unknown ticker", "get_price_history", {"ticker": "ZZZZ"}, "unknown ticker"),
    ("unknown ticker", "get_projection", {"ticker": "ZZZZ"}, "unknown ticker"),
    ("unknown ticker", "compare_projections", {"tickers": "NOVA,ZZZZ"}, "unknown ticker 'ZZZZ'"),
    ("unknown ticker", "run_backtest", {"tickers": "ZZZZ", **D}, "unknown ticker"),
    ("unknown ticker", "track_ticker", {"ticker": "ZZZZ"}, "unknown ticker"),
    ("unknown ticker", "create_alert", {"ticker": "ZZZZ", "metric": "p_up", "operator": ">", "threshold": 0.6}, "unknown ticker"),
    ("unknown ticker", "add_watchlist_item", {"watchlist": "Core Indices", "ticker": "ZZZZ"}, "unknown ticker"),
    ("unknown ticker", "create_note", {"title": "t", "body": "b", "ticker": "ZZZZ"}, "unknown ticker"),
    ("bad symbol", "list_projection_runs", {"ticker": "no such"}, "not a valid symbol"),
    ("bad symbol", "list_alerts", {"ticker": "$$$"}, "not a valid symbol"),
    ("bad symbol", "list_notes", {"ticker": "a b"}, "not a valid symbol"),
    ("bad symbol", "remove_watchlist_item", {"watchlist": "Core Indices", "ticker": "!"}, "not a valid symbol"),
    ("bad symbol", "delete_alert", {"ticker": "?"}, "not a valid symbol"),
    ("not tracked", "untrack_ticker", {"ticker": "AUTM"}, "AUTM is not tracked"),
    ("not on the list", "remove_watchlist_item", {"watchlist": "Core Indices", "ticker": "AUTM"}, "not on watchlist"),
    # dates that are not dates, or lie outside the data
    ("not a date", "get_price_history", {"ticker": "^GSPC", "end": "2018-02-30"}, "is not a date"),
    ("not a date", "get_projection", {"ticker": "^GSPC", "as_of_date": "yesterday"}, "is not a date"),
    ("not a date", "compare_projections", {"tickers": "NOVA", "as_of_date": "2018/06/29"}, "is not a date"),
    ("not a date", "run_backtest", {"tickers": "^GSPC", "start": "2017-13-01", "end": "2017-12-29"}, "is not a date"),
    ("outside the data", "get_projection", {"ticker": "^GSPC", "as_of_date": "1850-01-01"}, "outside the data"),
    ("outside the data", "compare_projections", {"tickers": "NOVA", "as_of_date": "2030-01-02"}, "outside the data"),
    ("outside the data", "get_price_history", {"ticker": "^GSPC", "start": "2030-01-01", "end": "2040-01-01"}, "no bars"),
    ("outside the data", "run_backtest", {"tickers": "^GSPC", "start": "1000-01-01", "end": "9999-12-31"}, "reaches outside"),
    ("start after end", "run_backtest", {"tickers": "^GSPC", "start": "2018-12-31", "end": "2018-01-01"}, "after end"),
    # duplicates and conflicts with existing state (the initial workspace has that alert)
    ("duplicate name", "create_watchlist", {"name": "Core Indices"}, "already exists"),
    ("duplicate item", "add_watchlist_item", {"watchlist": "Core Indices", "ticker": "^GSPC"}, "already on watchlist"),
    ("duplicate alert", "create_alert", {"ticker": "NOVA", "metric": "p_up", "operator": ">", "threshold": 0.6}, "identical alert"),
    ("already tracked", "track_ticker", {"ticker": "NOVA"}, "already tracked"),
    ("duplicate ticker", "create_watchlist", {"name": "Dupes", "tickers": "NOVA,NOVA"}, "duplicate ticker"),
    ("duplicate ticker", "run_backtest", {"tickers": "NOVA,NOVA", **D}, "duplicate ticker"),
    # unknown ids and names
    ("unknown run id", "get_projection_run", {"run_id": 987654}, "no projection run with id 987654"),
    ("unknown run id", "get_backtest_run", {"run_id": 987654}, "no backtest run with id 987654"),
    ("unknown run id", "create_note", {"title": "t", "body": "b", "backtest_run_id": 987654}, "no backtest run"),
    ("unknown alert id", "delete_alert", {"alert_id": 987654}, "no alert with id"),
    ("unknown watchlist", "delete_watchlist", {"name": "Nope"}, "no watchlist named 'Nope'"),
    ("unknown watchlist", "add_watchlist_item", {"watchlist": "Nope", "ticker": "NOVA"}, "no watchlist named"),
    ("unknown sector", "list_tickers", {"sector": "Nope"}, "unknown sector"),
    # other values the app refuses: a field check (FastAPI 422) or a tool's own rule
    ("field check", "create_watchlist", {"name": " "}, "name: must not be empty"),
    ("field check", "create_note", {"title": "t", "body": "b" * 10_001}, "body: at most 10000 characters allowed (got 10,001)"),
    ("field check", "get_ticker", {"ticker": "no\tva"}, "ticker: control characters"),
    ("bad horizon", "get_projection", {"ticker": "^GSPC", "horizon": "99d"}, "1d..63d"),
    ("bad horizon", "create_alert", {"ticker": "NOVA", "metric": "p_up", "operator": ">", "threshold": 0.6, "horizon": "x"}, "horizon"),
    ("out of range", "create_alert", {"ticker": "NOVA", "metric": "p_up", "operator": ">", "threshold": 2}, "out of range"),
    ("one of two", "delete_alert", {}, "exactly one of alert_id"),
    ("too many", "run_backtest", {"tickers": ",".join(f"T{i}" for i in range(11)), **D}, "at most 10"),
    ("empty list", "compare_projections", {"tickers": ""}, "empty"),
    ("too few sessions", "run_backtest", {"tickers": "^GSPC", "start": "1999-01-04", "end": "1999-03-01"}, "too few sessions"),
    # refused by the MCP layer's schema check (a missing argument, a wrong type, a bound)
    ("mcp", "get_ticker", {}, "'ticker' is a required property"),
    ("mcp", "run_backtest", {"tickers": "^GSPC"}, "required property"),
    ("mcp", "get_price_history", {"ticker": "^GSPC", "limit": 0}, "minimum"),
    ("mcp", "list_backtest_runs", {"limit": 1000}, "maximum"),
    ("mcp", "list_watchlists", {"limit": "x"}, None),  # no arguments at all: extra ones are ignored
]
NO_ARGUMENTS = {"list_watchlists"}  # nothing to get wrong; it answers even with stray arguments


@pytest.fixture(scope="module")
def answers(exported, tmp_path_factory):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path_factory.mktemp("classes"))
    with served(phinance_app(db)) as url:
        tools = {t.name for t in mcp_list_tools(f"{url}/mcp")}
        results = mcp_calls(f"{url}/mcp", [(tool, args) for _, tool, args, _ in MATRIX])
    return tools, results


def test_every_tool_is_in_the_matrix(answers):
    tools, _ = answers
    assert tools == {tool for _, tool, _, _ in MATRIX}


@pytest.mark.parametrize("i", range(len(MATRIX)), ids=[f"{k}-{t}" for k, t, _, _ in MATRIX])
def test_bad_arguments_are_classed_invalid_args(answers, i):
    kind, tool, args, words = MATRIX[i]
    result = answers[1][i]
    if tool in NO_ARGUMENTS:
        assert not result.is_error, result.text[:300]
        return
    assert result.is_error, (tool, args)
    assert classify_tool_error(result.text) == "invalid_args", result.text[:300]
    assert words in result.text, result.text[:300]
    assert len(result.text) < 1_000 and "Traceback" not in result.text
    if kind == "mcp":
        assert result.text.startswith("Input validation error: ")
    else:  # reached the app: fastapi-mcp's marker and a 4xx that says so in words
        status = STATUS.search(result.text)
        assert status and 400 <= int(status.group(1)) < 500, result.text[:300]
        assert f'"detail":"invalid argument: ' in result.text, result.text[:300]


def test_a_duplicate_watchlist_reads_as_a_bad_argument(answers):
    (result,) = [answers[1][i] for i, (k, *_) in enumerate(MATRIX) if k == "duplicate name"]
    assert result.text == ('Error calling create_watchlist. Status code: 409. Response: {"detail":"invalid argument: '
                           'a watchlist named \'Core Indices\' already exists; pick another name"}')


def test_an_unknown_tool_is_classed_tool_not_found(exported, tmp_path):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    with served(phinance_app(db)) as url:
        (result,) = mcp_calls(f"{url}/mcp", [("get_tickr", {"ticker": "NOVA"})])
    assert result.is_error and classify_tool_error(result.text) == "tool_not_found"


@pytest.fixture
def neutral_dir():
    """A work folder whose path holds none of the rule's words (pytest's tmp_path holds the
    test's name, and a 503 message naming a file would carry it)."""
    path = Path(tempfile.mkdtemp(prefix="phx-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _faults(exported, cache_dir, work: Path):
    """Three genuine server faults (503), each with calls that meet it: a state DB that
    cannot log the call (every tool), a corrupt bar store and a state DB exported against
    other bar data (the tools that read bars)."""
    from phinance_env.app import create_app
    from phinance_env.state import state_engine

    broken = fresh_db(exported / "databases" / "phinance_01.db", work / "broken")
    with sqlite3.connect(broken) as conn:
        conn.execute("DROP TABLE tool_calls")
    corrupt = work / "corrupt" / "bars.db"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"this is not a database" * 100)
    stale = work / "stale" / "bars.db"
    stale.parent.mkdir()
    shutil.copy(cache_dir / "bars.db", stale)
    with sqlite3.connect(stale) as conn:
        conn.execute("UPDATE meta SET value = 'feedfacefeedface' WHERE key = 'builtin_fingerprint'")
    state = lambda name: state_engine(fresh_db(exported / "databases" / "phinance_01.db", work / name))  # noqa: E731
    bars = [("get_ticker", {"ticker": "NOVA"}), ("run_backtest", {"tickers": "NOVA", **D})]
    return {
        "state database unavailable": (create_app(state_engine(broken), "phinance_01", cache_dir / "bars.db"),
                                       [*bars, ("list_watchlists", {}), ("create_watchlist", {"name": "w"})]),
        "corrupt or unreadable": (create_app(state("c"), "phinance_01", corrupt), bars),
        "changed since this state DB was exported": (create_app(state("s"), "phinance_01", stale), bars),
    }


def test_server_faults_are_not_classed_as_bad_arguments(exported, cache_dir, neutral_dir):
    from phinance_env.app import mount_mcp

    for words, (app, calls) in _faults(exported, cache_dir, neutral_dir).items():
        with served(mount_mcp(app)) as url:
            results = mcp_calls(f"{url}/mcp", calls)
        for result in results:
            assert result.is_error and words in result.text, result.text[:300]
            assert "Status code: 503." in result.text and "invalid argument" not in result.text
            assert classify_tool_error(result.text) == "server_error", result.text[:300]


def test_the_openenv_error_kind_agrees(answers):
    """Our own OpenEnv server sorts by the status code fastapi-mcp writes: it reads the
    same 4xx answers as invalid arguments."""
    pytest.importorskip("openenv")
    from openenv.core.env_server.mcp_types import ToolErrorType

    from phinance_env.episodes.engine import ToolReply
    from phinance_env.openenv.environment import error_kind

    for (_, tool, _, _), result in zip(MATRIX, answers[1]):
        if tool not in NO_ARGUMENTS:
            assert error_kind(ToolReply(result.text, True)) == ToolErrorType.INVALID_ARGS, result.text[:200]
