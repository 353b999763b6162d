"""The desk's figures for a book on the bar store: what the tools answer and what the task
templates take as ground truth (one computation for both; the finance core under it is
tested against independent computations).

Dates: a book's dates are XNYS sessions of the data (^GSPC's, 1999-01-04..2018-12-31); a
date that is not one resolves to the previous session with a note. Indices trade like an
index fund at the index level; ^VIX (closes only, not investable) does not trade.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phinance_env.desks.portfolio_risk_01.book import Book, load_closes, mark_to_market
from phinance_env.desks.portfolio_risk_01.risk import BENCHMARK, DEFAULT_WINDOW, risk_report
from phinance_env.errors import BadDate, BadRange, NotEnoughData, PhinanceError
from phinance_env.market.calendar import parse_date

if TYPE_CHECKING:
    from phinance_env.market.store import BarStore

CALENDAR = BENCHMARK  # the sessions every book date resolves on
STRESS_SCENARIOS: dict[str, tuple[str, str, str]] = {  # name -> (first session, last session, what)
    "dotcom_2000": ("2000-03-13", "2000-04-14", "the Nasdaq's fall from its March 2000 peak"),
    "sept11_2001": ("2001-09-17", "2001-09-21", "the week markets reopened after September 11, 2001"),
    "lehman_2008": ("2008-09-15", "2008-10-15", "Lehman Brothers' bankruptcy and the month after"),
    "recovery_2009": ("2009-03-10", "2009-06-12", "the rebound from the March 2009 low (an upside scenario)"),
    "euro_crisis_2010": ("2010-04-26", "2010-07-02", "the 2010 euro-area debt crisis and flash crash"),
    "us_downgrade_2011": ("2011-07-25", "2011-08-10", "the US debt-ceiling fight and S&P's downgrade"),
    "china_deval_2015": ("2015-08-18", "2015-08-25", "the yuan devaluation sell-off of August 2015"),
    "volmageddon_2018": ("2018-01-29", "2018-02-08", "the February 2018 volatility spike"),
    "q4_selloff_2018": ("2018-10-03", "2018-12-24", "the fourth-quarter 2018 sell-off"),
}


def session_of(store: "BarStore", day: str | dt.date, field: str) -> tuple[str, str | None]:
    """The data session for ``day`` (the previous one if it is not a session, with a note)."""
    sessions = store.series(CALENDAR).sessions
    i, note = store.series(CALENDAR).index_of(parse_date(day, field), field)
    return str(sessions[i]), note


def tradable(store: "BarStore", ticker: str) -> str:
    """The symbol of a ticker the desk can trade (close-only series such as ^VIX cannot)."""
    info = store.ticker(ticker)
    if info.close_only:
        raise PhinanceError(f"{info.symbol} is not tradable (closes only, no investable instrument); "
                            "trade an index (^GSPC, ^IXIC) or a stock")
    return info.symbol


def close_on(store: "BarStore", ticker: str, session: str) -> float:
    """``ticker``'s close on ``session`` exactly; a session it has no bar on is a BadDate."""
    import numpy as np

    series = store.series(ticker)
    i = int(np.searchsorted(series.sessions, np.datetime64(session, "D")))
    if i >= len(series.sessions) or str(series.sessions[i]) != session:
        raise BadDate(f"{series.symbol} has no close on {session}: its data runs "
                      f"{series.sessions[0]}..{series.sessions[-1]}")
    return float(series.close[i])


def closes_for(store: "BarStore", tickers: list[str], end: str) -> Any:
    """Closes of the book's tickers and the benchmark up to ``end`` (their common sessions)."""
    return load_closes(store, [*tickers, BENCHMARK], None, end)


def valuation(store: "BarStore", book: Book, session: str):
    """The book marked at ``session``'s closes (a ``book.Mark``)."""
    if not book.tickers:
        return mark_to_market(book, _benchmark_only(store, session), session)
    return mark_to_market(book, closes_for(store, list(book.tickers), session), session)


def _benchmark_only(store, session):
    return load_closes(store, [BENCHMARK], None, session)


def risk(store: "BarStore", book: Book, session: str, window: int = DEFAULT_WINDOW, confidences=(0.95, 0.99)):
    """The full risk report (``risk.RiskReport``) of ``book`` at ``session``."""
    if not book.tickers:
        raise NotEnoughData(f"the book holds no positions on {session} (cash only): risk needs at least one")
    return risk_report(book, closes_for(store, list(book.tickers), session), session, window, confidences)


# --- limits --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LimitValue:
    metric: str
    value: float | None
    detail: str


def limit_value(store: "BarStore", book: Book, session: str, metric: str) -> LimitValue:
    """The current value of a limited metric for ``book`` at ``session`` (None: cannot be
    computed, with why). A book without positions has no risk: every metric is 0."""
    if not book.tickers:
        return LimitValue(metric, 0.0, "no positions")
    if metric == "max_position_weight":
        mark = valuation(store, book, session)
        top = max(mark.weights, key=lambda t: (mark.weights[t], t))
        return LimitValue(metric, mark.weights[top], f"largest position {top} at {mark.weights[top]:.2%} of the book")
    try:
        report = risk(store, book, session)
    except NotEnoughData as exc:
        return LimitValue(metric, None, f"cannot compute: {exc}")
    if metric == "max_var_99":
        tail = report.historical[0.99]
        return LimitValue(metric, tail.var, f"1-session 99% historical VaR {tail.var:.2%} ({tail.var_usd:,.2f} USD), "
                                            f"{report.window} sessions")
    if metric == "max_drawdown":
        return LimitValue(metric, report.max_drawdown, f"maximum drawdown {report.max_drawdown:.2%} over "
                                                       f"{report.window} sessions")
    raise BadRange(f"unknown limit metric {metric!r}")


