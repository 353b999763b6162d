"""A synthetic implied-volatility surface and option chains for a ticker at an as-of session.

No option quotes ship with the data, so every surface, chain and quote here is **synthetic**
(``source = "synthetic"``): a smooth, arbitrage-free model anchored to the bar store, the
same inputs always giving the same numbers (no wall clock, no unseeded randomness).

Conventions, stated once:

* **Session and spot.** ``as_of`` resolves to its XNYS session (a non-session date to the
  previous session, with a note); spot ``S`` is that session's close. At least
  ``long_window + 1`` closes (253 by default) must end there.
* **Rate and dividends.** A flat continuously compounded rate ``r`` (``SurfaceParams.rate``,
  2% by default) for every expiry; a continuous dividend yield ``q`` of 2% for indices
  (symbols starting with ``^``) and 0 for the synthetic stocks, which pay none. Forward
  ``F(T) = S e^{(r - q) T}``; ``T = calendar days / 365``; ATM means at the forward.
* **Anchor: ATM vol at 30 calendar days.** For ^GSPC on a session where ^VIX has a close
  (2014-01-03..2018-12-31 here), ``A = VIX close / 100`` (the VIX is a 30-day variance
  swap level, so this puts the ATM a little high; a stated simplification). Otherwise
  ``A = (rv21 + rv63) / 2 + premium``, with ``rvN`` the sample sd (ddof=1) of the last N
  daily log returns times ``sqrt(252)`` and a premium of 2 vol points.
* **Term structure** of ATM variance, mean-reverting (the expected average variance of a
  Heston-type process): ``w(T) = v_inf + (v0 - v_inf) (1 - e^{-k T}) / (k T)`` with
  ``v_inf = L^2``, ``L = rv252 + premium`` the long-run vol, ``k = 2`` per year (half-life
  about 4 months), and ``v0`` chosen so that ``sqrt(w(30/365)) = A`` (floored at 0, which
  only binds when ``A`` is below ~28% of ``L``). ``T w(T)`` grows with ``T``: no calendar
  arbitrage at the money.
* **Skew**, linear in standardised log-moneyness ``z = ln(K / F) / sqrt(T)`` and steeper on
  the put side: ``sigma = atm(T) + b z`` with ``b = put_skew`` for ``z < 0`` and
  ``call_skew`` for ``z >= 0`` (indices -0.20 / -0.05, stocks -0.12 / +0.02), floored at
  ``wing_floor`` (0.5) times the ATM vol. The slope rises through the money (a convex kink)
  and total variance grows with ``T`` at fixed ``K / F``, so neither butterflies nor
  calendars have arbitrage; in strike terms the skew flattens like ``1 / sqrt(T)``.
* **Expiries**: the third Friday of each month, moved to the previous session when the
  exchange is closed (Good Friday), the next ``n`` strictly after the session.
* **Strikes**: multiples of a "nice" increment (1, 2, 2.5 or 5 x 10^k, the nearest in log
  to the given fraction of spot), in bands: 1% of spot within +-5%, 2.5% beyond that to
  +-15%, 5% beyond that to +-30%; the same strikes for every expiry.
* **Quotes**: ``mid`` is the Black-Scholes-Merton price at the surface vol (unrounded, so
  put-call parity holds to rounding error); ``bid``/``ask`` are prices at the vol minus /
  plus a half-spread of 0.5 vol points (indices) or 1 (stocks), times ``1 + |z|`` and a
  seeded jitter in [0.75, 1.25] shared by the call and the put of one strike, rounded out
  to the cent. The jitter's seed is a digest of (``seed``, ticker, session), never
  ``hash()``. Greeks are those of :mod:`pricing` (vega per 1.00, theta per year).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np

from phinance_env.desks.options_vol_01.pricing import (
    DAYS_PER_YEAR, Greeks, OptionKind, bsm_greeks, bsm_price, check_kind, forward_price, year_fraction,
)
from phinance_env.errors import BadDate, BadRange, NotEnoughData
from phinance_env.market.calendar import parse_date, xnys_days

if TYPE_CHECKING:
    import pandas as pd

    from phinance_env.market.store import BarStore

SOURCE = "synthetic"
VIX = "^VIX"
VIX_UNDERLYING = "^GSPC"
ANCHOR_DAYS = 30
TRADING_DAYS = 252
DEFAULT_EXPIRIES = 6
MAX_EXPIRIES = 24
STRIKE_TIERS: tuple[tuple[float, float], ...] = ((0.05, 0.01), (0.15, 0.025), (0.30, 0.05))
"""(half-width, step) pairs as fractions of spot: 1% steps within +-5%, and so on."""


@dataclass(frozen=True)
class SurfaceParams:
    """Every number the synthetic surface is built from (defaults in the module docstring)."""

    rate: float = 0.02
    index_dividend_yield: float = 0.02
    stock_dividend_yield: float = 0.0
    vol_premium: float = 0.02
    short_window: int = 21
    medium_window: int = 63
    long_window: int = 252
    mean_reversion: float = 2.0
    index_put_skew: float = -0.20
    index_call_skew: float = -0.05
    stock_put_skew: float = -0.12
    stock_call_skew: float = 0.02
    wing_floor: float = 0.5
    index_half_spread: float = 0.005
    stock_half_spread: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadRange(f"surface parameter {f.name} must be a finite number, got {value!r}")
        for name in ("short_window", "medium_window", "long_window", "seed"):
            if not isinstance(getattr(self, name), int):
                raise BadRange(f"surface parameter {name} must be a whole number, got {getattr(self, name)!r}")
        if not (2 <= self.short_window <= self.medium_window <= self.long_window):
            raise BadRange("surface windows must satisfy 2 <= short_window <= medium_window <= long_window "
                           f"(sessions), got {self.short_window}, {self.medium_window}, {self.long_window}")
        if self.mean_reversion <= 0 or not (0 < self.wing_floor <= 1):
            raise BadRange("mean_reversion must be > 0 (per year) and wing_floor in (0, 1]")
        if self.index_put_skew > self.index_call_skew or self.stock_put_skew > self.stock_call_skew:
            raise BadRange("put_skew must be <= call_skew (for indices and for stocks): the smile's "
                           "slope must rise through the money, or butterflies would have arbitrage")
        if min(self.index_half_spread, self.stock_half_spread) < 0:
            raise BadRange("half-spreads must be >= 0 (decimals of vol: 0.005 is half a vol point)")


DEFAULT_PARAMS = SurfaceParams()


@dataclass(frozen=True)
class VolSurface:
    """The implied vol of every strike and expiry of one ticker at one session (synthetic)."""

    ticker: str
    session: dt.date
    note: str | None
    spot: float
    rate: float
    dividend_yield: float
    is_index: bool
    anchor_vol: float
    """ATM vol at 30 calendar days."""
    anchor_source: str
    """``"^VIX close"`` or ``"realised 21/63 + premium"`` (the windows in sessions)."""
    realised_short: float
    realised_medium: float
    long_run_vol: float
    initial_variance: float
    mean_reversion: float
    put_skew: float
    call_skew: float
    wing_floor: float
    half_spread: float
    seed: int
    source: str = SOURCE

    def time_to(self, expiry: str | dt.date) -> float:
        """Years from the session to ``expiry``: calendar days / 365."""
        return year_fraction(self.session, expiry)

    def forward(self, t: float) -> float:
        return forward_price(self.spot, t, self.rate, self.dividend_yield)

    def atm_vol(self, t: float) -> float:
        """ATM (at-the-forward) vol for ``t`` years: the root of the mean-reverting variance."""
        v_inf = self.long_run_vol ** 2
        return math.sqrt(v_inf + (self.initial_variance - v_inf) * _decay(self.mean_reversion, t))

    def moneyness(self, strike: float, t: float) -> float:
        """Standardised log-moneyness ``z = ln(K / F) / sqrt(T)``."""
        return math.log(strike / self.forward(t)) / math.sqrt(t)

    def vol(self, strike: float, t: float) -> float:
        """Implied vol of ``strike`` at ``t`` years (see the module for the skew)."""
        if not (strike > 0 and t > 0):
            raise BadRange(f"strike and time to expiry must be > 0, got {strike!r} and {t!r}")
        atm = self.atm_vol(t)
        z = self.moneyness(strike, t)
        slope = self.put_skew if z < 0 else self.call_skew
        return max(atm + slope * z, self.wing_floor * atm)

    def greeks(self, kind: OptionKind, strike: float, t: float) -> Greeks:
        return bsm_greeks(kind, self.spot, strike, t, self.vol(strike, t), self.rate, self.dividend_yield)

    def price(self, kind: OptionKind, strike: float, t: float) -> float:
        return bsm_price(kind, self.spot, strike, t, self.vol(strike, t), self.rate, self.dividend_yield)


def _decay(k: float, t: float) -> float:
    """``(1 - e^{-k t}) / (k t)``: the weight of today's variance in the average to ``t``."""
    x = k * t
    return -math.expm1(-x) / x if x > 1e-12 else 1.0


