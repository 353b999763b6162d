"""Performance of a book between two sessions: time-weighted return and P&L by position.

Conventions:

* ``book`` is the holdings at the close of ``start``, after that session's trades. Trades
  and external flows of sessions in (start, end] are applied at their session's close:
  a trade of ``shares`` (> 0 buys, < 0 sells) at ``price`` moves ``shares * price`` between
  cash and the position (the desk fills at that close, so a trade alone never changes the
  book's value); a flow (> 0 deposit, < 0 withdrawal) changes cash and is not a return.
* Value ``V_t`` = shares after t's trades x close_t + cash after t's trades and flows.
* **Time-weighted return**: daily returns ``r_t = (V_t - F_t) / V_{t-1} - 1`` (``F_t`` the
  net external flow of session t), chained: ``TWR = prod (1 + r_t) - 1``. Sub-periods
  between flows chain to the same number, so flows never count as performance.
* **P&L by position** i: ``shares_end P_end - shares_start P_start - sum(trade shares x price)``;
  cash earns nothing, so the positions' P&L sums to ``V_end - V_start - sum(F)``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from phinance_env.desks.portfolio_risk_01.book import Book, require_columns, session_index
from phinance_env.errors import BadDate, BadRange, NotEnoughData
from phinance_env.market.calendar import parse_date
from phinance_env.market.store import normalize_symbol

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Trade:
    """A fill: ``shares`` > 0 buys, < 0 sells, at ``price`` USD per share, at ``session``'s close."""

    session: dt.date
    ticker: str
    shares: float
    price: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "session", parse_date(self.session, "trade date"))
        object.__setattr__(self, "ticker", normalize_symbol(self.ticker))
        for name in ("shares", "price"):
            if not math.isfinite(float(getattr(self, name))):
                raise BadRange(f"trade {name} must be a finite number, got {getattr(self, name)!r}")
        if float(self.price) <= 0:
            raise BadRange(f"trade price must be > 0 USD, got {self.price!r}")


@dataclass(frozen=True)
class Flow:
    """External cash: ``amount`` > 0 a deposit, < 0 a withdrawal, at ``session``'s close."""

    session: dt.date
    amount: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "session", parse_date(self.session, "flow date"))
        if not math.isfinite(float(self.amount)):
            raise BadRange(f"flow amount must be a finite number of USD, got {self.amount!r}")


def apply_trades(book: Book, trades: Sequence[Trade] = (), flows: Sequence[Flow] = ()) -> Book:
    """The book after ``trades`` and ``flows`` (in any order: they only add up)."""
    shares = dict(book.positions)
    cash, capital = book.cash, book.capital
    for t in trades:
        shares[t.ticker] = shares.get(t.ticker, 0.0) + float(t.shares)
        if shares[t.ticker] < -1e-9:
            raise BadRange(f"trade of {t.shares:g} {t.ticker} on {t.session} sells more than the book "
                           f"holds ({shares[t.ticker] - float(t.shares):g} shares); the book is long-only")
        shares[t.ticker] = max(shares[t.ticker], 0.0)
        cash -= float(t.shares) * float(t.price)
    for f in flows:
        cash += float(f.amount)
        capital += float(f.amount)
    return Book(shares, cash, capital)


@dataclass(frozen=True)
class Performance:
    start: dt.date
    end: dt.date
    notes: list[str]
    start_value: float
    end_value: float
    net_flows: float
    pnl: float
    """``end_value - start_value - net_flows``."""
    twr: float
    pnl_by_position: dict[str, float]
    sessions: list[dt.date]
    """Sessions start..end; ``values`` and ``daily_returns[1:]`` line up with them."""
    values: np.ndarray
    daily_returns: np.ndarray
    """``r_t`` for each session after start (one fewer than ``sessions``)."""


def performance(
    book: Book, closes: "pd.DataFrame", start: str | dt.date, end: str | dt.date,
    trades: Sequence[Trade] = (), flows: Sequence[Flow] = (),
) -> Performance:
    """Time-weighted return and P&L by position of ``book`` from ``start`` to ``end``."""
    i0, note0 = session_index(closes, start, "start")
    i1, note1 = session_index(closes, end, "end")
    if i1 <= i0:
        raise BadRange(f"end ({closes.index[i1].date()}) must be a session after start "
                       f"({closes.index[i0].date()})")
    days = [ts.date() for ts in closes.index[i0: i1 + 1]]
    pos = {d: k for k, d in enumerate(days)}
    for item in [*trades, *flows]:
        if item.session not in pos or item.session == days[0]:
            kind = "trade" if isinstance(item, Trade) else "flow"
            if days[0] < item.session <= days[-1]:
                raise BadDate(f"{kind} date {item.session} is not a trading session")
            raise BadRange(f"{kind} on {item.session} is outside the period ({days[0]}, {days[-1]}]: "
                           "pass the book as held at the start's close and only later trades")
    tickers = sorted({*book.tickers, *(t.ticker for t in trades)})
    require_columns(closes, tickers)
    prices = closes[tickers].iloc[i0: i1 + 1].to_numpy(dtype=float) if tickers else np.empty((len(days), 0))
    if not np.all(np.isfinite(prices) & (prices > 0)):
        raise NotEnoughData("a close is missing or not positive in the period; cannot value the book")

    values = np.empty(len(days))
    flow_by_day = np.zeros(len(days))
    held = book
    start_shares = np.array([book.positions.get(t, 0.0) for t in tickers])
    for k, day in enumerate(days):
        if k:
            day_trades = [t for t in trades if t.session == day]
            day_flows = [f for f in flows if f.session == day]
            held = apply_trades(held, day_trades, day_flows)
            flow_by_day[k] = math.fsum(f.amount for f in day_flows)
        shares = np.array([held.positions.get(t, 0.0) for t in tickers])
        values[k] = float(shares @ prices[k]) + held.cash
    if np.any(values[:-1] <= 0):
        raise NotEnoughData("the book's value is not positive on a session of the period; "
                            "a time-weighted return is undefined")
    daily = (values[1:] - flow_by_day[1:]) / values[:-1] - 1.0
    end_shares = np.array([held.positions.get(t, 0.0) for t in tickers])
    traded = {t: math.fsum(float(x.shares) * float(x.price) for x in trades if x.ticker == t) for t in tickers}
    pnl_pos = {
        t: float(end_shares[j] * prices[-1, j] - start_shares[j] * prices[0, j] - traded[t])
        for j, t in enumerate(tickers)
    }
    net = float(flow_by_day.sum())
    return Performance(
        start=days[0], end=days[-1], notes=[n for n in (note0, note1) if n],
        start_value=float(values[0]), end_value=float(values[-1]), net_flows=net,
        pnl=float(values[-1] - values[0] - net), twr=float(np.prod(1.0 + daily) - 1.0),
        pnl_by_position=pnl_pos, sessions=days, values=values, daily_returns=daily,
    )


__all__ = ["Flow", "Performance", "Trade", "apply_trades", "performance"]
