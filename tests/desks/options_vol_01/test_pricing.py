"""Black-Scholes-Merton prices, greeks and implied vol of options_vol_01, each against an
independent source: textbook values (Hull; Haug's tables, as QuantLib's own test suite quotes
them), a closed form written here with scipy.stats.norm, and finite differences."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest
from scipy.stats import norm

from phinance_env.desks.options_vol_01.pricing import (
    MIN_TIME_VALUE, Greeks, bsm_greeks, bsm_price, forward_price, implied_vol, intrinsic_value, no_arbitrage_bounds,
    parity_gap, year_fraction,
)
from phinance_env.errors import BadDate, BadRange


def reference_price(kind: str, s: float, k: float, t: float, vol: float, r: float, q: float) -> float:
    """The closed form, written out with scipy (no QuantLib)."""
    d1 = (math.log(s / k) + (r - q + vol * vol / 2) * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    if kind == "call":
        return s * math.exp(-q * t) * norm.cdf(d1) - k * math.exp(-r * t) * norm.cdf(d2)
    return k * math.exp(-r * t) * norm.cdf(-d2) - s * math.exp(-q * t) * norm.cdf(-d1)


# --- textbook values -------------------------------------------------------------------------
def test_hull_example_call_and_put():
    # Hull, Options, Futures and Other Derivatives: S=42, K=40, r=10%, sigma=20%, T=0.5 -> c=4.76, p=0.81.
    assert round(bsm_price("call", 42, 40, 0.5, 0.20, 0.10), 2) == 4.76
    assert round(bsm_price("put", 42, 40, 0.5, 0.20, 0.10), 2) == 0.81


def test_hull_greeks_of_the_twenty_week_call():
    # Hull's running example of the greek letters: S=49, K=50, r=5%, sigma=20%, T=20 weeks.
    g = bsm_greeks("call", 49, 50, 0.3846, 0.20, 0.05)
    assert round(g.price, 2) == 2.40
    assert round(g.delta, 3) == 0.522
    assert round(g.gamma, 3) == 0.066
    assert round(g.vega, 1) == 12.1  # per 1.00 of vol: 0.121 per vol point
    assert round(g.vega_per_point, 3) == 0.121
    assert round(g.theta, 2) == -4.31  # per year
    assert round(g.theta_per_day, 4) == -0.0118  # per calendar day
    assert round(g.rho, 2) == 8.91  # per 1.00 of rate


# Haug, "Option pricing formulas" (1998), pp. 2-8 and 24-27: (kind, K, S, q, r, T, vol, value).
HAUG_VALUES = [
    ("call", 65.0, 60.0, 0.00, 0.08, 0.25, 0.30, 2.1334),
    ("put", 95.0, 100.0, 0.05, 0.10, 0.50, 0.20, 2.4648),
    ("put", 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    ("call", 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    ("call", 1.60, 1.56, 0.08, 0.06, 0.50, 0.12, 0.0291),
    ("put", 70.0, 75.0, 0.05, 0.10, 0.50, 0.35, 4.0870),
    ("call", 100.0, 110.0, 0.10, 0.10, 0.50, 0.35, 15.3086),
    ("put", 100.0, 90.0, 0.10, 0.10, 0.10, 0.25, 10.2155),
    ("call", 40.0, 42.0, 0.08, 0.04, 0.75, 0.35, 5.0975),
]


@pytest.mark.parametrize("kind,k,s,q,r,t,vol,value", HAUG_VALUES)
def test_haug_values_with_dividend_yield(kind, k, s, q, r, t, vol, value):
    assert bsm_price(kind, s, k, t, vol, r, q) == pytest.approx(value, abs=1e-4)


def test_haug_greeks():
    # Haug (1998) pp. 11-16, the greek examples (generalised BSM with b = r - q).
    assert bsm_greeks("call", 105, 100, 0.5, 0.36, 0.10, 0.10).delta == pytest.approx(0.5946, abs=1e-4)
    assert bsm_greeks("put", 105, 100, 0.5, 0.36, 0.10, 0.10).delta == pytest.approx(-0.3566, abs=1e-4)
    for kind in ("call", "put"):
        g = bsm_greeks(kind, 55, 60, 0.75, 0.30, 0.10, 0.0)
        assert g.gamma == pytest.approx(0.0278, abs=1e-4)
        assert g.vega == pytest.approx(18.9358, abs=1e-4)
    put = bsm_greeks("put", 430, 405, 1 / 12, 0.20, 0.07, 0.05)
    assert put.theta == pytest.approx(-31.1924, abs=1e-4)
    assert put.theta_per_day == pytest.approx(-0.0855, abs=1e-4)
    assert bsm_greeks("call", 72, 75, 1.0, 0.19, 0.09, 0.0).rho == pytest.approx(38.7325, abs=1e-4)
    assert bsm_greeks("put", 500, 490, 0.25, 0.15, 0.08, 0.05).dividend_rho == pytest.approx(42.2254, abs=1e-4)


GRID = list(itertools.product(
    ("call", "put"), (100.0,), (60.0, 85.0, 100.0, 115.0, 150.0), (7 / 365, 0.25, 1.0, 3.0), (0.08, 0.25, 0.9),
    (0.0, 0.05), (0.0, 0.03),
))


def test_prices_match_an_independent_closed_form():
    for kind, s, k, t, vol, r, q in GRID:
        assert bsm_price(kind, s, k, t, vol, r, q) == pytest.approx(
            reference_price(kind, s, k, t, vol, r, q), abs=1e-10), (kind, k, t, vol, r, q)


def test_put_call_parity_holds_to_the_cent_across_a_grid():
    for spot, strike, t, vol, r, q in itertools.product(
            (20.0, 100.0, 2700.0), (0.7, 0.9, 1.0, 1.1, 1.3), (1 / 365, 30 / 365, 0.5, 2.0), (0.05, 0.2, 1.0),
            (0.0, 0.02, 0.08), (0.0, 0.02)):
        k = strike * spot
        call, put = bsm_price("call", spot, k, t, vol, r, q), bsm_price("put", spot, k, t, vol, r, q)
        gap = parity_gap(call, put, spot, k, t, r, q)
        assert abs(gap) < 1e-9 * spot
        rhs = spot * math.exp(-q * t) - k * math.exp(-r * t)
        assert abs(round(call - put, 2) - round(rhs, 2)) <= 0.01 + 1e-12


# --- greeks against finite differences -------------------------------------------------------
def test_greeks_match_central_differences():
    for kind, s, k, t, vol, r, q in GRID:
        g = bsm_greeks(kind, s, k, t, vol, r, q)

        def price(**kw):
            args = {"s": s, "t": t, "vol": vol, "r": r, "q": q, **kw}
            return bsm_price(kind, args["s"], k, args["t"], args["vol"], args["r"], args["q"])

        # Steps: small for the first derivatives; for gamma a compromise between truncation
        # (one-week options curve sharply) and rounding (divided by the step squared).
        hd, hg, h = 1e-5 * s, 3e-5 * s, 1e-5
        assert g.price == pytest.approx(price())
        assert g.delta == pytest.approx((price(s=s + hd) - price(s=s - hd)) / (2 * hd), abs=1e-8)
        assert g.gamma == pytest.approx((price(s=s + hg) - 2 * price() + price(s=s - hg)) / hg ** 2,
                                        rel=1e-4, abs=1e-7)
        assert g.vega == pytest.approx((price(vol=vol + h) - price(vol=vol - h)) / (2 * h), abs=1e-5)
        # theta: the value's change as calendar time passes, i.e. minus d/dT.
        assert g.theta == pytest.approx(-(price(t=t + h) - price(t=t - h)) / (2 * h), abs=1e-5)
        assert g.rho == pytest.approx((price(r=r + h) - price(r=r - h)) / (2 * h), abs=1e-5)
        assert g.dividend_rho == pytest.approx((price(q=q + h) - price(q=q - h)) / (2 * h), abs=1e-5)


def test_greek_units_are_stated_and_consistent():
    g = bsm_greeks("put", 100, 95, 0.5, 0.25, 0.02, 0.01)
    assert isinstance(g, Greeks)
    assert g.vega_per_point == pytest.approx(g.vega / 100) and g.theta_per_day == pytest.approx(g.theta / 365)
    assert g.delta < 0 < g.gamma and g.vega > 0 and g.theta < 0 and g.rho < 0 < g.dividend_rho


# --- implied volatility ----------------------------------------------------------------------
def test_implied_vol_round_trips_across_strikes_and_expiries():
    n = 0
    for kind, k, t, vol in itertools.product(
            ("call", "put"), (70.0, 80.0, 90.0, 95.0, 100.0, 105.0, 110.0, 120.0, 135.0),
            (7 / 365, 30 / 365, 91 / 365, 0.5, 1.0, 2.0), (0.08, 0.15, 0.3, 0.6, 1.2)):
        price = reference_price(kind, 100.0, k, t, vol, 0.03, 0.01)
        lower, _ = no_arbitrage_bounds(kind, 100.0, k, t, 0.03, 0.01)
        if price - lower < 1e-6 * 100.0:
            continue  # no measurable time value: not a quote anyone could invert
        assert implied_vol(price, kind, 100.0, k, t, 0.03, 0.01) == pytest.approx(vol, abs=1e-6), (kind, k, t, vol)
        n += 1
    assert n > 400


def test_implied_vol_of_textbook_prices():
    assert implied_vol(4.759422392871536, "call", 42, 40, 0.5, 0.10) == pytest.approx(0.20, abs=1e-9)
    assert implied_vol(2.4648, "put", 100, 95, 0.5, 0.10, 0.05) == pytest.approx(0.20, abs=1e-4)


@pytest.mark.parametrize("price", [-1.0, 0.0, 1.0, 50.0, 100.0, 200.0, math.nan, math.inf, "abc"])
def test_impossible_call_prices_are_refused_with_the_bounds(price):
    # Call S=100, K=50, T=0.5, r=3%: lower bound 100 - 50 e^{-0.015} = 50.744, upper 100.
    with pytest.raises(BadRange, match=r"no-arbitrage bounds.*50\.744.*100\.000"):
        implied_vol(price, "call", 100, 50, 0.5, 0.03)


def test_impossible_put_prices_are_refused():
    lower, upper = no_arbitrage_bounds("put", 100, 120, 1.0, 0.05, 0.0)
    assert lower == pytest.approx(120 * math.exp(-0.05) - 100) and upper == pytest.approx(120 * math.exp(-0.05))
    for price in (lower - 0.01, lower, upper, upper + 1):
        with pytest.raises(BadRange, match="no volatility reproduces it"):
            implied_vol(price, "put", 100, 120, 1.0, 0.05)


def test_a_price_without_time_value_is_refused():
    # A 50-strike put on 100, one week, 20% vol: worth ~1e-60, i.e. nothing above its bound 0.
    lower, _ = no_arbitrage_bounds("put", 100, 50, 7 / 365)
    with pytest.raises(BadRange, match="no time value"):
        implied_vol(lower + MIN_TIME_VALUE * 50 / 2, "put", 100, 50, 7 / 365)


# --- helpers and input checks ----------------------------------------------------------------
def test_year_fraction_counts_calendar_days_over_365():
    assert year_fraction("2018-06-29", "2018-07-20") == 21 / 365
    assert year_fraction(dt.date(2018, 1, 1), dt.date(2019, 1, 1)) == 1.0
    with pytest.raises(BadDate, match="must be after"):
        year_fraction("2018-07-20", "2018-07-20")
    with pytest.raises(BadDate, match="YYYY-MM-DD"):
        year_fraction("2018/06/29", "2018-07-20")


def test_forward_intrinsic_and_bounds():
    assert forward_price(100, 0.5, 0.04, 0.02) == pytest.approx(100 * math.exp(0.01))
    assert intrinsic_value("call", 105, 100) == 5 and intrinsic_value("put", 105, 100) == 0
    assert intrinsic_value("put", 95, 100) == 5
    lo, hi = no_arbitrage_bounds("call", 100, 90, 1.0, 0.05, 0.02)
    assert lo == pytest.approx(100 * math.exp(-0.02) - 90 * math.exp(-0.05))
    assert hi == pytest.approx(100 * math.exp(-0.02))


@pytest.mark.parametrize("args,match", [
    (("straddle", 100, 100, 0.5, 0.2), "'call' or 'put'"),
    (("call", -1, 100, 0.5, 0.2), "spot must be a finite number > 0"),
    (("call", 100, 0, 0.5, 0.2), "strike must be a finite number > 0"),
    (("call", 100, 100, 0.0, 0.2), "time to expiry must be"),
    (("call", 100, 100, 0.5, 0.0), "volatility must be"),
    (("call", 100, 100, 0.5, math.nan), "volatility must be"),
    (("call", 100, 100, 0.5, 0.2, 5.0), "rate must be a decimal per year"),
])
def test_bad_inputs_are_refused_saying_what_is_accepted(args, match):
    with pytest.raises(BadRange, match=match):
        bsm_price(*args)


def test_kind_is_case_insensitive():
    assert bsm_price("CALL", 42, 40, 0.5, 0.2, 0.1) == bsm_price("call", 42, 40, 0.5, 0.2, 0.1)