def breach_reason(store: "BarStore", before: Book, after: Book, session: str, limits: dict[str, float]) -> str | None:
    """Why an order taking ``before`` to ``after`` breaks a limit, or None. An order that
    leaves a limited metric at or below its threshold, or does not make it worse, passes."""
    for metric, threshold in sorted(limits.items()):
        post = limit_value(store, after, session, metric)
        if post.value is None:
            return f"limit {metric} {threshold:g} cannot be checked: {post.detail}"
        if post.value <= threshold + 1e-12:
            continue
        pre = limit_value(store, before, session, metric)
        if pre.value is not None and post.value <= pre.value + 1e-6:  # fills round to the cent
            continue  # already above it and not made worse: risk-reducing orders pass
        return (f"limit breach: {metric} would be {post.value:.4f} > {threshold:g} after the order "
                f"({post.detail})")
    return None


# --- stress --------------------------------------------------------------------------------
@dataclass(frozen=True)
class StressLine:
    ticker: str
    value: float
    ret: float
    pnl: float


def stress_window(store: "BarStore", scenario: str | None, start: str | None, end: str | None) -> tuple[str, str, str]:
    """(name, first session, last session) of a named scenario or a custom [start, end]."""
    if scenario:
        key = scenario.strip().lower()
        if key not in STRESS_SCENARIOS:
            raise PhinanceError(f"unknown stress scenario {scenario!r}; named scenarios: "
                                f"{', '.join(STRESS_SCENARIOS)} (or give start and end instead)")
        first, last, _ = STRESS_SCENARIOS[key]
        return key, first, last
    if not (start and end):
        raise PhinanceError("give a named scenario (e.g. lehman_2008) or both start and end of a custom window")
    import numpy as np

    sessions = store.series(CALENDAR).sessions
    s1, _ = session_of(store, end, "end")
    i0 = int(np.searchsorted(sessions, np.datetime64(parse_date(start, "start"), "D")))  # first session >= start
    if i0 == 0 or i0 >= len(sessions) or str(sessions[i0]) > s1:
        raise BadRange(f"no session in {start}..{end} with a close before it: the window needs sessions "
                       f"inside {sessions[1]}..{sessions[-1]}, start <= end")
    s0 = str(sessions[i0])
    return f"custom {s0}..{s1}", s0, s1


def window_return(store: "BarStore", ticker: str, first: str, last: str) -> float:
    """Return from the close before ``first`` to the close of ``last`` (the window's move)."""
    import numpy as np

    series = store.series(ticker)
    days = series.sessions
    i0 = int(np.searchsorted(days, np.datetime64(first, "D")))
    i1 = int(np.searchsorted(days, np.datetime64(last, "D"), side="right")) - 1
    if i0 < 1 or i1 < i0:
        raise NotEnoughData(f"{ticker} has no closes through {first}..{last} (its data starts {days[0]})")
    return float(series.close[i1] / series.close[i0 - 1] - 1.0)


def stress(store: "BarStore", book: Book, session: str, first: str, last: str) -> tuple[Any, list[StressLine]]:
    """The book as marked at ``session``, revalued by each position's return over the window."""
    mark = valuation(store, book, session)
    lines = []
    for t in book.tickers:
        r = window_return(store, t, first, last)
        lines.append(StressLine(t, mark.values[t], r, mark.values[t] * r))
    return mark, lines


# --- rebalancing ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Order:
    ticker: str
    side: str
    shares: int
    price: float
    amount: float


def rebalance_orders(book: Book, mark, targets: dict[str, float], prices: dict[str, float]) -> tuple[list[Order], dict[str, int], float]:
    """Whole-share orders taking the book to ``targets`` (weights of its total value; the
    rest stays cash): new shares = floor(weight x total value / close), so the cash left is
    never negative; a held ticker missing from ``targets`` is sold out. Sells come first.
    ``prices`` holds the session's close of every ticker involved. Returns (orders, shares
    after, cash after)."""
    total = mark.total_value
    current = {t: int(s) for t, s in book.positions.items()}
    new = {t: int(math.floor(w * total / prices[t] + 1e-9)) for t, w in targets.items()}
    orders: list[Order] = []
    for t in sorted(set(current) | set(new)):
        delta = new.get(t, 0) - current.get(t, 0)
        if delta:
            price = prices[t]
            orders.append(Order(t, "buy" if delta > 0 else "sell", abs(delta), price, round(abs(delta) * price, 2)))
    orders.sort(key=lambda o: (o.side != "sell", o.ticker))
    cash = mark.cash - math.fsum(o.amount if o.side == "buy" else -o.amount for o in orders)
    return orders, {t: s for t, s in sorted(new.items()) if s}, round(cash, 2)


__all__ = [
    "CALENDAR", "LimitValue", "Order", "STRESS_SCENARIOS", "StressLine", "breach_reason", "close_on", "closes_for",
    "limit_value", "rebalance_orders", "risk", "session_of", "stress", "stress_window", "tradable", "valuation",
    "window_return",
]