# --- building the surface --------------------------------------------------------------------
def realised_vol(closes: np.ndarray, window: int) -> float:
    """Sample sd (ddof=1) of the last ``window`` daily log returns of ``closes`` x sqrt(252)."""
    c = np.asarray(closes, dtype=float)[-(window + 1):]
    if c.size < window + 1 or not np.all(np.isfinite(c) & (c > 0)):
        raise NotEnoughData(f"a {window}-session realised vol needs {window + 1} positive closes, got {c.size}")
    return float(np.diff(np.log(c)).std(ddof=1)) * math.sqrt(TRADING_DAYS)


def vol_surface(store: "BarStore", ticker: str, as_of: str | dt.date,
                params: SurfaceParams = DEFAULT_PARAMS) -> VolSurface:
    """The synthetic surface of ``ticker`` at the session of ``as_of`` (see the module)."""
    info = store.ticker(ticker)
    if info.symbol == VIX:
        raise BadRange(f"options on {VIX} are not modelled (they settle on VIX futures); choose an index "
                       "such as ^GSPC or ^IXIC, or a stock such as NOVA")
    series = store.series(info.symbol)
    row, note = series.index_of(parse_date(as_of, "as_of"), "as_of")
    p = params
    if row < p.long_window:
        first_ok = series.sessions[p.long_window] if series.sessions.size > p.long_window else None
        raise NotEnoughData(
            f"the surface needs {p.long_window + 1} closes of {info.symbol} up to the session "
            f"(a {p.long_window}-session long-run vol), but it has {row + 1} from {series.sessions[0]}; "
            + (f"use an as_of on or after {first_ok}" if first_ok is not None else "the ticker has too few bars"))
    closes = series.close[: row + 1]
    session = series.sessions[row].astype(object)
    rv_short, rv_medium = realised_vol(closes, p.short_window), realised_vol(closes, p.medium_window)
    long_run = realised_vol(closes, p.long_window) + p.vol_premium
    anchor, anchor_source = _vix_anchor(store, info.symbol, session)
    if anchor is None:
        anchor = (rv_short + rv_medium) / 2 + p.vol_premium
        anchor_source = f"realised {p.short_window}/{p.medium_window} + premium"
    v_inf = long_run ** 2
    v0 = max(v_inf + (anchor ** 2 - v_inf) / _decay(p.mean_reversion, ANCHOR_DAYS / DAYS_PER_YEAR), 0.0)
    is_index = info.symbol.startswith("^")
    return VolSurface(
        ticker=info.symbol, session=session, note=note, spot=float(closes[-1]), rate=p.rate,
        dividend_yield=p.index_dividend_yield if is_index else p.stock_dividend_yield, is_index=is_index,
        anchor_vol=anchor, anchor_source=anchor_source, realised_short=rv_short, realised_medium=rv_medium,
        long_run_vol=long_run, initial_variance=v0, mean_reversion=p.mean_reversion,
        put_skew=p.index_put_skew if is_index else p.stock_put_skew,
        call_skew=p.index_call_skew if is_index else p.stock_call_skew, wing_floor=p.wing_floor,
        half_spread=p.index_half_spread if is_index else p.stock_half_spread, seed=int(p.seed),
    )


