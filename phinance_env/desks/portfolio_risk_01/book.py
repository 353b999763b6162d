"""A book (shares by ticker plus cash), the closes it is valued at, and its mark to market.

Conventions (every risk and performance figure of the desk builds on these):

* Closes are a ``pandas.DataFrame`` indexed by XNYS session (naive midnight timestamps,
  sorted), one column per ticker, as :func:`load_closes` reads them from the bar store.
* A date that is not a session resolves to the previous session, with a note saying so
  (:func:`phinance_env.market.resolve_session`); a date outside the closes is a ``BadDate``.
* The book is long-only (shares >= 0) and holds USD cash, which earns nothing.
* ``capital`` is the external money put into the book (its starting cash, plus deposits,
  less withdrawals). P&L since inception = total value - capital.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from phinance_env.errors import BadRange, NotEnoughData, UnknownTicker
from phinance_env.market.calendar import parse_date, resolve_session
from phinance_env.market.store import normalize_symbol

if TYPE_CHECKING:
    import pandas as pd

    from phinance_env.market.store import BarStore


@dataclass(frozen=True)
class Book:
    """Holdings at one moment: ``positions`` maps ticker -> shares (>= 0), ``cash`` in USD.

    Tickers are normalised to upper case; zero-share positions are dropped. ``capital``
    defaults to ``cash`` (a book opened with cash only and traded from it).
    """

    positions: Mapping[str, float]
    cash: float
    capital: float | None = None
    tickers: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        clean: dict[str, float] = {}
        for raw, shares in dict(self.positions).items():
            symbol = normalize_symbol(raw)
            value = float(shares)
            if not math.isfinite(value) or value < 0:
                raise BadRange(f"shares of {symbol} must be a finite number >= 0 (the book is "
                               f"long-only), got {shares!r}")
            if symbol in clean:
                raise BadRange(f"ticker {symbol} appears twice in the book")
            if value > 0:
                clean[symbol] = value
        cash = float(self.cash)
        if not math.isfinite(cash):
            raise BadRange(f"cash must be a finite number of USD, got {self.cash!r}")
        capital = cash if self.capital is None else float(self.capital)
        if not math.isfinite(capital):
            raise BadRange(f"capital must be a finite number of USD, got {self.capital!r}")
        object.__setattr__(self, "positions", dict(sorted(clean.items())))
        object.__setattr__(self, "cash", cash)
        object.__setattr__(self, "capital", capital)
        object.__setattr__(self, "tickers", tuple(sorted(clean)))


@dataclass(frozen=True)
class Mark:
    """A book valued at one session's closes.

    ``weights`` are position value / total value (cash has ``cash_weight``; together they
    sum to 1). ``pnl`` = total value - capital; ``pnl_pct`` = pnl / capital (None when the
    capital is not positive).
    """

    session: dt.date
    note: str | None
    prices: dict[str, float]
    values: dict[str, float]
    weights: dict[str, float]
    cash: float
    cash_weight: float
    positions_value: float
    total_value: float
    capital: float
    pnl: float
    pnl_pct: float | None


def session_index(closes: "pd.DataFrame", day: str | dt.date, field: str = "as_of_date") -> tuple[int, str | None]:
    """Row of ``closes`` for ``day`` (the previous session if it is not one, with a note)."""
    if len(closes.index) == 0:
        raise NotEnoughData("no closes to value the book at")
    sessions = np.asarray(closes.index.values).astype("datetime64[D]")
    return resolve_session(sessions, parse_date(day, field), field)


def require_columns(closes: "pd.DataFrame", tickers: Iterable[str]) -> None:
    """Every ticker must have a column of closes; an unknown one is an ``UnknownTicker``."""
    missing = [t for t in tickers if t not in closes.columns]
    if missing:
        known = ", ".join(map(str, closes.columns))
        raise UnknownTicker(f"no closes for {', '.join(missing)}; closes are loaded for: {known}")


def mark_to_market(book: Book, closes: "pd.DataFrame", as_of: str | dt.date) -> Mark:
    """Value ``book`` at the close of the session ``as_of`` (or the previous session)."""
    require_columns(closes, book.tickers)
    row, note = session_index(closes, as_of)
    prices = {t: float(closes[t].iloc[row]) for t in book.tickers}
    for t, p in prices.items():
        if not (math.isfinite(p) and p > 0):
            raise NotEnoughData(f"{t} has no close on {_day(closes, row)}; cannot value the book")
    values = {t: book.positions[t] * prices[t] for t in book.tickers}
    positions_value = math.fsum(values.values())
    total = positions_value + book.cash
    if not total > 0:
        raise NotEnoughData(f"the book is worth {total:.2f} USD on {_day(closes, row)}: weights "
                            "need a positive total value (hold cash or a position)")
    pnl = total - book.capital
    return Mark(
        session=_day(closes, row), note=note, prices=prices, values=values,
        weights={t: v / total for t, v in values.items()}, cash=book.cash,
        cash_weight=book.cash / total, positions_value=positions_value, total_value=total,
        capital=book.capital, pnl=pnl, pnl_pct=pnl / book.capital if book.capital > 0 else None,
    )


def load_closes(
    store: "BarStore", tickers: Iterable[str], start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> "pd.DataFrame":
    """Closes of ``tickers`` in [start, end] from the bar store, one column each, on the
    sessions every one of them has (their intersection). Unknown tickers raise
    ``UnknownTicker`` (listing the known ones)."""
    import pandas as pd

    symbols = list(dict.fromkeys(store.ticker(t).symbol for t in tickers))
    if not symbols:
        raise NotEnoughData("no tickers to load closes for")
    lo = None if start is None else parse_date(start, "start")
    hi = None if end is None else parse_date(end, "end")
    frame = pd.concat({s: store.bars(s, lo, hi)["close"] for s in symbols}, axis=1, join="inner")
    if frame.empty:
        raise NotEnoughData(f"{', '.join(symbols)} have no common session in the range asked")
    return frame


def _day(closes: "pd.DataFrame", row: int) -> dt.date:
    return closes.index[row].date()


__all__ = ["Book", "Mark", "load_closes", "mark_to_market", "require_columns", "session_index"]
