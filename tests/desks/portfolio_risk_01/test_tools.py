"""portfolio_risk_01's tools driven in-process through the real app, every figure they
report checked against an independent computation from the bar store's closes: pandas
closes per ticker, an explicit replay of the blotter, explicit sorting for quantiles,
scipy.stats.norm, statsmodels OLS, explicit loops for drawdown and chained returns, and
finite differences for Euler contributions. No expected value comes from the desk's own
analysis, risk, performance or ledger code.

The module builds one state DB and one main book ("Alpha"): six orders on different
sessions, one dated on a holiday, one on a Sunday, one back-dated, one with a lower-case
ticker. Tests that need to trade further open their own books.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from contextlib import closing
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

TICKERS = ("^GSPC", "^IXIC", "NOVA", "BNKA")
DESK_TABLES = ("portfolios", "positions", "trades", "limits", "reports", "notes")
MAIN = "Alpha"
START_CASH = 1_000_000.0
INCEPTION = "2012-01-03"
ORDERS = [  # ticker, side, shares, requested date, expected session
    ("^GSPC", "buy", 200, "2012-01-03", "2012-01-03"),
    ("NOVA", "buy", 400, "2013-03-01", "2013-03-01"),
    ("BNKA", "buy", 600, "2015-07-03", "2015-07-02"),  # Independence Day observed: a holiday
    ("^GSPC", "sell", 80, "2016-06-05", "2016-06-03"),  # a Sunday
    ("NOVA", "sell", 150, "2017-03-01", "2017-03-01"),
    ("bnka", "buy", 300, "2014-01-02", "2014-01-02"),  # back-dated before the 2015 buy; lower case
]


# --- independent ground: closes, sessions, the blotter replayed --------------------------------
@pytest.fixture(scope="module")
def px(store) -> dict[str, pd.Series]:
    """Each ticker's closes straight from the store, indexed by session."""
    return {t: store.bars(t)["close"] for t in TICKERS}


def session_on_or_before(px, day: str) -> str:
    sessions = px["^GSPC"].index
    i = int(sessions.searchsorted(pd.Timestamp(day), side="right")) - 1
    assert i >= 0
    return str(sessions[i].date())


def close(px, ticker: str, session: str) -> float:
    return float(px[ticker].loc[pd.Timestamp(session)])


def replay(fills, as_of: str | None = None, start_cash: float = START_CASH):
    """(cash, {ticker: shares}) after the fills dated on or before ``as_of`` (all if None).
    ``fills``: (session, ticker, signed shares, signed amount) with amount > 0 for a buy."""
    cash = start_cash
    shares: dict[str, int] = {}
    for session, ticker, n, amount in fills:
        if as_of is None or session <= as_of:
            shares[ticker] = shares.get(ticker, 0) + n
            cash -= amount
    return round(cash, 2), {t: s for t, s in sorted(shares.items()) if s}


def mark(px, positions: dict[str, int], cash: float, session: str):
    values = {t: n * close(px, t, session) for t, n in positions.items()}
    total = sum(values.values()) + cash
    return values, total


def book_returns(px, positions, cash, as_of: str, window: int):
    """Book returns over the ``window`` sessions ending at ``as_of`` with the weights of the
    book held at as_of's close; also ^GSPC's returns, the total value and the first session."""
    frame = pd.DataFrame({t: px[t] for t in [*positions, "^GSPC"]}).dropna()
    frame = frame.loc[: pd.Timestamp(as_of)]
    assert str(frame.index[-1].date()) == as_of
    tail = frame.iloc[-(window + 1):]
    assert len(tail) == window + 1
    values, total = mark(px, positions, cash, as_of)
    rp = np.zeros(window)
    rets = {}
    for t in tail.columns:
        p = tail[t].to_numpy()
        rets[t] = np.array([p[j] / p[j - 1] - 1.0 for j in range(1, len(p))])
    for t in positions:
        rp += values[t] / total * rets[t]
    return SimpleNamespace(rp=rp, gspc=rets["^GSPC"], rets=rets, total=total, values=values,
                           first=str(tail.index[1].date()))


def hist_var_es(rp: np.ndarray, a: float) -> tuple[float, float]:
    losses = sorted(-float(x) for x in rp)  # ascending
    k = math.ceil(Fraction(str(a)) * len(losses))  # exact: 0.95 x 100 is 95, not 95.000...01
    tail = losses[k - 1:]
    return losses[k - 1], sum(tail) / len(tail)


def max_dd_loop(rp) -> float:
    wealth, peak, worst = 1.0, 1.0, 0.0
    for r in rp:
        wealth *= 1.0 + r
        peak = max(peak, wealth)
        worst = max(worst, 1.0 - wealth / peak)
    return worst


# --- the app and its DB ---------------------------------------------------------------------
def snapshot(db_path, tables=DESK_TABLES) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}


def tool_calls(db_path) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT id, tool, status, http_status, error FROM tool_calls ORDER BY id").fetchall()