def _vix_anchor(store: "BarStore", symbol: str, session: dt.date) -> tuple[float | None, str]:
    if symbol != VIX_UNDERLYING or VIX not in {t.symbol for t in store.tickers()}:
        return None, ""
    vix = store.series(VIX)
    i = int(np.searchsorted(vix.sessions, np.datetime64(session, "D")))
    if i < vix.sessions.size and vix.sessions[i] == np.datetime64(session, "D") and vix.close[i] > 0:
        return float(vix.close[i]) / 100.0, "^VIX close"
    return None, ""


# --- expiries and strikes --------------------------------------------------------------------
def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def monthly_expiries(after: str | dt.date, n: int = DEFAULT_EXPIRIES) -> tuple[dt.date, ...]:
    """The next ``n`` monthly expiries strictly after ``after`` (third Fridays, or the session before)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_EXPIRIES:
        raise BadRange(f"the number of expiries must be a whole number from 1 to {MAX_EXPIRIES}, got {n!r}")
    day = parse_date(after, "as_of")
    sessions = xnys_days()
    out: list[dt.date] = []
    year, month = day.year, day.month
    while len(out) < n:
        friday = third_friday(year, month)
        i = int(np.searchsorted(sessions, np.datetime64(friday, "D"), side="right")) - 1
        if i + 1 >= sessions.size:
            raise BadDate(f"expiries after {day.isoformat()} run past the session calendar "
                          f"(it ends {sessions[-1]}); use an earlier as_of or fewer expiries")
        expiry = sessions[i].astype(object)
        if expiry > day:
            out.append(expiry)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(out)


def nice_increment(x: float) -> float:
    """The number of the form 1, 2, 2.5 or 5 x 10^k nearest to ``x`` in log terms."""
    if not (math.isfinite(x) and x > 0):
        raise BadRange(f"a strike increment must come from a positive spot, got {x!r}")
    e = math.floor(math.log10(x))
    candidates = [m * 10.0 ** k for k in (e - 1, e, e + 1) for m in (1.0, 2.0, 2.5, 5.0)]
    return min(candidates, key=lambda c: (abs(math.log(c / x)), c))


def strike_grid(spot: float, tiers: tuple[tuple[float, float], ...] = STRIKE_TIERS) -> tuple[float, ...]:
    """Strikes around ``spot`` in bands: each (half-width, step) tier fills the band beyond the
    previous tier's half-width with multiples of ``nice_increment(step * spot)``."""
    if not (math.isfinite(spot) and spot > 0):
        raise BadRange(f"spot must be a finite number > 0, got {spot!r}")
    strikes: set[float] = set()
    inner = -1.0
    for half_width, step in tiers:
        inc = nice_increment(step * spot)
        lo = max(math.ceil(spot * (1 - half_width) / inc - 1e-9), 1)
        hi = math.floor(spot * (1 + half_width) / inc + 1e-9)
        for k in range(lo, hi + 1):
            strike = round(k * inc, 8)
            if abs(strike / spot - 1) > inner + 1e-12:
                strikes.add(strike)
        inner = half_width
    return tuple(sorted(strikes))


