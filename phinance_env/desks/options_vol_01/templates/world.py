"""What options_vol_01's templates read and draw from: the bar store, the synthetic chains
(the tools' own cache, so a task's truth and its oracle's calls share one computation) and
the initial state DB."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from phinance_env.awm.contract import Period, Reject

FIRST_SESSION = "2006-02-01"  # the synthetic stocks start 2005-01-03; a surface needs 253 closes
TOL_PRICE_REL = 0.002   # option prices quoted to the cent: 0.2% or 1 cent
TOL_DELTA = 0.006       # deltas quoted to 2 decimals
TOL_VOL = 0.0006        # implied vols quoted to 2 decimals in percent (0.06 vol points)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def spoken_date(day: str) -> str:
    import datetime as dt

    d = dt.date.fromisoformat(day)
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def strike_said(k: float) -> str:
    return f"{k:,.2f}".rstrip("0").rstrip(".")


@dataclass
class Truth:
    initial_db: Path
    ctx: Any = None

    @cached_property
    def store(self):
        from phinance_env.market import BarStore

        return self.ctx.store if self.ctx is not None else BarStore.open()

    def chain(self, ticker: str, as_of: str):
        from phinance_env.desks.options_vol_01.tools.common import chain

        return chain(self.store, ticker, as_of)

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with sqlite3.connect(f"file:{self.initial_db}?mode=ro", uri=True) as conn:
            return conn.execute(sql, args).fetchall()

    def names(self, table: str) -> set[str]:
        return {r[0] for r in self.query(f"SELECT name FROM {table}")}

    # --- drawing -----------------------------------------------------------------------
    def underlyings(self) -> list[str]:
        return ["^GSPC", "^IXIC", *[t.symbol for t in self.store.tickers() if t.source == "synthetic"]]

    def session(self, rng: random.Random, period: Period | None, last: str = "2018-12-31") -> str:
        days = [str(d) for d in self.store.series("^GSPC").sessions]
        lo = max(FIRST_SESSION, period.start.isoformat()) if period else FIRST_SESSION
        hi = min(last, period.end.isoformat()) if period else last
        pool = [d for d in days if lo <= d <= hi]
        if not pool:
            raise Reject("no sessions in the period")
        return rng.choice(pool)

    def ticker(self, rng: random.Random) -> str:
        # the indices a third of the time: the desk's most traded underlyings
        return rng.choice(("^GSPC", "^IXIC")) if rng.random() < 0.35 else rng.choice(self.underlyings()[2:])