def db_book(db_path, name: str) -> tuple[float, dict[str, int]]:
    """(cash, positions) of a book as its tables hold them."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        pid, cash = conn.execute("SELECT id, cash FROM portfolios WHERE name = ?", (name,)).fetchone()
        rows = conn.execute("SELECT ticker, shares FROM positions WHERE portfolio_id = ? ORDER BY ticker",
                            (pid,)).fetchall()
    return cash, dict(rows)


@pytest.fixture(scope="module")
def desk(tmp_path_factory, cache_dir, px):
    from phinance_env.app.client import AppClient
    from phinance_env.app.factory import create_app
    from phinance_env.desks import get_desk
    from phinance_env.settings import get_settings
    from phinance_env.state import create_schema, state_engine

    previous = os.environ.get("PHINANCE_CACHE_DIR")
    os.environ["PHINANCE_CACHE_DIR"] = str(cache_dir)
    get_settings.cache_clear()
    spec = get_desk("portfolio_risk_01")
    db_path = tmp_path_factory.mktemp("risk-desk") / "state.db"
    engine = state_engine(db_path)
    create_schema(engine, spec.tables)
    client = AppClient(create_app(engine, spec, cache_dir / "bars.db"))

    created = client.call("create_portfolio", {"name": MAIN, "cash": START_CASH, "inception_date": INCEPTION})
    placed, fills = [], []
    for ticker, side, shares, date, session in ORDERS:
        out = client.call("place_trade", {"portfolio": MAIN, "ticker": ticker, "side": side,
                                          "shares": shares, "date": date})
        if out["trade"]["status"] == "filled":
            sign = 1 if side == "buy" else -1
            amount = round(shares * close(px, ticker.upper(), session), 2)
            fills.append((session, ticker.upper(), sign * shares, sign * amount))
        placed.append(SimpleNamespace(order=(ticker, side, shares, date, session), out=out,
                                      db=db_book(db_path, MAIN), fills=list(fills)))
    yield SimpleNamespace(client=client, db=db_path, created=created, placed=placed, fills=fills)
    client.close()
    engine.dispose()
    if previous is None:
        os.environ.pop("PHINANCE_CACHE_DIR", None)
    else:
        os.environ["PHINANCE_CACHE_DIR"] = previous
    get_settings.cache_clear()


def new_book(desk, name: str, cash: float, inception: str) -> dict:
    return desk.client.call("create_portfolio", {"name": name, "cash": cash, "inception_date": inception})


def trade(desk, book: str, ticker: str, side: str, shares: int, date: str) -> dict:
    return desk.client.call("place_trade", {"portfolio": book, "ticker": ticker, "side": side,
                                            "shares": shares, "date": date})


# --- 0. tickers and books --------------------------------------------------------------------
def test_list_tickers_is_the_stores_tradable_tickers(desk, store):
    out = desk.client.call("list_tickers")
    symbols = [row["symbol"] for row in out["data"]]
    expected = {t.symbol for t in store.tickers() if not t.close_only}
    assert set(symbols) == expected and "^VIX" not in symbols and {"^GSPC", "^IXIC", "NOVA"} <= set(symbols)
    assert out["count"] == out["total"] == len(symbols)
    for row in out["data"]:
        bars = store.bars(row["symbol"])
        assert row["first_session"] == str(bars.index[0].date()) and row["last_session"] == str(bars.index[-1].date())


def test_create_portfolio_and_a_holiday_inception(desk):
    assert desk.created["starting_cash"] == desk.created["cash"] == START_CASH
    assert desk.created["inception_date"] == INCEPTION and desk.created["note"] is None
    out = new_book(desk, "Holiday Open", 50_000, "2016-01-01")  # New Year's Day
    assert out["inception_date"] == "2015-12-31" and "2016-01-01" in out["note"] and "2015-12-31" in out["note"]
    assert out["positions"] == [] and out["cash"] == 50_000
    listed = {b["name"]: b for b in desk.client.call("list_portfolios")["data"]}
    assert listed["Holiday Open"]["inception_date"] == "2015-12-31"


# --- 1. fills ----------------------------------------------------------------------------------
def test_every_fill_is_at_the_sessions_close_and_the_book_replays(desk, px):
    assert len(desk.placed) == len(ORDERS)
    for step in desk.placed:
        ticker, side, shares, date, session = step.order
        t = step.out["trade"]
        price = close(px, ticker.upper(), session)
        assert t["status"] == "filled" and t["reason"] is None, t
        assert t["ticker"] == ticker.upper() and t["side"] == side and t["shares"] == shares
        assert t["requested_date"] == date and t["session"] == session
        assert t["fill_price"] == price
        assert t["amount"] == round(shares * price, 2)
        if date == session:
            assert t["note"] is None
        else:
            assert date in t["note"] and session in t["note"] and "not a trading session" in t["note"]
        cash, positions = replay(step.fills)
        # The answer and the tables both hold the book after every filled trade.
        assert step.out["cash"] == pytest.approx(cash, abs=0.001)
        assert step.out["shares_held"] == positions.get(ticker.upper(), 0)
        assert step.db[0] == pytest.approx(cash, abs=0.001) and step.db[1] == positions
    # Final state: ^GSPC 120, NOVA 250, BNKA 900.
    assert replay(desk.fills)[1] == {"BNKA": 900, "NOVA": 250, "^GSPC": 120}


def test_list_portfolios_and_list_trades_show_the_blotter(desk):
    book = next(b for b in desk.client.call("list_portfolios")["data"] if b["name"] == MAIN)
    cash, positions = replay(desk.fills)
    assert book["cash"] == pytest.approx(cash, abs=0.001)
    assert {h["ticker"]: h["shares"] for h in book["positions"]} == positions
    filled = desk.client.call("list_trades", {"portfolio": MAIN, "status": "filled"})
    assert filled["total"] == len(ORDERS) == book["trades_filled"]
    sessions = [(t["session"], t["id"]) for t in filled["data"]]
    assert sessions == sorted(sessions)  # oldest session first: the back-dated buy is third
    assert [t["session"] for t in filled["data"]] == sorted(o[4] for o in ORDERS)
    assert filled["data"][2]["requested_date"] == "2014-01-02"
    everything = desk.client.call("list_trades", {"portfolio": MAIN})
    assert everything["total"] == book["trades_filled"] + book["trades_rejected"]


def _rejected(desk, px, book: str, ticker, side, shares, date, words: str):
    before = snapshot(desk.db)
    calls = len(tool_calls(desk.db))
    out = trade(desk, book, ticker, side, shares, date)
    after = snapshot(desk.db)
    t = out["trade"]
    assert t["status"] == "rejected", t
    assert words in t["reason"], t["reason"]
    assert t["fill_price"] is None and t["amount"] is None
    assert t["session"] == session_on_or_before(px, date)
    for table in ("portfolios", "positions", "limits", "reports", "notes"):
        assert after[table] == before[table], table
    assert after["trades"][: len(before["trades"])] == before["trades"]
    new = after["trades"][len(before["trades"]):]
    assert len(new) == 1 and new[0][0] == t["id"]
    calls_after = tool_calls(desk.db)
    assert len(calls_after) == calls + 1 and calls_after[-1][1:3] == ("place_trade", "ok")
    cash, positions = db_book(desk.db, book)
    assert out["cash"] == cash and out["shares_held"] == positions.get(ticker.upper(), 0)
    return t


def test_rejected_orders_are_recorded_and_change_nothing_else(desk, px):
    cash_now, held = replay(desk.fills)
    # Not enough cash: 10,000 NOVA cost far more than the book holds.
    t = _rejected(desk, px, MAIN, "NOVA", "buy", 10_000, "2018-06-29", "not enough cash")
    assert f"{round(10_000 * close(px, 'NOVA', '2018-06-29'), 2):,.2f}" in t["reason"]
    # Not enough shares: the book holds 900 BNKA.
    _rejected(desk, px, MAIN, "BNKA", "sell", held["BNKA"] + 1, "2018-06-29", "not enough shares")
    # A back-dated sell the book could make then, but that leaves the 2017-03-01 sell of 150
    # NOVA short: on 2014-06-02 the book holds 400 NOVA.
    _rejected(desk, px, MAIN, "NOVA", "sell", 300, "2014-06-02", "not enough shares")
    # A back-dated buy that today's cash would pay, but that leaves no cash for the BNKA buy of
    # 2015-07-02 (the 2016 and 2017 sells came later).
    cash_2015 = replay(desk.fills, "2015-07-02")[0]
    price = close(px, "^GSPC", "2013-06-03")
    shares = math.floor((cash_2015 + cash_now) / 2 / price)
    assert cash_2015 < round(shares * price, 2) < cash_now
    t = _rejected(desk, px, MAIN, "^GSPC", "buy", shares, "2013-06-03", "not enough cash")
    assert "2015-07-02" in t["reason"]
    assert f"{replay(desk.fills, '2015-07-02')[0] - round(shares * price, 2):,.2f}" in t["reason"]
    rejected = desk.client.call("list_trades", {"portfolio": MAIN, "status": "rejected"})
    assert rejected["total"] >= 4 and all(r["amount"] is None for r in rejected["data"])


def test_a_back_dated_sell_that_stays_feasible_fills(desk, px):
    name = "Backdate"
    new_book(desk, name, 200_000, "2014-01-02")
    trade(desk, name, "NOVA", "buy", 100, "2014-01-02")
    trade(desk, name, "NOVA", "sell", 40, "2016-06-01")
    out = trade(desk, name, "NOVA", "sell", 60, "2015-06-01")  # 100 -> 40 -> 0 later: feasible
    assert out["trade"]["status"] == "filled" and out["shares_held"] == 0
    cash, positions = db_book(desk.db, name)
    expected = 200_000 - round(100 * close(px, "NOVA", "2014-01-02"), 2) + round(
        40 * close(px, "NOVA", "2016-06-01"), 2) + round(60 * close(px, "NOVA", "2015-06-01"), 2)
    assert positions == {} and cash == pytest.approx(round(expected, 2), abs=0.001)


def test_a_position_limit_rejects_an_order_that_breaches_it(desk, px):
    name = "Capped"
    day = "2016-01-04"
    new_book(desk, name, 100_000, day)
    lim = desk.client.call("set_limit", {"portfolio": name, "metric": "max_position_weight", "threshold": 0.3})
    assert lim["threshold"] == 0.3 and lim["replaced"] is None
    assert trade(desk, name, "^GSPC", "buy", 10, day)["trade"]["status"] == "filled"
    # NOVA worth ~40% of the book would breach 0.30: rejected, nothing else moves. (A fill at
    # the close moves cash into the position: the total stays 100,000 give or take a cent.)
    n_big = math.ceil(0.4 * 100_000 / close(px, "NOVA", day))
    assert n_big * close(px, "NOVA", day) / 100_000 > 0.3
    t = _rejected(desk, px, name, "NOVA", "buy", n_big, day, "limit breach")
    assert "max_position_weight" in t["reason"]
    # ~20% fits.
    n_ok = math.floor(0.2 * 100_000 / close(px, "NOVA", day))
    assert trade(desk, name, "NOVA", "buy", n_ok, day)["trade"]["status"] == "filled"
    assert db_book(desk.db, name)[1] == {"NOVA": n_ok, "^GSPC": 10}


# --- bad arguments: 4xx, nothing written but one error line ----------------------------------
BAD_CALLS = [
    ("place_trade", dict(portfolio="Nope", ticker="NOVA", side="buy", shares=1, date="2015-06-01"), 404),
    ("place_trade", dict(portfolio=MAIN, ticker="ZZZZ", side="buy", shares=1, date="2015-06-01"), 404),
    ("place_trade", dict(portfolio=MAIN, ticker="^VIX", side="buy", shares=1, date="2015-06-01"), 422),
    ("place_trade", dict(portfolio=MAIN, ticker="NOVA", side="buy", shares=1, date="2011-12-30"), 422),
    ("place_trade", dict(portfolio=MAIN, ticker="NOVA", side="buy", shares=1, date="2019-01-02"), 422),
    ("place_trade", dict(portfolio=MAIN, ticker="NOVA", side="buy", shares=0, date="2015-06-01"), 422),
    ("place_trade", dict(portfolio=MAIN, ticker="NOVA", side="buy", shares=-5, date="2015-06-01"), 422),
    ("place_trade", dict(portfolio=MAIN, ticker="NOVA", side="hold", shares=1, date="2015-06-01"), 422),
    ("place_trade", dict(portfolio=MAIN, ticker="NOVA", side="buy", shares=1, date="2015/06/01"), 422),
    ("place_trade", dict(portfolio=MAIN, ticker="NOVA", side="buy", shares=1, date="2015-02-30"), 422),
    ("create_portfolio", dict(name=MAIN, cash=10, inception_date="2015-06-01"), 409),
    ("create_portfolio", dict(name="Zero", cash=0, inception_date="2015-06-01"), 422),
    ("create_portfolio", dict(name="Late", cash=10, inception_date="2019-06-03"), 422),
    ("get_portfolio", dict(name=MAIN, as_of_date="2011-12-30"), 422),
    ("compute_risk", dict(portfolio="Nope", as_of_date="2017-06-30"), 404),
    ("compute_risk", dict(portfolio=MAIN, as_of_date="2017-06-30", window=10), 422),
    ("compute_risk", dict(portfolio=MAIN, as_of_date="2017-06-30", confidence=1.0), 422),
    ("get_performance", dict(portfolio=MAIN, start="2016-06-01", end="2016-06-01"), 422),
    ("get_performance", dict(portfolio=MAIN, start="2011-06-01", end="2016-06-01"), 422),
    ("check_limits", dict(portfolio=MAIN, date="2018-13-01"), 422),
    ("stress_test", dict(portfolio=MAIN, scenario="crash_1929"), 422),
    ("stress_test", dict(portfolio=MAIN, start="2011-08-01"), 422),
    ("stress_test", dict(portfolio=MAIN, scenario="dotcom_2000"), 422),  # NOVA, BNKA start in 2005
    ("propose_rebalance", dict(portfolio=MAIN, date="2017-06-30", target="NOVA:0.7, BNKA:0.5"), 422),
    ("propose_rebalance", dict(portfolio=MAIN, date="2017-06-30", target="NOVA:0.5", objective="min_volatility"), 422),
    ("propose_rebalance", dict(portfolio=MAIN, date="2017-06-30", target="^VIX:0.5"), 422),
    ("set_limit", dict(portfolio=MAIN, metric="max_leverage", threshold=0.5), 422),
    ("set_limit", dict(portfolio=MAIN, metric="max_position_weight", threshold=1.5), 422),
    ("create_note", dict(title="x", body="y", report_id=999_999), 404),
]


@pytest.mark.parametrize(("tool", "args", "status"), BAD_CALLS,
                         ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(BAD_CALLS)])
def test_bad_arguments_are_4xx_and_write_only_an_error_line(desk, tool, args, status):
    from phinance_env.app.client import ToolError

    before, calls = snapshot(desk.db), tool_calls(desk.db)
    with pytest.raises(ToolError) as err:
        desk.client.call(tool, args)
    assert err.value.status == status, err.value.detail
    assert err.value.detail.startswith("invalid argument")
    assert snapshot(desk.db) == before
    after = tool_calls(desk.db)
    assert after[: len(calls)] == calls and len(after) == len(calls) + 1
    _, logged_tool, logged_status, http_status, error = after[-1]
    assert (logged_tool, logged_status, http_status) == (tool, "error", status) and error


def test_a_ticker_outside_its_data_is_refused(desk):
    from phinance_env.app.client import ToolError

    new_book(desk, "Early", 100_000, "2003-01-02")
    before = snapshot(desk.db)
    with pytest.raises(ToolError) as err:  # NOVA's data starts 2005-01-03
        trade(desk, "Early", "NOVA", "buy", 1, "2004-06-01")
    assert err.value.status == 422 and "NOVA" in err.value.detail
    assert snapshot(desk.db) == before
    assert trade(desk, "Early", "^GSPC", "buy", 1, "2004-06-01")["trade"]["status"] == "filled"


# --- 2. get_portfolio --------------------------------------------------------------------------
@pytest.mark.parametrize("date", ["2012-01-03", "2014-06-30", "2015-07-04", "2016-06-03", "2018-12-31", None])
def test_get_portfolio_marks_the_holdings_of_that_date(desk, px, date):
    args = {"name": MAIN} if date is None else {"name": MAIN, "as_of_date": date}
    out = desk.client.call("get_portfolio", args)
    session = session_on_or_before(px, date or "2018-12-31")
    assert out["session"] == session
    assert (out["note"] is None) == (date is None or date == session)
    cash, positions = replay(desk.fills, session)
    values, total = mark(px, positions, cash, session)
    assert {p["ticker"]: p["shares"] for p in out["positions"]} == positions
    for p in out["positions"]:
        assert p["price"] == close(px, p["ticker"], session)
        assert p["value"] == round(values[p["ticker"]], 2)
        assert p["weight"] == pytest.approx(values[p["ticker"]] / total, rel=1e-12)
    assert out["cash"] == pytest.approx(cash, abs=0.001)
    assert out["total_value"] == pytest.approx(total, abs=0.0051)
    assert out["positions_value"] == pytest.approx(sum(values.values()), abs=0.0051)
    assert out["cash_weight"] == pytest.approx(cash / total, rel=1e-12)
    assert out["pnl"] == pytest.approx(total - START_CASH, abs=0.0051)
    assert out["pnl_pct"] == pytest.approx((total - START_CASH) / START_CASH, rel=1e-10)
    assert out["starting_cash"] == START_CASH


# --- 3. compute_risk ---------------------------------------------------------------------------
def _check_risk(out, px, fills, as_of: str, window: int, levels, start_cash: float = START_CASH):
    cash, positions = replay(fills, as_of, start_cash=start_cash)
    ind = book_returns(px, positions, cash, as_of, window)
    rp = ind.rp
    assert out["session"] == as_of and out["window"] == window and out["first_session"] == ind.first
    assert out["total_value"] == pytest.approx(ind.total, abs=0.0051)
    tails = {(t["method"], round(t["confidence"], 6)): t for t in out["tails"]}
    assert set(tails) == {(m, a) for m in ("historical", "parametric") for a in levels}
    mu, sigma = float(np.mean(rp)), float(np.std(rp, ddof=1))
    for a in levels:
        var, es = hist_var_es(rp, a)
        h = tails[("historical", a)]
        assert h["var"] == pytest.approx(var, abs=1e-14), (a, h)
        assert h["es"] == pytest.approx(es, abs=1e-14), (a, h)
        z = stats.norm.ppf(a)
        p = tails[("parametric", a)]
        assert p["var"] == pytest.approx(z * sigma - mu, rel=1e-9)
        assert p["es"] == pytest.approx(sigma * stats.norm.pdf(z) / (1 - a) - mu, rel=1e-9)
        for t in (h, p):  # USD figures: the fraction times the total value, to the cent
            assert abs(t["var_usd"] - t["var"] * ind.total) <= 0.0051
            assert abs(t["es_usd"] - t["es"] * ind.total) <= 0.0051
            assert t["es"] >= t["var"]
    assert out["mean_daily_return"] == pytest.approx(mu, rel=1e-9)
    assert out["daily_volatility"] == pytest.approx(sigma, rel=1e-9)
    assert out["annualised_volatility"] == pytest.approx(sigma * math.sqrt(252), rel=1e-9)
    ols = sm.OLS(rp, sm.add_constant(ind.gspc)).fit()
    assert out["beta"] == pytest.approx(float(ols.params[1]), rel=1e-9)
    assert out["max_drawdown"] == pytest.approx(max_dd_loop(rp), abs=1e-13)
    # Euler contributions: w_i x the finite-difference gradient of the parametric measure.
    tickers = list(positions)
    r = np.column_stack([ind.rets[t] for t in tickers])
    cov, mean = np.cov(r, rowvar=False, ddof=1), r.mean(axis=0)
    w = np.array([ind.values[t] / ind.total for t in tickers])
    contrib = {c["ticker"]: c for c in out["contributions"]}
    assert set(contrib) == set(tickers)

    def vol(x):
        return math.sqrt(x @ cov @ x)

    def grad(f, x, h=1e-7):
        return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])

    g_vol = grad(vol, w)
    for i, t in enumerate(tickers):
        assert contrib[t]["weight"] == pytest.approx(w[i], rel=1e-12)
        assert contrib[t]["volatility"] == pytest.approx(w[i] * g_vol[i], rel=1e-6)
    assert sum(c["volatility"] for c in contrib.values()) == pytest.approx(sigma, rel=1e-9)
    for a in levels:
        z = stats.norm.ppf(a)
        key = f"{a:g}"
        g_var = grad(lambda x: z * vol(x) - mean @ x, w)
        g_es = grad(lambda x: stats.norm.pdf(z) / (1 - a) * vol(x) - mean @ x, w)
        for i, t in enumerate(tickers):
            assert contrib[t]["var"][key] == pytest.approx(w[i] * g_var[i], rel=1e-6, abs=1e-10)
            assert contrib[t]["es"][key] == pytest.approx(w[i] * g_es[i], rel=1e-6, abs=1e-10)
        assert sum(c["var"][key] for c in contrib.values()) == pytest.approx(tails[("parametric", a)]["var"], rel=1e-9)
        assert sum(c["es"][key] for c in contrib.values()) == pytest.approx(tails[("parametric", a)]["es"], rel=1e-9)
    return ind


def test_compute_risk_default_window(desk, px):
    out = desk.client.call("compute_risk", {"portfolio": MAIN, "as_of_date": "2017-06-30"})
    assert out["note"] is None
    ind = _check_risk(out, px, desk.fills, "2017-06-30", 250, (0.95, 0.99))
    # n = 250: the 13th and the 3rd largest loss.
    worst = np.sort(-ind.rp)[::-1]
    tails = {(t["method"], t["confidence"]): t for t in out["tails"]}
    assert tails[("historical", 0.95)]["var"] == worst[12] and tails[("historical", 0.99)]["var"] == worst[2]
    assert tails[("historical", 0.99)]["es"] == pytest.approx(worst[:3].mean(), abs=1e-15)


def test_compute_risk_other_window_extra_confidence_and_a_weekend(desk, px):
    # Saturday -> Friday 2018-06-29; window 100 puts k exactly on an integer at 95%, 97%, 99%.
    out = desk.client.call("compute_risk", {"portfolio": MAIN, "as_of_date": "2018-06-30", "window": 100,
                                            "confidence": 0.97})
    assert "2018-06-30" in out["note"] and "2018-06-29" in out["note"]
    ind = _check_risk(out, px, desk.fills, "2018-06-29", 100, (0.95, 0.97, 0.99))
    worst = np.sort(-ind.rp)[::-1]
    tails = {(t["method"], t["confidence"]): t for t in out["tails"]}
    # k = 95, 97, 99 of 100: the 6th, 4th and 2nd largest losses.
    assert [tails[("historical", a)]["var"] for a in (0.95, 0.97, 0.99)] == [worst[5], worst[3], worst[1]]


def test_compute_risk_of_an_early_date_uses_the_holdings_then(desk, px):
    # 2013-12-31: only ^GSPC 200 and NOVA 400 (the back-dated BNKA buy is 2014-01-02).
    out = desk.client.call("compute_risk", {"portfolio": MAIN, "as_of_date": "2013-12-31", "window": 60,
                                            "confidence": 0.9})
    _check_risk(out, px, desk.fills, "2013-12-31", 60, (0.9, 0.95, 0.99))
    assert {c["ticker"] for c in out["contributions"]} == {"^GSPC", "NOVA"}


def test_compute_risk_drawdown_counts_a_fall_on_the_windows_first_session(desk, px):
    # 20 sessions to 2008-10-24: the first return is already a loss, so the peak is the start
    # of the window (W_0 = 1), not the first close after it.
    name = "Crash 2008"
    new_book(desk, name, 30_000, "2008-01-02")
    trade(desk, name, "^GSPC", "buy", 10, "2008-01-02")
    trade(desk, name, "NOVA", "buy", 20, "2008-01-02")
    fills = [("2008-01-02", t, n, round(n * close(px, t, "2008-01-02"), 2)) for t, n in (("^GSPC", 10), ("NOVA", 20))]
    out = desk.client.call("compute_risk", {"portfolio": name, "as_of_date": "2008-10-24", "window": 20})
    ind = _check_risk(out, px, fills, "2008-10-24", 20, (0.95, 0.99), start_cash=30_000)
    wealth = np.cumprod(1 + ind.rp)
    from_first_close = float(np.max(1 - wealth / np.maximum.accumulate(wealth)))
    assert ind.rp[0] < 0 and max_dd_loop(ind.rp) > from_first_close + 0.01  # the case discriminates


def test_compute_risk_of_a_cash_only_book_is_422_and_logs_no_report(desk):
    from phinance_env.app.client import ToolError

    new_book(desk, "Cash Only", 10_000, "2015-01-02")
    before = snapshot(desk.db)
    with pytest.raises(ToolError) as err:
        desk.client.call("compute_risk", {"portfolio": "Cash Only", "as_of_date": "2016-01-04"})
    assert err.value.status == 422 and snapshot(desk.db) == before
    # Its value and limits still answer: cash is the whole book, every metric 0.
    val = desk.client.call("get_portfolio", {"name": "Cash Only", "as_of_date": "2016-01-04"})
    assert val["total_value"] == 10_000 and val["cash_weight"] == 1.0 and val["positions"] == []


# --- 4. get_performance ------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "end"), [("2015-06-01", "2016-12-30"), ("2014-01-02", "2014-03-31"),
                                             ("2016-06-02", "2016-06-05")])
def test_get_performance_chains_the_books_daily_values(desk, px, start, end):
    out = desk.client.call("get_performance", {"portfolio": MAIN, "start": start, "end": end})
    s0, s1 = session_on_or_before(px, start), session_on_or_before(px, end)
    assert (out["start"], out["end"]) == (s0, s1)
    assert len(out["notes"]) == (start != s0) + (end != s1)
    sessions = [str(d.date()) for d in px["^GSPC"].loc[pd.Timestamp(s0): pd.Timestamp(s1)].index]
    values = []
    for day in sessions:
        cash, positions = replay(desk.fills, day)
        values.append(mark(px, positions, cash, day)[1])
    growth = 1.0
    for k in range(1, len(values)):
        growth *= values[k] / values[k - 1]
    later = [f for f in desk.fills if s0 < f[0] <= s1]
    assert out["trades"] == len(later)
    cent = 0.0051 + 0.005 * len(later)  # the tool takes trades at the unrounded close
    assert out["start_value"] == pytest.approx(values[0], abs=0.0051)
    assert out["end_value"] == pytest.approx(values[-1], abs=cent)
    assert out["twr"] == pytest.approx(growth - 1.0, abs=1e-8)
    assert out["pnl"] == pytest.approx(values[-1] - values[0], abs=cent)
    assert out["pnl"] == pytest.approx(out["end_value"] - out["start_value"], abs=0.011)
    # P&L by position: end value - start value - what was paid for the shares traded between.
    _, held0 = replay(desk.fills, s0)
    _, held1 = replay(desk.fills, s1)
    by = {p["ticker"]: p["pnl"] for p in out["pnl_by_position"]}
    assert set(by) == set(held0) | set(held1) | {f[1] for f in later}
    for t in by:
        paid = sum(f[2] * close(px, t, f[0]) for f in later if f[1] == t)
        pnl = held1.get(t, 0) * close(px, t, s1) - held0.get(t, 0) * close(px, t, s0) - paid
        assert by[t] == pytest.approx(pnl, abs=0.0051), t
    assert sum(by.values()) == pytest.approx(out["pnl"], abs=0.005 * (len(by) + 1) + 0.005 * len(later))


def test_performance_end_value_agrees_with_get_portfolio(desk):
    # The same book at the same close, asked two ways, is worth the same.
    perf = desk.client.call("get_performance", {"portfolio": MAIN, "start": "2015-06-01", "end": "2016-12-30"})
    val0 = desk.client.call("get_portfolio", {"name": MAIN, "as_of_date": "2015-06-01"})
    val1 = desk.client.call("get_portfolio", {"name": MAIN, "as_of_date": "2016-12-30"})
    assert perf["start_value"] == val0["total_value"] and perf["end_value"] == val1["total_value"]
    assert perf["pnl"] == pytest.approx(val1["total_value"] - val0["total_value"], abs=1e-6)


def test_performance_values_the_book_with_the_cash_it_really_has(desk, px):
    """Each fill moves round(shares x close, 2) of cash. get_performance instead re-applies
    the trades of (start, end] at the unrounded close, so its end value (and P&L) drift from
    the book's real value by the sum of the fills' rounding residues: here a few cents, chosen
    to add up, against get_portfolio and an independent replay of the blotter."""
    name = "Odd Lots"
    new_book(desk, name, 100_000, "2013-01-02")
    days = [str(d.date()) for d in px["^GSPC"].loc["2013-01-03":"2013-01-31"].index]
    picked, residue = [], 0.0
    for day in days:
        for t in ("NOVA", "BNKA"):
            for n in range(1, 10):
                r = round(n * close(px, t, day), 2) - n * close(px, t, day)  # paid above the exact cost
                if r > 0.003 and residue < 0.03:
                    picked.append((day, t, n))
                    residue += r
                    break
    assert residue >= 0.03
    for day, t, n in picked:
        assert trade(desk, name, t, "buy", n, day)["trade"]["status"] == "filled"
    fills = [(day, t, n, round(n * close(px, t, day), 2)) for day, t, n in picked]
    cash, held = replay(fills, "2013-02-01", start_cash=100_000)
    real_end = mark(px, held, cash, "2013-02-01")[1]
    perf = desk.client.call("get_performance", {"portfolio": name, "start": "2013-01-02", "end": "2013-02-01"})
    val = desk.client.call("get_portfolio", {"name": name, "as_of_date": "2013-02-01"})
    assert val["total_value"] == pytest.approx(real_end, abs=0.0051)
    assert perf["end_value"] == val["total_value"], (
        f"BUG: get_performance end_value {perf['end_value']} != the book's value {val['total_value']} "
        f"(get_portfolio, and {real_end:.4f} replayed from the blotter): tools/analytics.py get_performance "
        "re-applies the period's trades at the unrounded close, ignoring the cent-rounded amounts the "
        f"blotter actually moved ({len(picked)} fills, {residue:.4f} USD of rounding residue)")
    assert perf["pnl"] == pytest.approx(val["total_value"] - 100_000, abs=1e-6)


# --- 5. check_limits ---------------------------------------------------------------------------
def test_check_limits_values_and_status(desk, px):
    name = "Limit Book"
    day = "2016-01-04"
    new_book(desk, name, 100_000, day)
    empty = desk.client.call("check_limits", {"portfolio": name, "date": day})
    assert empty["status"] == "no limits" and empty["limits"] == []
    desk.client.call("set_limit", {"portfolio": name, "metric": "max_position_weight", "threshold": 0.3})
    cash_only = desk.client.call("check_limits", {"portfolio": name, "date": day})
    assert cash_only["limits"][0]["value"] == 0 and cash_only["status"] == "ok"
    trade(desk, name, "^GSPC", "buy", 12, day)
    trade(desk, name, "NOVA", "buy", 30, day)
    fills = [(day, "^GSPC", 12, round(12 * close(px, "^GSPC", day), 2)),
             (day, "NOVA", 30, round(30 * close(px, "NOVA", day), 2))]
    check_day = "2016-06-30"

    def independent_max_weight():
        cash, positions = replay(fills, check_day, start_cash=100_000)
        values, total = mark(px, positions, cash, check_day)
        return max(values.values()) / total, max(values, key=values.get), positions, cash

    w_max, top, positions, cash = independent_max_weight()
    out = desk.client.call("check_limits", {"portfolio": name, "date": check_day})
    (line,) = out["limits"]
    assert line["metric"] == "max_position_weight" and line["value"] == pytest.approx(w_max, rel=1e-12)
    assert top in line["detail"]
    assert line["status"] == ("breach" if w_max > 0.3 else "ok") == out["status"]
    # A threshold under the current weight: a breach.
    lower = round(w_max - 0.02, 4)
    replaced = desk.client.call("set_limit", {"portfolio": name, "metric": "max_position_weight", "threshold": lower})
    assert replaced["replaced"] == 0.3 and replaced["threshold"] == lower
    out = desk.client.call("check_limits", {"portfolio": name, "date": check_day})
    assert out["status"] == "breach" and out["limits"][0]["status"] == "breach"
    # Already breached: a sell of the top position makes it better and fills; a buy is refused.
    assert trade(desk, name, top, "sell", 1, check_day)["trade"]["status"] == "filled"
    fills.append((check_day, top, -1, -round(close(px, top, check_day), 2)))
    t = _rejected(desk, px, name, top, "buy", 2, check_day, "limit breach")
    assert "max_position_weight" in t["reason"]
    # A 99% VaR limit: the value is the 3rd largest of 250 losses of the book's returns.
    desk.client.call("set_limit", {"portfolio": name, "metric": "max_var_99", "threshold": 0.001})
    desk.client.call("set_limit", {"portfolio": name, "metric": "max_drawdown", "threshold": 0.9})
    out = desk.client.call("check_limits", {"portfolio": name, "date": check_day})
    by = {line["metric"]: line for line in out["limits"]}
    cash, positions = replay(fills, check_day, start_cash=100_000)
    ind = book_returns(px, positions, cash, check_day, 250)
    var99 = hist_var_es(ind.rp, 0.99)[0]
    assert by["max_var_99"]["value"] == pytest.approx(var99, abs=1e-14)
    assert by["max_var_99"]["status"] == ("breach" if var99 > 0.001 else "ok")
    assert by["max_drawdown"]["value"] == pytest.approx(max_dd_loop(ind.rp), abs=1e-13)
    assert by["max_drawdown"]["status"] == "ok"
    w_now = max(ind.values.values()) / ind.total
    assert by["max_position_weight"]["value"] == pytest.approx(w_now, rel=1e-12)
    assert out["status"] == "breach"
    limits = desk.client.call("list_limits", {"portfolio": name})
    assert {(r["metric"], r["threshold"]) for r in limits["data"]} == {
        ("max_position_weight", lower), ("max_var_99", 0.001), ("max_drawdown", 0.9)}


# --- 6. stress_test ----------------------------------------------------------------------------
def window_move(px, ticker, first, last) -> float:
    s = px[ticker]
    before = s.loc[: pd.Timestamp(first) - pd.Timedelta(days=1)].iloc[-1]
    end = s.loc[: pd.Timestamp(last)].iloc[-1]
    return float(end / before - 1.0)


@pytest.mark.parametrize(("args", "first", "last", "as_of"), [
    (dict(scenario="lehman_2008"), "2008-09-15", "2008-10-15", "2018-12-31"),
    (dict(scenario="LEHMAN_2008", as_of_date="2014-06-30"), "2008-09-15", "2008-10-15", "2014-06-30"),
    (dict(start="2011-08-06", end="2011-08-13", as_of_date="2016-07-04"), "2011-08-08", "2011-08-12", "2016-07-01"),
])
def test_stress_test_revalues_each_position_by_its_window_return(desk, px, args, first, last, as_of):
    out = desk.client.call("stress_test", {"portfolio": MAIN, **args})
    assert (out["window_start"], out["window_end"], out["session"]) == (first, last, as_of)
    if "scenario" in args:
        assert out["scenario"] == "lehman_2008"
    else:
        assert out["scenario"] == f"custom {first}..{last}" and "2016-07-04" in out["note"]
    cash, positions = replay(desk.fills, as_of)
    values, total = mark(px, positions, cash, as_of)
    lines = {p["ticker"]: p for p in out["positions"]}
    assert set(lines) == set(positions)
    pnl = 0.0
    for t, v in values.items():
        r = window_move(px, t, first, last)
        pnl += v * r
        assert lines[t]["window_return"] == pytest.approx(r, rel=1e-12)
        assert lines[t]["value"] == round(v, 2)
        assert lines[t]["pnl"] == pytest.approx(v * r, abs=0.0051)
    assert out["total_value"] == pytest.approx(total, abs=0.0051)
    assert out["pnl"] == pytest.approx(pnl, abs=0.0051)
    assert out["pnl_pct"] == pytest.approx(pnl / total, rel=1e-10)
    if first == "2008-09-15":
        assert window_move(px, "^GSPC", first, last) == pytest.approx(907.84 / 1251.70 - 1, abs=1e-5)


def test_dotcom_on_a_synthetic_book_is_422_but_on_an_index_book_answers(desk, px):
    from phinance_env.app.client import ToolError

    name = "Index Only"
    new_book(desk, name, 100_000, "2010-01-04")
    trade(desk, name, "^IXIC", "buy", 10, "2010-01-04")
    out = desk.client.call("stress_test", {"portfolio": name, "scenario": "dotcom_2000", "as_of_date": "2010-01-04"})
    r = window_move(px, "^IXIC", "2000-03-13", "2000-04-14")
    assert r < -0.2 and out["positions"][0]["window_return"] == pytest.approx(r, rel=1e-12)
    assert out["pnl"] == pytest.approx(10 * close(px, "^IXIC", "2010-01-04") * r, abs=0.0051)
    trade(desk, name, "BNKA", "buy", 10, "2010-01-04")
    before = snapshot(desk.db)
    with pytest.raises(ToolError) as err:
        desk.client.call("stress_test", {"portfolio": name, "scenario": "dotcom_2000"})
    assert err.value.status == 422 and "BNKA" in err.value.detail
    assert snapshot(desk.db) == before


# --- 7. propose_rebalance ----------------------------------------------------------------------
def test_propose_rebalance_to_a_target_then_execute_it(desk, px):
    name = "Rebal"
    new_book(desk, name, 500_000, "2016-01-04")
    trade(desk, name, "^GSPC", "buy", 100, "2016-01-04")
    trade(desk, name, "NOVA", "buy", 300, "2016-01-04")
    fills = [("2016-01-04", "^GSPC", 100, round(100 * close(px, "^GSPC", "2016-01-04"), 2)),
             ("2016-01-04", "NOVA", 300, round(300 * close(px, "NOVA", "2016-01-04"), 2))]
    day = "2017-06-30"
    target = {"NOVA": 0.3, "BNKA": 0.45}  # ^GSPC left out: sold
    before = snapshot(desk.db)
    out = desk.client.call("propose_rebalance", {"portfolio": name, "date": day,
                                                 "target": "NOVA:0.3, bnka:45%"})
    after = snapshot(desk.db)
    for table in ("portfolios", "positions", "trades", "limits", "notes"):
        assert after[table] == before[table], table
    assert len(after["reports"]) == len(before["reports"]) + 1 and after["reports"][-1][0] == out["report_id"]
    assert out["method"] == "target" and out["session"] == day and out["executed"] is False
    assert {w["ticker"]: w["weight"] for w in out["target_weights"]} == pytest.approx(target)

    cash, held = replay(fills, day, start_cash=500_000)
    _, total = mark(px, held, cash, day)
    assert out["total_value"] == pytest.approx(total, abs=0.0051)
    new = {t: math.floor(w * total / close(px, t, day)) for t, w in target.items()}
    orders = []
    for t in sorted(set(held) | set(new)):
        delta = new.get(t, 0) - held.get(t, 0)
        if delta:
            orders.append((t, "buy" if delta > 0 else "sell", abs(delta)))
    got = [(o["ticker"], o["side"], o["shares"]) for o in out["orders"]]
    assert sorted(got) == sorted(orders)
    assert ("^GSPC", "sell", 100) in got
    sides = [o["side"] for o in out["orders"]]
    assert sides == sorted(sides, key=lambda s: s != "sell")  # sells first
    spent = 0.0
    for o in out["orders"]:
        price = close(px, o["ticker"], day)
        assert o["price"] == price and o["amount"] == round(o["shares"] * price, 2)
        spent += o["amount"] if o["side"] == "buy" else -o["amount"]
    cash_after = round(cash - spent, 2)
    assert out["cash_after"] == pytest.approx(cash_after, abs=0.0051) and out["cash_after"] >= 0
    assert {p["ticker"]: p["shares"] for p in out["positions_after"]} == {t: n for t, n in new.items() if n}
    for p in out["positions_after"]:
        v = p["shares"] * close(px, p["ticker"], day)
        assert p["value"] == round(v, 2) and p["weight"] == pytest.approx(v / total, rel=1e-12)
        assert p["weight"] <= target[p["ticker"]]
        assert (p["shares"] + 1) * p["price"] / total > target[p["ticker"]]  # floor: one more is over

    # Executing the orders (in the order given) reaches the proposed book.
    for o in out["orders"]:
        res = trade(desk, name, o["ticker"], o["side"], o["shares"], day)
        assert res["trade"]["status"] == "filled", res["trade"]["reason"]
    db_cash, db_positions = db_book(desk.db, name)
    assert db_positions == {p["ticker"]: p["shares"] for p in out["positions_after"]}
    assert db_cash == pytest.approx(out["cash_after"], abs=0.001)


def test_propose_rebalance_to_minimum_volatility(desk, px):
    name = "MinVol"
    day = "2017-06-30"
    new_book(desk, name, 250_000, "2017-06-30")
    tickers = ["^GSPC", "NOVA", "BNKA"]
    out = desk.client.call("propose_rebalance", {"portfolio": name, "date": day, "objective": "min_volatility",
                                                 "tickers": "^GSPC, NOVA, BNKA", "min_weight": 0.1,
                                                 "max_weight": 0.6, "window": 250})
    w = {x["ticker"]: x["weight"] for x in out["target_weights"]}
    assert set(w) == set(tickers) and sum(w.values()) == pytest.approx(1.0, abs=1e-9)
    assert all(0.1 - 1e-9 <= v <= 0.6 + 1e-9 for v in w.values())
    frame = pd.DataFrame({t: px[t] for t in tickers}).loc[:day].iloc[-251:]
    r = frame.to_numpy()
    rets = r[1:] / r[:-1] - 1
    weights = np.array([w[t] for t in tickers])
    rp = rets @ weights
    assert out["volatility"] == pytest.approx(rp.std(ddof=1) * math.sqrt(252), rel=1e-9)
    assert out["expected_return"] == pytest.approx(rp.mean() * 252, rel=1e-9)
    assert out["sharpe"] == pytest.approx(out["expected_return"] / out["volatility"], rel=1e-9)
    # No feasible portfolio of 2,000 random ones is less volatile (to solver precision).
    rng = np.random.default_rng(7)
    cand = rng.dirichlet(np.ones(3), 20_000)
    cand = cand[np.all((cand >= 0.1) & (cand <= 0.6), axis=1)][:2000]
    assert len(cand) > 500
    assert (rets @ cand.T).std(axis=0, ddof=1).min() * math.sqrt(252) >= out["volatility"] - 1e-7
    # Shares: floor(w x total / close) of a cash-only book; all buys.
    total = 250_000
    assert {o["ticker"]: o["shares"] for o in out["orders"]} == {
        t: math.floor(w[t] * total / close(px, t, day)) for t in tickers}
    assert {o["side"] for o in out["orders"]} == {"buy"} and out["cash_after"] >= 0


# --- 8. the report log -------------------------------------------------------------------------
REPORT_CALLS = [
    ("compute_risk", dict(portfolio=MAIN, as_of_date="2016-12-30", window=40), "risk", "2016-12-30"),
    ("get_performance", dict(portfolio=MAIN, start="2016-01-04", end="2016-12-31"), "performance", "2016-12-30"),
    ("check_limits", dict(portfolio=MAIN, date="2016-12-31"), "limits", "2016-12-30"),
    ("propose_rebalance", dict(portfolio=MAIN, date="2016-12-30", target="NOVA:0.2"), "rebalance", "2016-12-30"),
    ("stress_test", dict(portfolio=MAIN, scenario="china_deval_2015", as_of_date="2016-12-30"), "stress", "2016-12-30"),
]


def test_each_report_tool_logs_exactly_one_report_and_list_reports_is_newest_first(desk):
    ids = []
    for tool, args, kind, session in REPORT_CALLS:
        before = snapshot(desk.db)
        out = desk.client.call(tool, args)
        after = snapshot(desk.db)
        for table in ("portfolios", "positions", "trades", "limits", "notes"):
            assert after[table] == before[table], (tool, table)
        new = after["reports"][len(before["reports"]):]
        assert after["reports"][: len(before["reports"])] == before["reports"]
        assert len(new) == 1, tool
        row_id, _, row_kind, row_session, params, result = new[0]
        assert (row_id, row_kind, row_session) == (out["report_id"], kind, session), tool
        assert json.loads(result) == {k: v for k, v in out.items() if k != "report_id"}
        assert json.loads(params)["portfolio"] == MAIN
        ids.append(row_id)
    listed = desk.client.call("list_reports", {"portfolio": MAIN, "limit": 200})
    listed_ids = [r["id"] for r in listed["data"]]
    assert listed_ids == sorted(listed_ids, reverse=True)
    assert listed_ids[: len(ids)] == ids[::-1]
    assert [r["kind"] for r in listed["data"][: len(ids)]] == [k for _, _, k, _ in REPORT_CALLS][::-1]
    main_id = next(r[0] for r in snapshot(desk.db)["portfolios"] if r[1] == MAIN)
    assert listed["total"] == sum(1 for r in snapshot(desk.db)["reports"] if r[1] == main_id)
    assert {r["portfolio"] for r in listed["data"]} == {MAIN}
    only_risk = desk.client.call("list_reports", {"portfolio": MAIN, "kind": "risk"})
    assert {r["kind"] for r in only_risk["data"]} == {"risk"} and ids[0] in {r["id"] for r in only_risk["data"]}
    # A note about the newest report.
    note = desk.client.call("create_note", {"title": "Stress", "body": "China 2015 window", "portfolio": MAIN,
                                            "report_id": ids[-1]})
    assert note["report_id"] == ids[-1] and note["portfolio"] == MAIN
    notes = desk.client.call("list_notes", {"portfolio": MAIN})
    assert notes["data"][-1]["id"] == note["id"]
