"""Import a user's own daily bars (CSV or Parquet) into the bar store, all or nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from phinance_env.errors import BadBars, Conflict
from phinance_env.market.calendar import xnys_sessions
from phinance_env.market.sources import COLUMNS, TickerSpec
from phinance_env.market.store import BarStore, fingerprint, normalize_symbol, write_ticker

REQUIRED = ["date", "open", "high", "low", "close"]
DATE_ALIASES = ("date", "session", "timestamp", "time")


def read_bars_file(path: str | Path) -> pd.DataFrame:
    """Read and validate a bars file; raise :class:`BadBars` naming the first bad row."""
    path = Path(path)
    if not path.is_file():
        raise BadBars(f"file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
        else:
            raise BadBars(f"unsupported file type {suffix!r}: accepted .csv, .parquet")
    except BadBars:
        raise
    except Exception as exc:  # the parsers raise many types; the user needs the message
        raise BadBars(f"cannot read {path.name}: {exc}") from None
    return validate_bars(raw)


def validate_bars(raw: pd.DataFrame) -> pd.DataFrame:
    """Check columns, dates, ordering and OHLC consistency; rows are numbered from 1."""
    frame = raw.rename(columns=lambda c: str(c).strip().lower())
    for alias in DATE_ALIASES:
        if alias in frame.columns and "date" not in frame.columns:
            frame = frame.rename(columns={alias: "date"})
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise BadBars(
            f"missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED)}"
            " (volume optional)"
        )
    if len(frame) < 2:
        raise BadBars("need at least 2 rows of bars")
    if "volume" not in frame.columns:
        frame["volume"] = 0.0
    dates = pd.to_datetime(frame["date"].astype(str), format="%Y-%m-%d", errors="coerce")
    values = {c: pd.to_numeric(frame[c], errors="coerce").astype(float) for c in COLUMNS}
    body_hi = np.maximum(values["open"], values["close"])
    body_lo = np.minimum(values["open"], values["close"])
    checks = [(dates.isna(), "date", "date is not YYYY-MM-DD")]
    checks += [(~np.isfinite(values[c]), c, f"{c} is not a finite number") for c in COLUMNS]
    checks += [(values[c] <= 0, c, f"{c} must be > 0") for c in ("open", "high", "low", "close")]
    checks += [
        (values["volume"] < 0, "volume", "volume must be >= 0"),
        (values["high"] < body_hi, "high", "high is below max(open, close)"),
        (values["low"] > body_lo, "low", "low is above min(open, close)"),
        (dates.notna() & ~dates.isin(xnys_sessions()), "date", "date is not an XNYS trading session"),
        (dates.diff().dt.days <= 0, "date", "dates must be strictly increasing (sorted, unique)"),
    ]
    _reject_first_bad_row(frame, checks)
    out = pd.DataFrame({c: values[c].astype(float).to_numpy() for c in COLUMNS},
                       index=pd.DatetimeIndex(dates.to_numpy(), name="session"))
    return out


def _reject_first_bad_row(frame: pd.DataFrame, checks: list) -> None:
    """Raise for the earliest row failing any check (first check listed wins on that row)."""
    first = None
    for mask, column, what in checks:
        hits = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(hits) and (first is None or hits[0] < first[0]):
            first = (int(hits[0]), column, what)
    if first is not None:
        i, column, what = first
        raise BadBars(
            f"row {i + 1}: {what} ({column} = {frame[column].iloc[i]!r}); nothing was imported"
        )


def import_bars(store: BarStore, path: str | Path, ticker: str, name: str | None = None,
                replace: bool = False) -> dict:
    """Validate ``path`` and write it as ``ticker`` in one transaction."""
    symbol = normalize_symbol(ticker)
    frame = read_bars_file(path)
    existing = {t.symbol: t for t in store.tickers()}
    if symbol in existing:
        if existing[symbol].source != "imported":
            raise Conflict(f"{symbol} is a built-in {existing[symbol].source} ticker; pick another symbol")
        if not replace:
            raise Conflict(f"{symbol} was already imported; pass --replace to overwrite it")
    spec = TickerSpec(symbol, name or symbol, "imported", f"imported from {Path(path).name}", "Imported")
    conn = sqlite3.connect(store.path, timeout=30)
    try:
        with conn:
            conn.execute("DELETE FROM bars WHERE symbol = ?", (symbol,))
            conn.execute("DELETE FROM tickers WHERE symbol = ?", (symbol,))
            write_ticker(conn, spec, frame)
            conn.execute("UPDATE meta SET value = ? WHERE key = 'fingerprint'", (fingerprint(conn),))
    finally:
        conn.close()
        store.refresh()
    return {"ticker": symbol, "rows": len(frame),
            "first_session": frame.index[0].date().isoformat(),
            "last_session": frame.index[-1].date().isoformat()}
