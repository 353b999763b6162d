"""The realised move and the delta-hedge backtest of options_vol_01, against a hand-written
loop that keeps a cash account and a share count with scipy's normal CDF (no QuantLib, none of
the desk's P&L code), and the store's raw closes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import norm

from phinance_env.desks.options_vol_01 import delta_hedge_backtest, realised_move, vol_surface
from phinance_env.errors import BadDate, BadRange


def bsm(kind: str, s: float, k: float, t: float, vol: float, r: float, q: float) -> tuple[float, float]:
    """(price, delta) by the closed form."""
    d1 = (math.log(s / k) + (r - q + vol * vol / 2) * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    if kind == "call":
        return (s * math.exp(-q * t) * norm.cdf(d1) - k * math.exp(-r * t) * norm.cdf(d2),
                math.exp(-q * t) * norm.cdf(d1))
    return (k * math.exp(-r * t) * norm.cdf(-d2) - s * math.exp(-q * t) * norm.cdf(-d1),
            -math.exp(-q * t) * norm.cdf(-d1))


def hand_loop(store, ticker, start, expiry, strike, kind, every, position):
    """Sell (or buy) at the surface, then trade shares against a cash account, session by session."""
    surface = vol_surface(store, ticker, start)
    bars = store.bars(ticker, surface.session, dt.date.fromisoformat(expiry))
    closes = bars["close"].tolist()
    dates = [d.date() for d in bars.index]
    r, q = surface.rate, surface.dividend_yield
    vol = surface.vol(strike, (dates[-1] - dates[0]).days / 365)
    sign = -1.0 if position == "short" else 1.0
    premium, delta = bsm(kind, closes[0], strike, (dates[-1] - dates[0]).days / 365, vol, r, q)
    cash, shares = -sign * premium, 0.0
    target = -sign * delta
    cash -= (target - shares) * closes[0]
    shares = target
    rows = [dict(option=0.0, hedge=0.0, financing=0.0, total=0.0, shares=shares)]
    hedge = financing = 0.0
    last = len(closes) - 1
    for j in range(1, last + 1):
        gap = (dates[j] - dates[j - 1]).days
        earned = cash * (math.exp(r * gap / 365) - 1) + shares * closes[j - 1] * (math.exp(q * gap / 365) - 1)
        cash += earned
        financing += earned
        hedge += shares * (closes[j] - closes[j - 1])
        if j == last:
            value = max(closes[j] - strike, 0.0) if kind == "call" else max(strike - closes[j], 0.0)
            cash += shares * closes[j]  # close the hedge at the expiry close
            shares = 0.0
        else:
            value, delta = bsm(kind, closes[j], strike, (dates[-1] - dates[j]).days / 365, vol, r, q)
            if j % every == 0:
                cash -= (-sign * delta - shares) * closes[j]
                shares = -sign * delta
        book = cash + shares * closes[j] + sign * value  # what the whole position is worth now
        rows.append(dict(option=sign * (value - premium), hedge=hedge, financing=financing, total=book,
                         shares=shares))
    return premium, vol, rows


CASES = [
    ("^GSPC", "2018-06-29", "2018-07-20", 2700.0, "put", 1, "short"),
    ("^GSPC", "2018-06-29", "2018-07-20", 2750.0, "call", 3, "long"),
    ("NOVA", "2018-06-29", "2018-08-17", 600.0, "call", 2, "short"),
    ("^IXIC", "2015-08-14", "2015-09-18", 4900.0, "put", 1, "long"),  # through the August 2015 sell-off
]


@pytest.mark.parametrize("ticker,start,expiry,strike,kind,every,position", CASES)
def test_backtest_matches_a_hand_written_loop(store, ticker, start, expiry, strike, kind, every, position):
    bt = delta_hedge_backtest(store, ticker, start, expiry, strike, kind, every, position)
    premium, vol, rows = hand_loop(store, ticker, start, expiry, strike, kind, every, position)
    assert bt.premium == pytest.approx(premium, rel=1e-10) and bt.implied_vol == vol
    assert len(bt.path) == len(rows)
    tol = 1e-7 * bt.path["close"].iloc[0]
    for col, key in (("option_pnl", "option"), ("hedge_pnl", "hedge"), ("financing_pnl", "financing"),
                     ("total_pnl", "total"), ("hedge_units", "shares")):
        assert np.allclose(bt.path[col].to_numpy(), [row[key] for row in rows], rtol=0, atol=tol), col
    assert bt.total_pnl == pytest.approx(rows[-1]["total"], abs=tol)
    assert (bt.option_pnl, bt.hedge_pnl, bt.financing_pnl) == (
        bt.path["option_pnl"].iloc[-1], bt.path["hedge_pnl"].iloc[-1], bt.path["financing_pnl"].iloc[-1])


def test_components_add_up_and_the_trade_is_at_the_surface_price(store, gspc_chain):
    bt = delta_hedge_backtest(store, "^GSPC", "2018-06-29", "2018-09-21", 2700.0, "put")
    p = bt.path
    assert np.allclose(p["total_pnl"], p["option_pnl"] + p["hedge_pnl"] + p["financing_pnl"], rtol=0, atol=1e-9)
    assert p.iloc[0][["option_pnl", "hedge_pnl", "financing_pnl", "total_pnl"]].tolist() == [0.0] * 4
    assert bt.premium == pytest.approx(gspc_chain.quote("2018-09-21", 2700.0, "put").mid, rel=1e-12)
    assert bt.source == "synthetic" and bt.start == dt.date(2018, 6, 29) and bt.expiry == dt.date(2018, 9, 21)
    # Expiry: the option is worth its payoff at the last close and the hedge is flat.
    assert p["option_value"].iloc[-1] == max(2700.0 - p["close"].iloc[-1], 0.0) and p["hedge_units"].iloc[-1] == 0
    assert p["days_to_expiry"].iloc[0] == 84 and p["days_to_expiry"].iloc[-1] == 0
    # Implied 16% against a realised 7.6%: the hedged seller kept most of the premium.
    assert bt.implied_vol > 0.15 and bt.realised_vol < 0.08 and bt.total_pnl > 0
    assert "synthetic premium" in bt.summary() and "total +" in bt.summary()


def test_long_is_the_mirror_of_short(store):
    args = (store, "NOVA", "2018-06-29", "2018-09-21", 620.0, "call", 2)
    short, long = delta_hedge_backtest(*args, position="short"), delta_hedge_backtest(*args, position="long")
    for col in ("option_pnl", "hedge_pnl", "financing_pnl", "total_pnl", "hedge_units"):
        assert np.allclose(long.path[col], -short.path[col], rtol=0, atol=1e-9)


def test_rebalancing_less_often_holds_the_hedge_between_rebalances(store):
    bt = delta_hedge_backtest(store, "^GSPC", "2018-06-29", "2018-09-21", 2700.0, "put", 5)
    units = bt.path["hedge_units"].to_numpy()[:-1]
    for i in range(len(units)):
        # short: the position's delta is -delta, so the hedge holds +delta units
        assert units[i] == (units[i - 1] if i % 5 else bt.path["delta"].iloc[i])
    assert bt.n_rebalances == len(range(0, len(units), 5))


def test_realised_move_from_the_raw_closes(store):
    move = realised_move(store, "^GSPC", "2018-06-30", "2018-07-21")  # a Saturday each
    close = store.bars("^GSPC", dt.date(2018, 6, 29), dt.date(2018, 7, 20))["close"].to_numpy()
    logs = np.log(close[1:] / close[:-1])
    assert (move.start, move.end) == (dt.date(2018, 6, 29), dt.date(2018, 7, 20))
    assert "2018-06-30 is not a trading session" in move.note and "2018-07-21" in move.note
    assert move.start_close == close[0] and move.end_close == close[-1] and move.n_returns == len(close) - 1
    assert move.move == pytest.approx(close[-1] / close[0] - 1) and move.log_move == pytest.approx(logs.sum())
    assert move.realised_vol == pytest.approx(math.sqrt(np.mean(logs ** 2) * 252))


@pytest.mark.parametrize("kw,error,match", [
    ({"expiry": "2018-07-21"}, BadDate, "not a trading session; options expire on a session, e.g. 2018-07-20"),
    ({"expiry": "2019-01-18"}, BadDate, "after the last close"),
    ({"expiry": "2018-06-29"}, BadDate, "must be a session after the start session"),
    ({"rebalance_every_n_sessions": 0}, BadRange, "whole number >= 1"),
    ({"rebalance_every_n_sessions": 1.5}, BadRange, "whole number >= 1"),
    ({"position": "flat"}, BadRange, "'short' or 'long'"),
    ({"strike": -5.0}, BadRange, "strike must be a finite number > 0"),
    ({"kind": "straddle"}, BadRange, "'call' or 'put'"),
])
def test_backtest_refusals(store, kw, error, match):
    args = {"ticker": "^GSPC", "start": "2018-06-29", "expiry": "2018-07-20", "strike": 2700.0, "kind": "put", **kw}
    with pytest.raises(error, match=match):
        delta_hedge_backtest(store, **args)
