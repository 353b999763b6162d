"""European options under Black-Scholes-Merton: price, greeks and implied volatility.

Conventions, stated once (the desk's tools are to quote them in every answer):

* **Model.** Black-Scholes-Merton for a European call or put on an underlying paying a
  continuous dividend yield ``q``, with a flat continuously compounded rate ``r``:
  forward ``F = S e^{(r - q) T}``, discount ``D = e^{-r T}``,
  ``call = D (F N(d1) - K N(d2))``, ``put = D (K N(-d2) - F N(-d1))``,
  ``d1,2 = (ln(F / K) +- sigma^2 T / 2) / (sigma sqrt(T))``. Rates, yields and
  volatilities are decimals per year (0.02 is 2%, 0.20 is 20 vol points).
* **Time to expiry** ``T = calendar days / 365`` (Actual/365 fixed; :func:`year_fraction`).
  One calendar day is ``1/365`` whatever the sessions in between.
* **Greeks** are exact derivatives of the price, in the textbook (Hull, Haug) units:

  - ``delta = dV/dS``, ``gamma = d2V/dS2``;
  - ``vega = dV/dsigma`` **per 1.00 of volatility** (per vol point: ``vega / 100``, as
    :attr:`Greeks.vega_per_point`);
  - ``theta = dV/dt`` **per year** of calendar time passing, spot and volatility unchanged
    (per calendar day: ``theta / 365``, as :attr:`Greeks.theta_per_day`);
  - ``rho = dV/dr`` and ``dividend_rho = dV/dq``, **per 1.00** of rate (per percentage
    point: divide by 100).

* **Put-call parity** ``C - P = S e^{-q T} - K e^{-r T}`` holds to rounding error (far
  below a cent); :func:`parity_gap` measures it.
* **Implied volatility** is defined only for a price strictly inside the no-arbitrage
  bounds (:func:`no_arbitrage_bounds`): a call within ``(max(S e^{-qT} - K e^{-rT}, 0),
  S e^{-qT})``, a put within ``(max(K e^{-rT} - S e^{-qT}, 0), K e^{-rT})``. A price on
  or outside them is refused with the bounds in the message, and so is a price whose time
  value (price minus the lower bound) is below ``MIN_TIME_VALUE`` of the strike: there no
  volatility is pinned down (deep in the money, or so far out that the price is ~0).

Why QuantLib (``QuantLib`` 1.44, BSD). Two well-kept libraries were measured beside the
project's pins (uv, Python 3.12), on a grid of 1,456 options (strikes 50..160 on spot 100,
1 day..2 years, vol 3%..150%, r 3%, q 1%):

* **QuantLib**: quarterly releases of a C++ library with a large test suite (its
  European-option tests check Haug's tables, which our tests use too); one wheel of about
  20 MB (80 MB installed) and no Python dependencies. ``BlackCalculator`` gives the price and
  every greek in raw units (about 7 microseconds for all of them);
  ``blackFormulaImpliedStdDev`` solves on the out-of-the-money side (more vega per unit of
  price) with a safeguarded Newton method bracketed in ``[0, 24]`` standard deviations.
  Through this module (checks included) a price takes ~6 us, price and greeks ~11 us, an
  implied vol ~6 us, and every option with a time value above 1e-6 of spot comes back to
  within 1.3e-11 in volatility. It also has what the desk may want later (American exercise,
  day counters, calendars).
* **vollib** 1.0.11 (the successor of py_vollib, MIT): small (four new pure-Python
  dependencies), Jaeckel's "Let's Be Rational" implied volatility, equally accurate
  (3e-13 on the well-posed cases), but pure Python: about 3x slower for a price and its
  greeks and 6x for an implied vol, and its greeks come pre-scaled (vega and rho per 1%,
  theta per day) with no raw form.

Both fail alike only where no solver can succeed (a deep in-the-money price equal to its
intrinsic value in double precision); this module refuses those (``MIN_TIME_VALUE``).
Accuracy being equal, QuantLib wins on speed, maintenance and headroom; its size is the
cost. It costs about 0.4 s to import, so it is imported inside the functions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from phinance_env.errors import BadDate, BadRange
from phinance_env.market.calendar import parse_date

OptionKind = Literal["call", "put"]
KINDS: tuple[str, ...] = ("call", "put")
DAYS_PER_YEAR = 365
MAX_VOL = 10.0
"""Largest volatility accepted for pricing (1,000 vol points)."""
MAX_YEARS = 30.0
MAX_RATE = 1.0
MIN_TIME_VALUE = 1e-10
"""Smallest time value, as a fraction of the strike, for which an implied vol is solved."""
IV_ACCURACY = 1e-12
"""Accuracy of the implied standard deviation ``sigma sqrt(T)`` asked of the solver."""


@dataclass(frozen=True)
class Greeks:
    """Price and sensitivities of one European option (units in the module docstring)."""

    price: float
    delta: float
    gamma: float
    vega: float
    """dV/dsigma per 1.00 of volatility."""
    theta: float
    """dV/dt per year of calendar time passing."""
    rho: float
    """dV/dr per 1.00 of rate."""
    dividend_rho: float
    """dV/dq per 1.00 of dividend yield."""

    @property
    def vega_per_point(self) -> float:
        """Change in price for one vol point (0.01 of volatility)."""
        return self.vega / 100.0

    @property
    def theta_per_day(self) -> float:
        """Change in price for one calendar day passing (theta / 365)."""
        return self.theta / DAYS_PER_YEAR


# --- inputs ----------------------------------------------------------------------------------
def check_kind(kind: str) -> str:
    """``"call"`` or ``"put"`` (any case); anything else is ``BadRange``."""
    text = str(kind).strip().lower()
    if text not in KINDS:
        raise BadRange(f"option kind must be 'call' or 'put', got {kind!r}")
    return text


def _positive(value: float, name: str, upper: float | None = None, hint: str = "") -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and x > 0.0 and (upper is None or x <= upper)):
        limit = f" and at most {upper:g}" if upper is not None else ""
        raise BadRange(f"{name} must be a finite number > 0{limit}{hint}, got {value!r}")
    return x


def _rate(value: float, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and abs(x) <= MAX_RATE):
        raise BadRange(f"{name} must be a decimal per year between -{MAX_RATE:g} and {MAX_RATE:g} "
                       f"(0.02 is 2%), got {value!r}")
    return x


def _inputs(kind: str, spot: float, strike: float, t: float, rate: float,
            dividend_yield: float) -> tuple[str, float, float, float, float, float]:
    return (check_kind(kind), _positive(spot, "spot"), _positive(strike, "strike"),
            _positive(t, "time to expiry", MAX_YEARS, " years (calendar days / 365)"),
            _rate(rate, "rate"), _rate(dividend_yield, "dividend_yield"))


def check_vol(vol: float) -> float:
    return _positive(vol, "volatility", MAX_VOL, " (a decimal per year: 0.20 is 20 vol points)")


def year_fraction(start: str | dt.date, end: str | dt.date) -> float:
    """Time from ``start`` to ``end`` in years: calendar days / 365 (must be > 0)."""
    a, b = parse_date(start, "start"), parse_date(end, "expiry")
    days = (b - a).days
    if days <= 0:
        raise BadDate(f"expiry {b.isoformat()} must be after {a.isoformat()}: an option needs at "
                      "least one calendar day to expiry")
    return days / DAYS_PER_YEAR


# --- prices and greeks -----------------------------------------------------------------------
def forward_price(spot: float, t: float, rate: float, dividend_yield: float) -> float:
    """``S e^{(r - q) T}``."""
    return spot * math.exp((rate - dividend_yield) * t)


def _calculator(kind: str, spot: float, strike: float, t: float, rate: float, q: float, vol: float):
    import QuantLib as ql

    option_type = ql.Option.Call if kind == "call" else ql.Option.Put
    return ql.BlackCalculator(ql.PlainVanillaPayoff(option_type, strike), forward_price(spot, t, rate, q),
                              vol * math.sqrt(t), math.exp(-rate * t))


def bsm_price(kind: OptionKind, spot: float, strike: float, t: float, vol: float, rate: float = 0.0,
              dividend_yield: float = 0.0) -> float:
    """Black-Scholes-Merton price of a European call or put (see the module for units)."""
    kind, spot, strike, t, rate, q = _inputs(kind, spot, strike, t, rate, dividend_yield)
    return float(_calculator(kind, spot, strike, t, rate, q, check_vol(vol)).value())


def bsm_greeks(kind: OptionKind, spot: float, strike: float, t: float, vol: float, rate: float = 0.0,
               dividend_yield: float = 0.0) -> Greeks:
    """Price and greeks: vega per 1.00 of vol, theta per year, rho per 1.00 of rate."""
    kind, spot, strike, t, rate, q = _inputs(kind, spot, strike, t, rate, dividend_yield)
    calc = _calculator(kind, spot, strike, t, rate, q, check_vol(vol))
    return Greeks(price=float(calc.value()), delta=float(calc.delta(spot)), gamma=float(calc.gamma(spot)),
                  vega=float(calc.vega(t)), theta=float(calc.theta(spot, t)), rho=float(calc.rho(t)),
                  dividend_rho=float(calc.dividendRho(t)))


def intrinsic_value(kind: OptionKind, spot: float, strike: float) -> float:
    """Payoff at expiry: ``max(S - K, 0)`` for a call, ``max(K - S, 0)`` for a put."""
    kind = check_kind(kind)
    return max(spot - strike, 0.0) if kind == "call" else max(strike - spot, 0.0)


def parity_gap(call: float, put: float, spot: float, strike: float, t: float, rate: float = 0.0,
               dividend_yield: float = 0.0) -> float:
    """``(C - P) - (S e^{-qT} - K e^{-rT})``: zero when put-call parity holds."""
    return (call - put) - (spot * math.exp(-dividend_yield * t) - strike * math.exp(-rate * t))


def no_arbitrage_bounds(kind: OptionKind, spot: float, strike: float, t: float, rate: float = 0.0,
                        dividend_yield: float = 0.0) -> tuple[float, float]:
    """(lower, upper) price bounds of a European option: the limits as vol -> 0 and -> inf."""
    kind, spot, strike, t, rate, q = _inputs(kind, spot, strike, t, rate, dividend_yield)
    pv_spot, pv_strike = spot * math.exp(-q * t), strike * math.exp(-rate * t)
    if kind == "call":
        return max(pv_spot - pv_strike, 0.0), pv_spot
    return max(pv_strike - pv_spot, 0.0), pv_strike


# --- implied volatility ----------------------------------------------------------------------
def implied_vol(price: float, kind: OptionKind, spot: float, strike: float, t: float, rate: float = 0.0,
                dividend_yield: float = 0.0) -> float:
    """The volatility at which :func:`bsm_price` equals ``price``.

    A price outside the open no-arbitrage bounds, or with a time value below
    ``MIN_TIME_VALUE`` of the strike, is ``BadRange`` (the message gives the bounds).
    """
    import QuantLib as ql

    kind, spot, strike, t, rate, q = _inputs(kind, spot, strike, t, rate, dividend_yield)
    try:
        value = float(price)
    except (TypeError, ValueError):
        value = math.nan
    lower, upper = no_arbitrage_bounds(kind, spot, strike, t, rate, q)
    where = (f"a {kind} with spot {spot:g}, strike {strike:g}, T {t:.6g} years, r {rate:g}, q {q:g}")
    if not (math.isfinite(value) and lower < value < upper):
        raise BadRange(
            f"price {price!r} is outside the no-arbitrage bounds of {where}: it must lie strictly "
            f"between {lower:.6f} (zero volatility) and {upper:.6f} (infinite volatility); "
            "no volatility reproduces it")
    if value - lower < MIN_TIME_VALUE * strike:
        raise BadRange(
            f"price {value:.6f} of {where} is its no-arbitrage lower bound {lower:.6f} to within "
            f"{MIN_TIME_VALUE:g} of the strike: it carries no time value, so no volatility is "
            "determined by it")
    option_type = ql.Option.Call if kind == "call" else ql.Option.Put
    forward, discount = forward_price(spot, t, rate, q), math.exp(-rate * t)
    try:
        std_dev = ql.blackFormulaImpliedStdDev(option_type, strike, forward, value, discount, 0.0,
                                               ql.nullDouble(), IV_ACCURACY, 200)
    except RuntimeError as exc:  # the solver's bracket is 0..24 standard deviations
        raise BadRange(f"no volatility reproduces price {value:.6f} of {where} "
                       f"(the solver reports: {exc})") from None
    return std_dev / math.sqrt(t)


__all__ = [
    "DAYS_PER_YEAR", "KINDS", "MIN_TIME_VALUE", "Greeks", "OptionKind", "bsm_greeks", "bsm_price", "check_kind",
    "check_vol", "forward_price", "implied_vol", "intrinsic_value", "no_arbitrage_bounds", "parity_gap",
    "year_fraction",
]
