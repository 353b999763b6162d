"""What portfolio_risk_01's templates read and draw from: the bar store, the initial books
(read from the initial state DB's blotter) and the desk's own figures (``analysis``, the
computation the tools answer with; the finance core under it is tested independently)."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from phinance_env.awm.contract import Period, Reject
from phinance_env.desks.portfolio_risk_01 import analysis
from phinance_env.desks.portfolio_risk_01.ledger import Fill, book_as_of

WARMUP = 260            # sessions of history a risk date needs (a 250-session window + slack)
STOCK_START = "2006-01-03"  # synthetic stocks start 2005-01-03: a 250-session window fits after
TOL_FRAC = 0.0002       # fractions quoted to 2 decimals in percent (0.02 pp)
TOL_RATIO = 0.005       # beta quoted to 2 decimals
REL_USD = 0.001         # money quoted to the dollar (0.1% or 1 USD, whichever is larger)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def spoken_date(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def money(x: float) -> str:
    return f"${x:,.0f}"


def listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass(frozen=True)
class SeedBook:
    name: str
    id: int
    starting_cash: float
    inception: str
    fills: tuple[Fill, ...]
    limits: dict[str, float] = field(default_factory=dict)

    def holdings(self, session: str):
        return book_as_of(self.starting_cash, self.fills, session)

    @property
    def last_trade(self) -> str:
        return max((f.session for f in self.fills), default=self.inception)


@dataclass
class Truth:
    """Ground truth and the sampler's view of the data. ``ctx``, when given, is the app
    context of the generation gate: the truth then shares its bar store."""

    initial_db: Path
    ctx: Any = None

    @cached_property
    def store(self):
        from phinance_env.market import BarStore

        return self.ctx.store if self.ctx is not None else BarStore.open()

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with sqlite3.connect(f"file:{self.initial_db}?mode=ro", uri=True) as conn:
            return conn.execute(sql, args).fetchall()

    @cached_property
    def books(self) -> dict[str, SeedBook]:
        out = {}
        for pid, name, cash, inception in self.query(
                "SELECT id, name, starting_cash, inception_date FROM portfolios ORDER BY id"):
            rows = self.query("SELECT session, ticker, side, shares, amount FROM trades WHERE portfolio_id = ? "
                              "AND status = 'filled' ORDER BY session, id", (pid,))
            fills = tuple(Fill(s, t, n if side == "buy" else -n, a if side == "buy" else -a) for s, t, side, n, a in rows)
            limits = dict(self.query("SELECT metric, threshold FROM limits WHERE portfolio_id = ?", (pid,)))
            out[name] = SeedBook(name, pid, cash, inception, fills, limits)
        return out

    # --- the desk's figures ------------------------------------------------------------
    def session(self, day: str) -> str:
        return analysis.session_of(self.store, day, "date")[0]

    def mark(self, holdings, session: str):
        return analysis.valuation(self.store, holdings, session)

    def risk(self, holdings, session: str, window: int = 250):
        return analysis.risk(self.store, holdings, session, window)

    def close(self, ticker: str, session: str) -> float:
        return analysis.close_on(self.store, ticker, session)

    # --- drawing -----------------------------------------------------------------------
    def sessions(self, period: Period | None, start: str = STOCK_START, end: str = "2018-12-31") -> list[str]:
        days = [str(d) for d in self.store.series(analysis.CALENDAR).sessions]
        lo = max(start, period.start.isoformat()) if period else start
        hi = min(end, period.end.isoformat()) if period else end
        return [d for d in days if lo <= d <= hi]

    def draw_session(self, rng: random.Random, period: Period | None, start: str = STOCK_START) -> str:
        days = self.sessions(period, start)
        if not days:
            raise Reject("no sessions: none in the period after the start")
        return rng.choice(days)

    def risk_start(self, book: SeedBook) -> str:
        """The first session a risk figure of ``book`` has a full window: WARMUP sessions
        after both its inception and the synthetic stocks' start."""
        days = [str(d) for d in self.store.series(analysis.CALENDAR).sessions]
        first = days.index(max(book.inception, STOCK_START)) if max(book.inception, STOCK_START) in days else 0
        return days[min(first + 5, len(days) - 1)]

    def stocks(self, sector: str | None = None) -> list[str]:
        return [t.symbol for t in self.store.tickers()
                if t.source == "synthetic" and (sector is None or t.sector == sector)]

    def tradables(self) -> list[str]:
        return ["^GSPC", "^IXIC", *self.stocks()]

    def sectors(self) -> list[str]:
        return sorted({t.sector for t in self.store.tickers() if t.source == "synthetic"})

    def name_of(self, ticker: str) -> str:
        info = self.store.ticker(ticker)
        return {"^GSPC": "the S&P 500", "^IXIC": "the Nasdaq Composite"}.get(info.symbol, info.name.removesuffix(" (synthetic)"))
