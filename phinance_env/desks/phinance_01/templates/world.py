"""What phinance_01's templates read and draw from: the bar store, the projection and
backtest engines, the initial state DB, and the names people use for instruments."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from phinance_env.awm.contract import Period, Reject

TOL_BPS = 1.0          # answers quote bps rounded to integers
TOL_AUC = 0.002        # AUC quoted to 3 decimals
TOL_COVERAGE = 0.002
TOL_SIGMA = 0.002      # annualized sigma as a fraction (0.2%)
TOL_PROB = 0.006       # probabilities quoted to 2 decimals
TOL_PCT = 0.01         # percent changes quoted to 2 decimals (in percent)
WARMUP = 260           # sessions of history a drawn as-of date needs (the model needs 126)
INDEX_NAMES = {"^GSPC": "the S&P 500", "^IXIC": "the Nasdaq Composite", "^VIX": "the VIX"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def people_name(symbol: str, name: str) -> str:
    """How a person names an instrument: 'the S&P 500', 'Nova Systems'."""
    return INDEX_NAMES.get(symbol, name.removesuffix(" (synthetic)"))


def spoken_date(day: str) -> str:
    """'2016-11-09' -> 'November 9, 2016'."""
    d = dt.date.fromisoformat(day)
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass
class Truth:
    """Ground truth and the sampler's view of the data. ``ctx``, when given, is the app
    context of the generation gate: the truth then shares its caches (a backtest drawn for a
    task is computed once, for the truth and for the oracle's tool call alike)."""

    initial_db: Path
    ctx: Any = None
    _backtests: dict = field(default_factory=dict, repr=False)

    # --- data ------------------------------------------------------------------------
    @cached_property
    def store(self):
        from phinance_env.market import BarStore

        return self.ctx.store if self.ctx is not None else BarStore.open()

    @cached_property
    def projections(self):
        from phinance_env.projection import ProjectionEngine

        return self.ctx.projections("ewma") if self.ctx is not None else ProjectionEngine(self.store)

    def project(self, ticker: str, as_of: str, horizons=(1, 5, 21)):
        return self.projections.project(ticker, as_of, horizons)

    def backtest(self, tickers: str, start: str, end: str):
        """The report the ``run_backtest`` tool gives for these arguments (its defaults)."""
        if self.ctx is not None:
            from phinance_env.backtest import WalkForwardConfig
            from phinance_env.backtest.runner import DEFAULT_THRESHOLD

            return self.ctx.backtest(tickers, start, end, "ewma", WalkForwardConfig(horizon=1), DEFAULT_THRESHOLD)
        from phinance_env.backtest import run_backtest

        key = (tickers, start, end)
        if key not in self._backtests:
            self._backtests[key] = run_backtest(self.store, tickers, start, end)
        return self._backtests[key]

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with sqlite3.connect(f"file:{self.initial_db}?mode=ro", uri=True) as conn:
            return conn.execute(sql, args).fetchall()

    # --- the initial workspace -------------------------------------------------------
    def watchlists(self) -> dict[str, list[str]]:
        rows = self.query("SELECT w.name, i.ticker FROM watchlists w LEFT JOIN watchlist_items i"
                          " ON i.watchlist_id = w.id ORDER BY w.id, i.id")
        out: dict[str, list[str]] = {}
        for name, ticker in rows:
            out.setdefault(name, [])
            if ticker:
                out[name].append(ticker)
        return out

    def tracked(self) -> set[str]:
        return {r[0] for r in self.query("SELECT symbol FROM tracked_tickers")}

    def alert_tickers(self) -> list[str]:
        return sorted({r[0] for r in self.query("SELECT ticker FROM alerts")})

    def note_titles(self) -> set[str]:
        return {r[0] for r in self.query("SELECT title FROM notes")}

    # --- drawing ---------------------------------------------------------------------
    def tickers(self, source: str | None = None, sector: str | None = None, projectable: bool = True) -> list[str]:
        """Symbols, optionally of one source or sector; ``projectable`` leaves out close-only series."""
        return [t.symbol for t in self.store.tickers()
                if (source is None or t.source == source) and (sector is None or t.sector == sector)
                and not (projectable and t.close_only)]

    def sectors(self) -> list[str]:
        return sorted({t.sector for t in self.store.tickers() if t.source == "synthetic"})

    def name(self, symbol: str) -> str:
        return people_name(symbol, self.store.ticker(symbol).name)

    def sessions(self, symbol: str, period: Period, warmup: int = WARMUP) -> list[str]:
        """The symbol's sessions inside ``period`` that have ``warmup`` sessions before them."""
        import numpy as np

        days = self.store.series(symbol).sessions[warmup:]
        lo, hi = np.datetime64(period.start, "D"), np.datetime64(period.end, "D")
        return [str(d) for d in days[(days >= lo) & (days <= hi)]]

    def session(self, rng: random.Random, symbol: str, period: Period, warmup: int = WARMUP) -> str:
        days = self.sessions(symbol, period, warmup)
        if not days:
            raise Reject(f"no sessions: {symbol} has none with {warmup} sessions of history in the period")
        return rng.choice(days)

    def previous_session(self, symbol: str, day: str) -> str:
        import numpy as np

        days = self.store.series(symbol).sessions
        i = int(np.searchsorted(days, np.datetime64(day, "D")))
        if i == 0:
            raise Reject(f"no previous session: {day} is the first session of {symbol}")
        return str(days[i - 1])

    def non_session(self, rng: random.Random, period: Period, symbol: str) -> str:
        """A weekday the exchange was closed (a holiday) or a weekend day inside ``period``,
        after the symbol's first ``WARMUP`` sessions."""
        import numpy as np

        from phinance_env.market.calendar import xnys_days

        first = self.store.series(symbol).sessions[WARMUP]
        start = max(period.start, first.astype(object))
        span = (period.end - start).days
        if span <= 0:
            raise Reject("no non-session: the period is too short")
        sessions = xnys_days()
        for _ in range(50):
            day = start + dt.timedelta(days=rng.randrange(span))
            weekday_holiday = day.weekday() < 5
            if np.datetime64(day, "D") not in sessions and (weekday_holiday or rng.random() < 0.3):
                return day.isoformat()
        raise Reject("no non-session: none drawn in 50 tries")

    def month_range(self, rng: random.Random, period: Period, months: tuple[int, int]) -> tuple[str, str]:
        """[first day of a month, last day of a month later] inside ``period``, spanning a
        number of months drawn from ``months`` (inclusive)."""
        length = rng.randint(*months)
        first = dt.date(period.start.year, period.start.month, 1)
        if first < period.start:
            first = _add_months(first, 1)
        last_start = _add_months(dt.date(period.end.year, period.end.month, 1), -(length - 1))
        if _add_months(last_start, length) - dt.timedelta(days=1) > period.end:
            last_start = _add_months(last_start, -1)
        n_starts = (last_start.year - first.year) * 12 + last_start.month - first.month + 1
        if n_starts <= 0:
            raise Reject(f"no range: {length} months do not fit in the period")
        start = _add_months(first, rng.randrange(n_starts))
        end = _add_months(start, length) - dt.timedelta(days=1)
        return start.isoformat(), end.isoformat()


def add_months(day: str, n: int) -> str:
    """The first of the month ``n`` months after ``day``'s month (YYYY-MM-DD)."""
    return _add_months(dt.date.fromisoformat(day), n).isoformat()


def _add_months(day: dt.date, n: int) -> dt.date:
    months = day.year * 12 + day.month - 1 + n
    return dt.date(months // 12, months % 12 + 1, 1)