# --- chains ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OptionQuote:
    """One synthetic quote: mid at the surface vol, greeks at that vol (pricing's units)."""

    ticker: str
    expiry: dt.date
    days: int
    t: float
    strike: float
    kind: str
    iv: float
    mid: float
    bid: float
    ask: float
    delta: float
    gamma: float
    vega: float
    theta: float
    source: str = SOURCE


@dataclass(frozen=True)
class OptionChain:
    ticker: str
    session: dt.date
    note: str | None
    spot: float
    rate: float
    dividend_yield: float
    expiries: tuple[dt.date, ...]
    strikes: tuple[float, ...]
    quotes: tuple[OptionQuote, ...]
    surface: VolSurface = field(repr=False)
    source: str = SOURCE

    def quote(self, expiry: str | dt.date, strike: float, kind: OptionKind) -> OptionQuote:
        day, kind = parse_date(expiry, "expiry"), check_kind(kind)
        for q in self.quotes:
            if q.expiry == day and q.kind == kind and abs(q.strike - strike) < 1e-9:
                return q
        raise BadRange(f"no {kind} at strike {strike:g} expiring {day.isoformat()} in the chain; expiries "
                       f"{', '.join(e.isoformat() for e in self.expiries)}, strikes {self.strikes[0]:g}.."
                       f"{self.strikes[-1]:g}")

    def to_frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame([asdict(q) for q in self.quotes])


