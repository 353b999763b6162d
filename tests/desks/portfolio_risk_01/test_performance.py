"""Time-weighted return and P&L by position: a hand-worked book with trades and a deposit,
and real bars against sub-period returns chained by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from phinance_env.desks.portfolio_risk_01 import Book, Flow, Trade, apply_trades, performance
from phinance_env.errors import BadDate, BadRange, UnknownTicker


def hand_closes() -> pd.DataFrame:
    # Four XNYS sessions; 2018-07-04 (Independence Day) is closed.
    days = pd.DatetimeIndex(["2018-07-02", "2018-07-03", "2018-07-05", "2018-07-06"])
    return pd.DataFrame({"AAA": [100.0, 110.0, 99.0, 105.0], "BBB": [50.0, 50.0, 55.0, 60.0]}, index=days)


HAND_TRADES = [Trade(dt.date(2018, 7, 3), "BBB", 20, 50.0), Trade(dt.date(2018, 7, 6), "AAA", -5, 105.0)]
HAND_FLOWS = [Flow(dt.date(2018, 7, 5), 1_000.0)]


def test_hand_worked_book_with_trades_and_a_deposit():
    # Start (07-02 close): 10 AAA @ 100 + 1000 cash = 2000.
    # 07-03: buy 20 BBB @ 50 (cash -> 0); value 10 x 110 + 20 x 50 = 2100.
    # 07-05: deposit 1000; value 10 x 99 + 20 x 55 + 1000 = 3090, of which 2090 before the flow.
    # 07-06: sell 5 AAA @ 105 (cash -> 1525); value 5 x 105 + 20 x 60 + 1525 = 3250.
    # Sub-periods split at the deposit: 2000 -> 2090 (x 1.045), then 3090 -> 3250.
    book = Book({"AAA": 10}, cash=1_000.0, capital=2_000.0)
    perf = performance(book, hand_closes(), "2018-07-02", "2018-07-06", HAND_TRADES, HAND_FLOWS)
    np.testing.assert_allclose(perf.values, [2000.0, 2100.0, 3090.0, 3250.0])
    assert perf.twr == pytest.approx((2090 / 2000) * (3250 / 3090) - 1)  # 0.09911...
    np.testing.assert_allclose(perf.daily_returns, [2100 / 2000 - 1, 2090 / 2100 - 1, 3250 / 3090 - 1])
    # AAA: 10 held 100 -> 105, 5 of them sold at 105: 525 - 1000 + 525 = +50.
    # BBB: 20 bought at 50, worth 60 x 20 at the end: 1200 - 0 - 1000 = +200.
    assert perf.pnl_by_position == pytest.approx({"AAA": 50.0, "BBB": 200.0})
    assert perf.net_flows == 1_000.0 and perf.pnl == pytest.approx(250.0)  # 3250 - 2000 - 1000
    assert perf.start_value == 2000.0 and perf.end_value == 3250.0
    assert perf.sessions == [dt.date(2018, 7, 2), dt.date(2018, 7, 3), dt.date(2018, 7, 5), dt.date(2018, 7, 6)]
    end = apply_trades(book, HAND_TRADES, HAND_FLOWS)
    assert end.positions == {"AAA": 5.0, "BBB": 20.0} and end.cash == 1525.0 and end.capital == 3000.0


def test_a_fill_at_a_price_other_than_the_close_is_that_days_pnl():
    # Buying 20 BBB at 49 when it closes at 50 gains 20 the same day: 2000 -> 2120 on 07-03.
    book = Book({"AAA": 10}, cash=1_000.0)
    perf = performance(book, hand_closes(), "2018-07-02", "2018-07-03", [Trade(dt.date(2018, 7, 3), "BBB", 20, 49.0)])
    assert perf.values[-1] == pytest.approx(10 * 110 + 20 * 50 + 1000 - 980)
    assert perf.pnl_by_position == pytest.approx({"AAA": 100.0, "BBB": 20.0})


def test_real_bars_twr_equals_chained_sub_period_returns(store):
    from phinance_env.desks.portfolio_risk_01 import load_closes

    closes = load_closes(store, ["^GSPC", "NOVA", "MEDI"], "2018-01-02", "2018-03-29")
    book = Book({"^GSPC": 4, "NOVA": 20}, cash=5_000.0)
    trades = [Trade(dt.date(2018, 1, 19), "MEDI", 3, float(closes.loc["2018-01-19", "MEDI"])),
              Trade(dt.date(2018, 2, 9), "NOVA", -20, float(closes.loc["2018-02-09", "NOVA"]))]
    flows = [Flow(dt.date(2018, 2, 1), 2_500.0), Flow(dt.date(2018, 3, 1), -4_000.0)]
    perf = performance(book, closes, "2018-01-02", "2018-03-29", trades, flows)

    # By hand: holdings in each stretch between events, valued from the store's closes.
    def value(day: str, shares: dict[str, float], cash: float) -> float:
        return cash + sum(n * float(closes.loc[day, t]) for t, n in shares.items())

    p = {t: float(closes.loc["2018-01-19", t]) for t in closes}
    q = {t: float(closes.loc["2018-02-09", t]) for t in closes}
    hold1, cash1 = {"^GSPC": 4, "NOVA": 20}, 5_000.0
    hold2, cash2 = {"^GSPC": 4, "NOVA": 20, "MEDI": 3}, 5_000.0 - 3 * p["MEDI"]
    cash3 = cash2 + 2_500.0
    hold4, cash4 = {"^GSPC": 4, "MEDI": 3}, cash3 + 20 * q["NOVA"]
    cash5 = cash4 - 4_000.0
    # Flows split the period into three sub-periods; trades at the close leave value unchanged.
    r1 = value("2018-02-01", hold2, cash2) / value("2018-01-02", hold1, cash1)
    r2 = value("2018-03-01", hold4, cash4) / value("2018-02-01", hold2, cash3)
    r3 = value("2018-03-29", hold4, cash5) / value("2018-03-01", hold4, cash5)
    assert perf.twr == pytest.approx(r1 * r2 * r3 - 1, rel=1e-12)
    assert perf.net_flows == -1_500.0
    assert math.fsum(perf.pnl_by_position.values()) == pytest.approx(perf.pnl, rel=1e-12)
    assert perf.pnl == pytest.approx(perf.end_value - perf.start_value + 1_500.0)
    # NOVA's P&L: 20 shares from the first close to the sale at the 02-09 close.
    nova = 20 * (q["NOVA"] - float(closes.loc["2018-01-02", "NOVA"]))
    assert perf.pnl_by_position["NOVA"] == pytest.approx(nova, rel=1e-12)


def test_without_flows_twr_is_the_value_ratio_and_non_sessions_resolve(store):
    from phinance_env.desks.portfolio_risk_01 import load_closes

    closes = load_closes(store, ["^IXIC"], "2018-01-02", "2018-12-31")
    book = Book({"^IXIC": 1}, cash=0.0)
    # 2018-01-01 is not in the data; 2018-07-04 is a holiday -> 07-03; 2018-12-30 a Sunday -> 12-28.
    perf = performance(book, closes, "2018-07-04", "2018-12-30")
    assert perf.start == dt.date(2018, 7, 3) and perf.end == dt.date(2018, 12, 28)
    assert len(perf.notes) == 2 and "holiday" in perf.notes[0] and "weekend" in perf.notes[1]
    c = store.series("^IXIC")
    close = dict(zip(c.sessions.astype(str), c.close))
    assert perf.twr == pytest.approx(close["2018-12-28"] / close["2018-07-03"] - 1, rel=1e-12)


def test_bad_periods_and_trades():
    book = Book({"AAA": 10}, cash=1_000.0)
    closes = hand_closes()
    with pytest.raises(BadRange, match="must be a session after start"):
        performance(book, closes, "2018-07-05", "2018-07-05")
    with pytest.raises(BadRange, match="must be a session after start"):
        performance(book, closes, "2018-07-06", "2018-07-02")
    with pytest.raises(BadRange, match="outside the period"):
        performance(book, closes, "2018-07-02", "2018-07-05", [Trade(dt.date(2018, 7, 2), "AAA", 1, 100.0)])
    with pytest.raises(BadRange, match="outside the period"):
        performance(book, closes, "2018-07-02", "2018-07-05", flows=[Flow(dt.date(2018, 7, 6), 1.0)])
    with pytest.raises(BadDate, match="2018-07-04 is not a trading session"):
        performance(book, closes, "2018-07-02", "2018-07-06", [Trade(dt.date(2018, 7, 4), "AAA", 1, 100.0)])
    with pytest.raises(BadRange, match="sells more than the book holds"):
        performance(book, closes, "2018-07-02", "2018-07-06", [Trade(dt.date(2018, 7, 3), "AAA", -11, 110.0)])
    with pytest.raises(UnknownTicker, match="no closes for CCC"):
        performance(book, closes, "2018-07-02", "2018-07-06", [Trade(dt.date(2018, 7, 3), "CCC", 1, 10.0)])
    with pytest.raises(BadRange, match="price must be > 0"):
        Trade(dt.date(2018, 7, 3), "AAA", 1, 0.0)
    with pytest.raises(BadDate, match="trade date"):
        Trade("July 3", "AAA", 1, 1.0)
