"""The synthetic surface and chains of options_vol_01: determinism, the ^VIX / realised anchor
(recomputed here from the raw bars), skew and term-structure shapes, absence of static
arbitrage, expiries on the XNYS calendar, the strike grid, and quotes that obey parity."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from phinance_env.desks.options_vol_01 import (
    DEFAULT_PARAMS, SurfaceParams, implied_move, implied_vol, monthly_expiries, no_arbitrage_bounds, option_chain,
    strike_grid, vol_surface,
)
from phinance_env.desks.options_vol_01.surface import nice_increment, third_friday
from phinance_env.errors import BadDate, BadRange, NotEnoughData, UnknownTicker
from phinance_env.market.calendar import xnys_days

T30 = 30 / 365


def bars_realised(store, ticker: str, as_of: str, window: int) -> float:
    """Sample sd of the last ``window`` daily log returns x sqrt(252), from pandas bars."""
    close = store.bars(ticker, dt.date(1990, 1, 1), dt.date.fromisoformat(as_of))["close"]
    return float(np.log(close).diff().iloc[-window:].std(ddof=1)) * math.sqrt(252)


# --- determinism -----------------------------------------------------------------------------
def test_same_inputs_give_the_same_numbers(store, gspc_chain):
    again = option_chain(store, "^GSPC", "2018-06-29")
    assert again == gspc_chain  # every quote, bid and ask, and the surface behind them
    assert [q.bid for q in again.quotes] == [q.bid for q in gspc_chain.quotes]


def test_another_process_gets_the_same_chain(store, gspc_chain):
    # A fresh interpreter with another hash seed: nothing may depend on hash() or on memory.
    code = (
        "import hashlib, sys\n"
        "from phinance_env.market import BarStore\n"
        "from phinance_env.desks.options_vol_01 import option_chain\n"
        "c = option_chain(BarStore(sys.argv[1]), '^GSPC', '2018-06-29')\n"
        "print(hashlib.sha256(repr(c.quotes).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(store.path)], capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    assert out.stdout.strip() == hashlib.sha256(repr(gspc_chain.quotes).encode()).hexdigest()


def test_the_seed_moves_spreads_but_never_mids(store, gspc_chain):
    other = option_chain(store, "^GSPC", "2018-06-29", params=SurfaceParams(seed=7))
    assert [q.mid for q in other.quotes] == [q.mid for q in gspc_chain.quotes]
    assert [q.iv for q in other.quotes] == [q.iv for q in gspc_chain.quotes]
    assert any(a.bid != b.bid or a.ask != b.ask for a, b in zip(other.quotes, gspc_chain.quotes))


def test_everything_is_labelled_synthetic(gspc_chain, nova_chain):
    for chain in (gspc_chain, nova_chain):
        assert chain.source == "synthetic" and chain.surface.source == "synthetic"
        assert {q.source for q in chain.quotes} == {"synthetic"}
        assert set(chain.to_frame()["source"]) == {"synthetic"}


# --- the anchor --------------------------------------------------------------------------------
def test_gspc_is_anchored_to_the_vix_close(store):
    s = vol_surface(store, "^GSPC", "2018-02-05")  # VIX closed at 37.32 that day
    vix = store.bars("^VIX", dt.date(2018, 2, 5), dt.date(2018, 2, 5))["close"].iloc[0]
    assert vix == pytest.approx(37.32)
    assert s.anchor_source == "^VIX close" and s.anchor_vol == vix / 100
    assert s.atm_vol(T30) == pytest.approx(vix / 100, abs=1e-12)


@pytest.mark.parametrize("ticker,as_of", [
    ("^GSPC", "2012-06-29"),  # before the store's ^VIX
    ("^GSPC", "2014-01-02"),  # the store's ^VIX starts one session later
    ("^IXIC", "2018-02-05"),  # no volatility index for the Nasdaq here
    ("NOVA", "2018-06-29"),
])
def test_elsewhere_the_anchor_is_realised_vol_plus_two_points(store, ticker, as_of):
    s = vol_surface(store, ticker, as_of)
    rv21, rv63 = bars_realised(store, ticker, as_of, 21), bars_realised(store, ticker, as_of, 63)
    assert s.anchor_source == "realised 21/63 + premium"
    assert s.realised_short == pytest.approx(rv21, rel=1e-12) and s.realised_medium == pytest.approx(rv63, rel=1e-12)
    assert s.anchor_vol == pytest.approx((rv21 + rv63) / 2 + 0.02, rel=1e-12)
    assert s.atm_vol(T30) == pytest.approx(s.anchor_vol, abs=1e-12)
    assert s.long_run_vol == pytest.approx(bars_realised(store, ticker, as_of, 252) + 0.02, rel=1e-12)


def test_rates_and_dividend_yields(store, gspc_chain, nova_chain):
    assert gspc_chain.rate == nova_chain.rate == 0.02
    assert gspc_chain.dividend_yield == 0.02 and nova_chain.dividend_yield == 0.0
    assert vol_surface(store, "^IXIC", "2018-06-29").dividend_yield == 0.02
    closes = store.bars("^GSPC", dt.date(2018, 6, 29), dt.date(2018, 6, 29))["close"]
    assert gspc_chain.spot == closes.iloc[0]
    s = gspc_chain.surface
    assert s.forward(0.5) == pytest.approx(s.spot * math.exp((0.02 - 0.02) * 0.5))


# --- shapes ----------------------------------------------------------------------------------
def test_term_structure_mean_reverts_to_the_long_run_level(store):
    stressed = vol_surface(store, "^GSPC", "2018-02-05")  # VIX 37 over a calm year: backwardation
    calm = vol_surface(store, "^GSPC", "2009-09-28")  # realised fell below the 2008-09 year: contango
    ts = [7 / 365, T30, 0.25, 0.5, 1.0, 2.0, 5.0, 30.0]
    for s, falling in ((stressed, True), (calm, False)):
        atm = np.array([s.atm_vol(t) for t in ts])
        assert np.all(np.diff(atm) < 0) if falling else np.all(np.diff(atm) > 0)
        assert abs(atm[-1] - s.long_run_vol) < 0.1 * abs(atm[0] - s.long_run_vol)
        # total ATM variance grows with time: no calendar arbitrage at the money
        assert np.all(np.diff(atm ** 2 * np.array(ts)) > 0)
        # the documented form: w(T) = L^2 + (v0 - L^2)(1 - e^{-kT})/(kT)
        w = s.long_run_vol ** 2 + (s.initial_variance - s.long_run_vol ** 2) * (1 - math.exp(-2.0)) / 2.0
        assert s.atm_vol(1.0) == pytest.approx(math.sqrt(w), rel=1e-12)


def test_index_skew_is_steeper_on_the_put_side_and_flattens_with_maturity(gspc_chain):
    s = gspc_chain.surface
    previous_put_skew = math.inf
    for t in (T30, 0.25, 1.0):
        f, atm = s.forward(t), s.atm_vol(t)
        for x in (0.02, 0.05, 0.10):
            up, down = s.vol(f * math.exp(x), t), s.vol(f * math.exp(-x), t)
            assert down - atm > 0 and down - atm > abs(up - atm)
            # the documented formula: atm + b ln(K/F)/sqrt(T), b = -0.20 below the forward
            assert down == pytest.approx(max(atm + 0.20 * x / math.sqrt(t), 0.5 * atm), rel=1e-12)
        strikes = np.linspace(0.7 * f, f, 30)
        assert np.all(np.diff([s.vol(k, t) for k in strikes]) < 0)  # vol falls towards the money
        put_skew = s.vol(0.9 * f, t) - atm
        assert put_skew < previous_put_skew
        previous_put_skew = put_skew


def test_stock_smile_rises_gently_on_the_call_side(nova_chain):
    s = nova_chain.surface
    t = 0.25
    f, atm = s.forward(t), s.atm_vol(t)
    assert s.vol(1.1 * f, t) > atm and s.vol(0.9 * f, t) - atm > s.vol(1.1 * f, t) - atm
    assert s.put_skew == -0.12 and s.call_skew == 0.02


def test_wings_never_fall_below_half_the_atm_vol(gspc_chain):
    s = gspc_chain.surface
    for t in (1 / 365, 7 / 365):
        assert s.vol(2.0 * s.forward(t), t) == pytest.approx(0.5 * s.atm_vol(t))
        assert s.vol(1.01 * s.forward(t), t) > 0.5 * s.atm_vol(t)


@pytest.mark.parametrize("ticker,as_of", [("^GSPC", "2018-02-05"), ("^GSPC", "2018-06-29"), ("NOVA", "2009-04-20")])
def test_chains_have_no_static_arbitrage(store, ticker, as_of):
    chain = option_chain(store, ticker, as_of)
    s, k = chain.surface, np.array(chain.strikes)
    for expiry in chain.expiries:
        calls = np.array([chain.quote(expiry, x, "call").mid for x in chain.strikes])
        puts = np.array([chain.quote(expiry, x, "put").mid for x in chain.strikes])
        t = s.time_to(expiry)
        slopes = np.diff(calls) / np.diff(k)
        assert np.all(slopes <= 1e-12) and np.all(slopes >= -math.exp(-s.rate * t) - 1e-12)  # monotone
        assert np.all(np.diff(slopes) >= -1e-9)  # convex: butterflies cost >= 0
        assert np.all(np.diff(puts) >= -1e-12)
    # calendars: total variance at a fixed K/F never falls with expiry
    times = [s.time_to(e) for e in chain.expiries]
    for x in np.linspace(-0.3, 0.3, 25):
        w = [s.vol(s.forward(t) * math.exp(x), t) ** 2 * t for t in times]
        assert np.all(np.diff(w) >= -1e-15)


# --- expiries --------------------------------------------------------------------------------
def test_monthly_expiries_are_third_fridays_after_the_session(gspc_chain):
    assert gspc_chain.expiries == tuple(dt.date(2018, m, d) for m, d in
                                        ((7, 20), (8, 17), (9, 21), (10, 19), (11, 16), (12, 21)))
    assert third_friday(2018, 7) == dt.date(2018, 7, 20) and third_friday(2019, 3) == dt.date(2019, 3, 15)


def test_an_exchange_holiday_moves_the_expiry_to_the_previous_session():
    # Good Friday fell on the third Friday in April 2014 (the 18th) and April 2019 (the 19th).
    assert monthly_expiries("2014-03-31", 1) == (dt.date(2014, 4, 17),)
    assert monthly_expiries("2018-12-31", 6)[3] == dt.date(2019, 4, 18)


def test_expiries_are_strictly_after_as_of_and_are_sessions():
    assert monthly_expiries("2018-07-20", 1) == (dt.date(2018, 8, 17),)  # an expiry day itself is skipped
    assert monthly_expiries("2018-07-19", 1) == (dt.date(2018, 7, 20),)
    days = set(xnys_days().astype(object))
    for as_of in ("2005-03-01", "2011-12-30", "2016-11-18"):
        exps = monthly_expiries(as_of, 12)
        assert len(exps) == 12 and list(exps) == sorted(set(exps)) and exps[0] > dt.date.fromisoformat(as_of)
        for e in exps:
            friday = third_friday(e.year, e.month)
            assert e in days and (e == friday or (friday not in days and e < friday))


@pytest.mark.parametrize("n", [0, -1, 25, 2.5, True])
def test_a_bad_number_of_expiries_is_refused(n):
    with pytest.raises(BadRange, match="from 1 to 24"):
        monthly_expiries("2018-06-29", n)


# --- strikes ---------------------------------------------------------------------------------
def test_nice_increments():
    assert [nice_increment(x) for x in (27.18, 67.96, 135.9, 6.07, 0.5, 1.25, 15.2, 3.3)] == \
        [25.0, 50.0, 100.0, 5.0, 0.5, 1.0, 20.0, 2.5]


@pytest.mark.parametrize("spot", [2718.37, 7510.3, 607.38, 95.0, 12.34, 1.5])
def test_strike_grid_properties(spot):
    strikes = np.array(strike_grid(spot))
    assert np.all(np.diff(strikes) > 0) and np.all(strikes > 0)
    assert strikes.min() >= 0.7 * spot - 1e-9 and strikes.max() <= 1.3 * spot + 1e-9
    assert np.min(np.abs(strikes - spot)) <= 0.01 * spot
    incs = [nice_increment(f * spot) for f in (0.01, 0.025, 0.05)]
    for k in strikes:
        assert any(abs(k / inc - round(k / inc)) < 1e-6 for inc in incs)
    near = strikes[np.abs(strikes / spot - 1) <= 0.05]
    assert np.allclose(np.diff(near), incs[0])  # the finest step around the money
    for lo, hi, inc in ((0.05, 0.15, incs[1]), (0.15, 0.30, incs[2])):
        band = strikes[(strikes / spot - 1 > lo + 1e-12) & (strikes / spot - 1 <= hi + 1e-12)]
        assert np.allclose(np.diff(band), inc)  # coarser steps further out


def test_the_chain_uses_the_grid_for_every_expiry(gspc_chain):
    assert gspc_chain.strikes == strike_grid(gspc_chain.spot)
    assert len(gspc_chain.quotes) == 2 * len(gspc_chain.strikes) * len(gspc_chain.expiries)
    assert len({(q.expiry, q.strike, q.kind) for q in gspc_chain.quotes}) == len(gspc_chain.quotes)


# --- quotes ----------------------------------------------------------------------------------
def test_quotes_obey_parity_to_the_cent_and_round_trip_their_vol(gspc_chain, nova_chain):
    for chain in (gspc_chain, nova_chain):
        s = chain.surface
        for expiry, strike in itertools.product(chain.expiries, chain.strikes):
            c, p = chain.quote(expiry, strike, "call"), chain.quote(expiry, strike, "put")
            t = c.days / 365
            assert c.t == t and c.days == (expiry - chain.session).days and c.iv == p.iv
            rhs = s.spot * math.exp(-s.dividend_yield * t) - strike * math.exp(-s.rate * t)
            assert abs((c.mid - p.mid) - rhs) < 1e-9 * s.spot
            assert abs(round(c.mid, 2) - round(p.mid, 2) - round(rhs, 2)) <= 0.01 + 1e-9
            for q in (c, p):
                assert 0 <= q.bid <= q.mid <= q.ask and q.ask >= q.bid + 0.01 - 1e-12
                for cents in (q.bid * 100, q.ask * 100):
                    assert round(cents) == pytest.approx(cents)  # whole cents
                lower, _ = no_arbitrage_bounds(q.kind, s.spot, strike, t, s.rate, s.dividend_yield)
                if q.mid - lower > 1e-6 * s.spot:
                    assert implied_vol(q.mid, q.kind, s.spot, strike, t, s.rate, s.dividend_yield) == \
                        pytest.approx(q.iv, abs=1e-6)
            assert 0 <= c.delta <= 1 and -1 <= p.delta <= 0 and c.gamma == pytest.approx(p.gamma)


def test_chain_lookup_and_refusals(gspc_chain):
    q = gspc_chain.quote("2018-07-20", 2700.0, "PUT")
    assert q.kind == "put" and q.strike == 2700.0 and q.expiry == dt.date(2018, 7, 20)
    with pytest.raises(BadRange, match="no call at strike 2701"):
        gspc_chain.quote("2018-07-20", 2701.0, "call")


def test_implied_move_is_the_atm_straddle_over_spot(gspc_chain):
    s, e = gspc_chain.surface, gspc_chain.expiries[1]
    t = s.time_to(e)
    move = implied_move(s, e)
    assert move == pytest.approx((s.price("call", s.forward(t), t) + s.price("put", s.forward(t), t)) / s.spot)
    assert move == pytest.approx(math.sqrt(2 / math.pi) * s.atm_vol(t) * math.sqrt(t), rel=0.02)


# --- inputs ----------------------------------------------------------------------------------
def test_a_non_session_as_of_uses_the_previous_session_with_a_note(store):
    s = vol_surface(store, "^GSPC", "2018-06-30")
    assert s.session == dt.date(2018, 6, 29) and "not a trading session" in s.note


def test_refusals(store):
    with pytest.raises(BadRange, match="not modelled"):
        vol_surface(store, "^VIX", "2018-06-29")
    with pytest.raises(NotEnoughData, match="use an as_of on or after 2006-01-0"):
        vol_surface(store, "NOVA", "2005-06-01")
    with pytest.raises(UnknownTicker):
        vol_surface(store, "NOPE", "2018-06-29")
    with pytest.raises(BadDate, match="outside the data"):
        vol_surface(store, "^GSPC", "2019-06-28")
    with pytest.raises(BadDate, match="YYYY-MM-DD"):
        vol_surface(store, "^GSPC", "29/06/2018")


@pytest.mark.parametrize("kw,match", [
    ({"short_window": 100}, "short_window <= medium_window"),
    ({"index_put_skew": 0.1}, "put_skew must be <= call_skew"),
    ({"rate": math.nan}, "rate must be a finite number"),
    ({"mean_reversion": 0.0}, "mean_reversion must be > 0"),
    ({"long_window": 252.5}, "long_window must be a whole number"),
])
def test_bad_surface_parameters_are_refused(kw, match):
    with pytest.raises(BadRange, match=match):
        SurfaceParams(**kw)
    assert DEFAULT_PARAMS == SurfaceParams()
