"""The blotter as a ledger: a book's holdings at any session, and whether a new order keeps
the whole timeline feasible.

Conventions:

* Every trade fills at its session's close: a buy moves ``shares x close`` (rounded to the
  cent) from cash into the position, a sell the other way. All trades of one session
  happen together at that close, so "sell A, buy B" on one day works in either order.
* The holdings *as of* session D are the starting cash and every filled trade dated on or
  before D. An order may be back-dated (to any session from the book's inception): it is
  filled only if cash and every position stay >= 0 after every session's trades from its
  session on; later trades must still be payable.
* Limits are pre-trade checks at the order's session: an order that would take a limited
  metric above its threshold (and make it worse than before the order) is rejected.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from phinance_env.desks.portfolio_risk_01.book import Book

CENT = 0.005  # cash may read -0.004 after rounding every fill to the cent


@dataclass(frozen=True)
class Fill:
    """One filled trade as the ledger needs it."""

    session: str
    ticker: str
    shares: int
    """Signed: > 0 bought, < 0 sold."""
    amount: float
    """Signed cash moved out of the book: > 0 for a buy."""


def fill_amount(shares: int, price: float) -> float:
    return round(shares * price, 2)


def book_as_of(starting_cash: float, fills: Iterable[Fill], session: str | dt.date) -> Book:
    """The holdings after every fill dated on or before ``session``."""
    day = str(session)
    shares: dict[str, int] = defaultdict(int)
    cash = starting_cash
    for f in fills:
        if f.session <= day:
            shares[f.ticker] += f.shares
            cash -= f.amount
    return Book({t: s for t, s in shares.items() if s}, round(cash, 2), starting_cash)


def infeasible(starting_cash: float, fills: Iterable[Fill], new: Fill) -> str | None:
    """Why adding ``new`` would leave cash or a position below zero after some session's
    trades (from ``new``'s session on), or None when the timeline stays feasible."""
    by_session: dict[str, list[Fill]] = defaultdict(list)
    for f in [*fills, new]:
        by_session[f.session].append(f)
    shares: dict[str, int] = defaultdict(int)
    cash = starting_cash
    for session in sorted(by_session):
        for f in by_session[session]:
            shares[f.ticker] += f.shares
            cash -= f.amount
        if session < new.session:
            continue
        if shares[new.ticker] < 0:
            held = shares[new.ticker] - new.shares
            when = "" if session == new.session else f" after the trades of {session}"
            return (f"not enough shares: the book would hold {held:,} {new.ticker}{when} and the order "
                    f"sells {-new.shares:,}")
        if cash < -CENT:
            if session == new.session:
                return (f"not enough cash: the buy costs {new.amount:,.2f} USD and the book has "
                        f"{cash + new.amount:,.2f} USD of cash after {session}'s other trades")
            return (f"not enough cash: the buy costs {new.amount:,.2f} USD, which would leave the book "
                    f"{cash:,.2f} USD of cash after the trades of {session} (a later buy needs it)")
    return None


def positions_after(fills: Iterable[Fill]) -> dict[str, int]:
    """Shares held after every fill (what the positions table holds)."""
    shares: dict[str, int] = defaultdict(int)
    for f in fills:
        shares[f.ticker] += f.shares
    return {t: s for t, s in sorted(shares.items()) if s}


def cash_after(starting_cash: float, fills: Iterable[Fill]) -> float:
    return round(starting_cash - math.fsum(f.amount for f in fills), 2)


__all__ = ["CENT", "Fill", "book_as_of", "cash_after", "fill_amount", "infeasible", "positions_after"]