def option_chain(store: "BarStore", ticker: str, as_of: str | dt.date, n_expiries: int = DEFAULT_EXPIRIES,
                 params: SurfaceParams = DEFAULT_PARAMS) -> OptionChain:
    """Calls and puts on every strike of :func:`strike_grid` for the next ``n_expiries`` expiries."""
    surface = vol_surface(store, ticker, as_of, params)
    expiries = monthly_expiries(surface.session, n_expiries)
    strikes = strike_grid(surface.spot)
    rng = np.random.default_rng(_seed(surface.seed, surface.ticker, surface.session))
    jitter = rng.uniform(0.75, 1.25, size=(len(expiries), len(strikes)))
    quotes = []
    for i, expiry in enumerate(expiries):
        days = (expiry - surface.session).days
        t = days / DAYS_PER_YEAR
        for j, strike in enumerate(strikes):
            iv = surface.vol(strike, t)
            half = min(surface.half_spread * (1 + abs(surface.moneyness(strike, t))) * jitter[i, j], iv / 2)
            for kind in ("call", "put"):
                g = bsm_greeks(kind, surface.spot, strike, t, iv, surface.rate, surface.dividend_yield)
                bid = bsm_price(kind, surface.spot, strike, t, iv - half, surface.rate, surface.dividend_yield)
                ask = bsm_price(kind, surface.spot, strike, t, iv + half, surface.rate, surface.dividend_yield)
                bid_c = max(math.floor(bid * 100 + 1e-9) / 100, 0.0)
                ask_c = max(math.ceil(ask * 100 - 1e-9) / 100, bid_c + 0.01)
                quotes.append(OptionQuote(
                    ticker=surface.ticker, expiry=expiry, days=days, t=t, strike=strike, kind=kind, iv=iv,
                    mid=g.price, bid=bid_c, ask=round(ask_c, 2), delta=g.delta, gamma=g.gamma, vega=g.vega,
                    theta=g.theta))
    return OptionChain(ticker=surface.ticker, session=surface.session, note=surface.note, spot=surface.spot,
                       rate=surface.rate, dividend_yield=surface.dividend_yield, expiries=expiries,
                       strikes=strikes, quotes=tuple(quotes), surface=surface)


def _seed(seed: int, ticker: str, session: dt.date) -> int:
    digest = hashlib.blake2b(f"{seed}|{ticker}|{session.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def implied_move(surface: VolSurface, expiry: str | dt.date) -> float:
    """The ATM-forward straddle's price over spot: the move the surface prices to ``expiry``."""
    t = surface.time_to(expiry)
    k = surface.forward(t)
    return (surface.price("call", k, t) + surface.price("put", k, t)) / surface.spot


__all__ = [
    "DEFAULT_EXPIRIES", "DEFAULT_PARAMS", "SOURCE", "STRIKE_TIERS", "OptionChain", "OptionQuote", "SurfaceParams",
    "VolSurface", "implied_move", "monthly_expiries", "nice_increment", "option_chain", "realised_vol",
    "strike_grid", "third_friday", "vol_surface",
]
