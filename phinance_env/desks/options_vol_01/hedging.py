"""What an option's life looked like on real closes: the realised move to expiry, and the P&L
of an option sold (or bought) at the synthetic surface's price and delta-hedged on the closes.

Conventions, stated once:

* **Sessions.** ``start`` resolves to its session (a non-session date to the previous one,
  with a note); ``expiry`` must itself be an XNYS session with a close in the store (a chain's
  expiries are). Both use closes only: trades happen at the close, and the option settles
  in cash at the expiry session's close (real index options settle on the expiry morning's
  opening prints; a stated simplification).
* **Realised volatility** over ``[start, expiry]``: the root mean square of the daily log
  returns (zero mean, the variance-swap convention) times ``sqrt(252)``. This is the
  quantity the hedged P&L compares with the implied vol: a short option hedged every session
  makes roughly ``sum_i 1/2 Gamma_i S_i^2 (sigma_implied^2 dt_i - ret_i^2)``, with ``ret_i``
  the session's return and ``dt_i`` its calendar days / 365.
* **The trade.** One option on one unit of the underlying (no contract multiplier), traded
  at the surface's mid at ``start``: ``position = "short"`` receives the premium,
  ``"long"`` pays it. No commissions, no bid/ask, no margin.
* **The hedge** is marked and re-struck at the **inception implied vol** (hedging at
  implied): at every rebalance session ``i = 0, n, 2n, ...`` before expiry the hedge is set
  to ``-s * delta_i`` units (``s = -1`` short, ``+1`` long; ``delta_i`` the BSM delta at
  ``S_i``, ``T_i`` = calendar days to expiry / 365, the inception vol, the surface's ``r``
  and ``q``) and held until the next rebalance; it is closed at the expiry close.
* **P&L components**, cumulative at each session close ``i`` (all in price units):

  - ``option_pnl = s (V_i - V_0)`` with ``V_i`` the BSM value at the inception vol, and at
    expiry the intrinsic value ``max(S - K, 0)`` / ``max(K - S, 0)``;
  - ``hedge_pnl = sum_{j<i} h_j (S_{j+1} - S_j)``, the price gains of the hedge;
  - ``financing_pnl``: interest at ``r`` on the cash account (premium, less the cost of the
    hedge's trades), ``B_j (e^{r d_j / 365} - 1)``, plus dividends at ``q`` on the shares
    held, ``h_j S_j (e^{q d_j / 365} - 1)``, with ``d_j`` the calendar days to the next
    session;
  - ``total_pnl`` = the sum of the three = the change in the position's value (cash +
    hedge + option), which starts at 0.

The premium and the hedge ratios come from the synthetic surface (``source = "synthetic"``);
the closes are the store's.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from phinance_env.desks.options_vol_01.pricing import (
    DAYS_PER_YEAR, OptionKind, bsm_greeks, check_kind, intrinsic_value,
)
from phinance_env.desks.options_vol_01.surface import (
    DEFAULT_PARAMS, SOURCE, TRADING_DAYS, SurfaceParams, vol_surface,
)
from phinance_env.errors import BadDate, BadRange, NotEnoughData
from phinance_env.market.calendar import parse_date

if TYPE_CHECKING:
    import pandas as pd

    from phinance_env.market.store import BarStore, Series

Position = Literal["short", "long"]
POSITIONS: tuple[str, ...] = ("short", "long")


@dataclass(frozen=True)
class RealisedMove:
    """How the underlying moved from the start session's close to the expiry session's close."""

    ticker: str
    start: dt.date
    end: dt.date
    note: str | None
    start_close: float
    end_close: float
    n_returns: int
    move: float
    """Simple return ``end / start - 1``."""
    log_move: float
    realised_vol: float
    """RMS of daily log returns x sqrt(252) (zero mean)."""


def _span(series: "Series", start: str | dt.date, expiry: str | dt.date, strict_expiry: bool,
          ) -> tuple[int, int, str | None]:
    i0, note = series.index_of(parse_date(start, "start"), "start")
    end = parse_date(expiry, "expiry")
    if end < series.sessions[0].astype(object):
        raise BadDate(f"expiry {end.isoformat()} is before the first close of {series.symbol} ({series.sessions[0]})")
    last = series.sessions[-1].astype(object)
    if end > last:
        raise BadDate(f"expiry {end.isoformat()} is after the last close of {series.symbol} ({last}): "
                      "the realised path needs real closes up to expiry; choose an expiry on or before it")
    i1, end_note = series.index_of(end, "expiry")
    if end_note is not None and strict_expiry:
        raise BadDate(f"expiry {end.isoformat()} is not a trading session; options expire on a session, "
                      f"e.g. {series.sessions[i1]}")
    if i1 <= i0:
        raise BadDate(f"expiry {series.sessions[i1]} must be a session after the start session "
                      f"{series.sessions[i0]}")
    notes = [text for text in (note, end_note) if text]
    return i0, i1, "; ".join(notes) or None


def realised_move(store: "BarStore", ticker: str, as_of: str | dt.date, expiry: str | dt.date) -> RealisedMove:
    """The move from ``as_of``'s session to ``expiry``'s (each, if not a session, the one before)."""
    series = store.series(ticker)
    i0, i1, note = _span(series, as_of, expiry, strict_expiry=False)
    closes = series.close[i0: i1 + 1]
    logs = np.diff(np.log(closes))
    return RealisedMove(
        ticker=series.symbol, start=series.sessions[i0].astype(object), end=series.sessions[i1].astype(object),
        note=note, start_close=float(closes[0]), end_close=float(closes[-1]), n_returns=int(logs.size),
        move=float(closes[-1] / closes[0] - 1.0), log_move=float(logs.sum()),
        realised_vol=float(math.sqrt(np.mean(logs ** 2) * TRADING_DAYS)),
    )


@dataclass(frozen=True)
class HedgeBacktest:
    """One option traded at the surface and delta-hedged on real closes (see the module)."""

    ticker: str
    kind: str
    strike: float
    position: str
    start: dt.date
    expiry: dt.date
    note: str | None
    rebalance_every: int
    implied_vol: float
    premium: float
    rate: float
    dividend_yield: float
    realised_vol: float
    n_rebalances: int
    option_pnl: float
    hedge_pnl: float
    financing_pnl: float
    total_pnl: float
    path: "pd.DataFrame" = field(repr=False, compare=False)
    """One row per session: close, days_to_expiry, option_value, delta, hedge_units (held
    after that close), option_pnl, hedge_pnl, financing_pnl, total_pnl (cumulative)."""
    source: str = SOURCE

    def summary(self) -> str:
        return (f"{self.position} 1 {self.ticker} {self.strike:g} {self.kind} {self.start}..{self.expiry} "
                f"(synthetic premium {self.premium:.2f} at {self.implied_vol:.1%} implied, realised "
                f"{self.realised_vol:.1%}), delta-hedged every {self.rebalance_every} session(s): option "
                f"{self.option_pnl:+.2f}, hedge {self.hedge_pnl:+.2f}, financing {self.financing_pnl:+.2f}, "
                f"total {self.total_pnl:+.2f}")


def delta_hedge_backtest(
    store: "BarStore", ticker: str, start: str | dt.date, expiry: str | dt.date, strike: float,
    kind: OptionKind, rebalance_every_n_sessions: int = 1, position: Position = "short",
    params: SurfaceParams = DEFAULT_PARAMS,
) -> HedgeBacktest:
    """Trade one option at the surface's mid at ``start`` and delta-hedge it to ``expiry``."""
    import pandas as pd

    kind = check_kind(kind)
    if position not in POSITIONS:
        raise BadRange(f"position must be 'short' or 'long', got {position!r}")
    n = rebalance_every_n_sessions
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise BadRange(f"rebalance_every_n_sessions must be a whole number >= 1, got {n!r}")
    try:
        k = float(strike)
    except (TypeError, ValueError):
        k = math.nan
    if not (math.isfinite(k) and k > 0):
        raise BadRange(f"strike must be a finite number > 0, got {strike!r}")

    surface = vol_surface(store, ticker, start, params)
    series = store.series(surface.ticker)
    i0, i1, _ = _span(series, surface.session, expiry, strict_expiry=True)
    expiry_day = series.sessions[i1].astype(object)
    sessions = series.sessions[i0: i1 + 1]
    closes = series.close[i0: i1 + 1].astype(float)
    days = (np.datetime64(expiry_day, "D") - sessions).astype(int)
    if not np.all(np.isfinite(closes) & (closes > 0)):
        raise NotEnoughData(f"a close of {surface.ticker} between {sessions[0]} and {expiry_day} is missing")
    r, q = surface.rate, surface.dividend_yield
    vol = surface.vol(k, days[0] / DAYS_PER_YEAR)
    s = -1.0 if position == "short" else 1.0
    m = len(sessions) - 1

    value = np.empty(m + 1)
    delta = np.empty(m + 1)
    hedge = np.zeros(m + 1)
    for i in range(m):
        g = bsm_greeks(kind, closes[i], k, days[i] / DAYS_PER_YEAR, vol, r, q)
        value[i], delta[i] = g.price, g.delta
        hedge[i] = -s * g.delta if i % n == 0 else hedge[i - 1]
    value[m] = intrinsic_value(kind, closes[m], k)
    delta[m] = math.nan
    hedge[m] = 0.0

    hedge_pnl = np.zeros(m + 1)
    financing = np.zeros(m + 1)
    cash = -s * value[0] - hedge[0] * closes[0]
    for j in range(m):
        gap = int(days[j] - days[j + 1])
        earned = cash * math.expm1(r * gap / DAYS_PER_YEAR) + hedge[j] * closes[j] * math.expm1(q * gap / DAYS_PER_YEAR)
        financing[j + 1] = financing[j] + earned
        hedge_pnl[j + 1] = hedge_pnl[j] + hedge[j] * (closes[j + 1] - closes[j])
        cash += earned - (hedge[j + 1] - hedge[j]) * closes[j + 1]
    option_pnl = s * (value - value[0])
    total = option_pnl + hedge_pnl + financing
    path = pd.DataFrame(
        {"close": closes, "days_to_expiry": days, "option_value": value, "delta": delta, "hedge_units": hedge,
         "option_pnl": option_pnl, "hedge_pnl": hedge_pnl, "financing_pnl": financing, "total_pnl": total},
        index=pd.DatetimeIndex(sessions, name="session"))
    logs = np.diff(np.log(closes))
    return HedgeBacktest(
        ticker=surface.ticker, kind=kind, strike=k, position=position, start=surface.session, expiry=expiry_day,
        note=surface.note, rebalance_every=int(n), implied_vol=vol, premium=float(value[0]), rate=r,
        dividend_yield=q, realised_vol=float(math.sqrt(np.mean(logs ** 2) * TRADING_DAYS)),
        n_rebalances=len(range(0, m, n)), option_pnl=float(option_pnl[-1]), hedge_pnl=float(hedge_pnl[-1]),
        financing_pnl=float(financing[-1]), total_pnl=float(total[-1]), path=path,
    )


__all__ = ["POSITIONS", "HedgeBacktest", "Position", "RealisedMove", "delta_hedge_backtest", "realised_move"]
