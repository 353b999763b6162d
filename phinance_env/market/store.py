"""The read-only bar store: daily OHLCV bars in one SQLite file, built on first use.

Serving code only reads it (SQLite ``mode=ro``); the one writer is the explicit import
command. Series are cached in memory as numpy arrays, which is what the models consume.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from phinance_env.errors import UnknownTicker
from phinance_env.market.calendar import resolve_session, sessions_between
from phinance_env.market.sources import COLUMNS, TickerSpec

if TYPE_CHECKING:
    import pandas as pd

STORE_VERSION = "3"
SYMBOL_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9._-]{0,11}$")

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tickers (
    symbol TEXT PRIMARY KEY, name TEXT NOT NULL, source TEXT NOT NULL
        CHECK (source IN ('real', 'synthetic', 'imported')),
    origin TEXT NOT NULL, sector TEXT NOT NULL, close_only INTEGER NOT NULL,
    first_session TEXT NOT NULL, last_session TEXT NOT NULL, n_bars INTEGER NOT NULL);
CREATE TABLE bars (
    symbol TEXT NOT NULL REFERENCES tickers(symbol), session TEXT NOT NULL,
    open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
    volume REAL NOT NULL, PRIMARY KEY (symbol, session)) WITHOUT ROWID;
"""


def normalize_symbol(text: str) -> str:
    """Uppercase and validate a ticker symbol (letters, digits, ``. _ -``, optional ``^``)."""
    symbol = str(text).strip().upper()
    if not SYMBOL_RE.match(symbol):
        raise UnknownTicker(
            f"ticker {str(text)[:40]!r} is not a valid symbol: use 1-12 letters/digits "
            "(optionally starting with ^), e.g. ^GSPC or NOVA"
        )
    return symbol


@dataclass(frozen=True)
class TickerInfo:
    symbol: str
    name: str
    source: str
    origin: str
    sector: str
    close_only: bool
    first_session: str
    last_session: str
    n_bars: int


@dataclass(frozen=True)
class Series:
    """One ticker's bars as arrays; ``sessions`` is sorted ``datetime64[D]``."""

    symbol: str
    sessions: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def index_of(self, day: dt.date, field: str = "as_of_date") -> tuple[int, str | None]:
        return resolve_session(self.sessions, day, field)

    def between(self, start: dt.date, end: dt.date) -> np.ndarray:
        return sessions_between(self.sessions, start, end)


class BarStore:
    """Read access to ``bars.db``. Cheap to share between threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"bar store {self.path} does not exist; build it first")
        self._lock = threading.Lock()
        self._series: dict[str, Series] = {}
        self._tickers: dict[str, TickerInfo] | None = None

    @classmethod
    def open(cls, path: str | Path | None = None) -> "BarStore":
        """Open the store at ``path`` (default: the settings' cache dir), building it if absent."""
        from phinance_env.market.build import ensure_store

        return cls(ensure_store(path))

    def refresh(self) -> None:
        """Forget cached tickers and series (after the one writer, an import, changed them)."""
        with self._lock:
            self._series.clear()
            self._tickers = None

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

    def meta(self, key: str) -> str | None:
        with self.connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def tickers(self) -> list[TickerInfo]:
        if self._tickers is None:
            with self.connect() as conn:
                rows = conn.execute(
                    "SELECT symbol, name, source, origin, sector, close_only, first_session,"
                    " last_session, n_bars FROM tickers ORDER BY source, symbol"
                ).fetchall()
            self._tickers = {r[0]: TickerInfo(*r[:5], bool(r[5]), *r[6:]) for r in rows}
        return list(self._tickers.values())

    def ticker(self, text: str) -> TickerInfo:
        symbol = normalize_symbol(text)
        self.tickers()
        assert self._tickers is not None
        if symbol not in self._tickers:
            known = ", ".join(sorted(self._tickers))
            raise UnknownTicker(f"unknown ticker {symbol!r}; known tickers: {known}")
        return self._tickers[symbol]

    def series(self, text: str) -> Series:
        symbol = self.ticker(text).symbol
        cached = self._series.get(symbol)
        if cached is not None:
            return cached
        with self._lock, self.connect() as conn:
            rows = conn.execute(
                "SELECT session, open, high, low, close, volume FROM bars"
                " WHERE symbol = ? ORDER BY session",
                (symbol,),
            ).fetchall()
        cols = list(zip(*rows))
        series = Series(
            symbol,
            np.array(cols[0], dtype="datetime64[D]"),
            *(np.asarray(c, dtype=float) for c in cols[1:]),
        )
        self._series[symbol] = series
        return series

    def bars(self, text: str, start: dt.date | None = None, end: dt.date | None = None) -> "pd.DataFrame":
        """Bars of one ticker in [start, end] (inclusive) as a DataFrame indexed by session."""
        import pandas as pd  # not at import time: listing tickers should not pay for pandas

        s = self.series(text)
        lo = s.sessions[0].astype(object) if start is None else start
        hi = s.sessions[-1].astype(object) if end is None else end
        idx = s.between(lo, hi)
        return pd.DataFrame(
            {c: getattr(s, c)[idx] for c in COLUMNS},
            index=pd.DatetimeIndex(s.sessions[idx], name="session"),
        )


def write_ticker(conn: sqlite3.Connection, spec: TickerSpec, frame: "pd.DataFrame") -> None:
    """Insert one ticker and its bars (caller owns the transaction)."""
    days = frame.index.strftime("%Y-%m-%d")
    conn.execute(
        "INSERT INTO tickers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (spec.symbol, spec.name, spec.source, spec.origin, spec.sector, int(spec.close_only),
         days[0], days[-1], len(frame)),
    )
    conn.executemany(
        "INSERT INTO bars VALUES (?, ?, ?, ?, ?, ?, ?)",
        zip([spec.symbol] * len(frame), days, *(frame[c].tolist() for c in COLUMNS)),
    )


def fingerprint(conn: sqlite3.Connection, builtin_only: bool = False) -> str:
    """A content hash of the bars (all, or only the built-in real and synthetic ones), so
    consumers can tell when the data changed."""
    where = "WHERE t.source != 'imported'" if builtin_only else ""
    digest = hashlib.sha256()
    for row in conn.execute(f"SELECT b.* FROM bars b JOIN tickers t ON t.symbol = b.symbol {where}"
                            " ORDER BY b.symbol, b.session"):
        digest.update(repr(row).encode())
    return digest.hexdigest()[:16]
