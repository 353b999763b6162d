"""Build ``bars.db`` from the real and synthetic sources (atomically: temp file, then rename)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from phinance_env.errors import StoreUnavailable
from phinance_env.market.sources import real_frames, synthetic_frames, SYNTHETIC_SEED
from phinance_env.market.store import SCHEMA, STORE_VERSION, fingerprint, write_ticker


def ensure_store(path: str | Path | None = None) -> Path:
    """Return the path of a current bar store, building it when missing or outdated."""
    if path is None:
        from phinance_env.settings import get_settings

        path = get_settings().bar_store_path
    path = Path(path)
    if path.exists() and _version(path) == STORE_VERSION:
        return path
    build_store(path)  # missing, or written by an older version: imports are carried over
    return path


def _version(path: Path) -> str | None:
    """The store's version; a file that is not a readable store is an error, never silently
    rebuilt (that would drop the user's imported bars without a word)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'store_version'").fetchone()
        return row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise StoreUnavailable(
            f"bar store {path} is corrupt or unreadable ({exc}); delete it to rebuild "
            "(re-import your own bars afterwards)") from None


def build_store(path: Path) -> None:
    """Write a fresh store; imported tickers of an existing store are carried over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        with conn:
            conn.executescript(SCHEMA)
            for spec, frame in (real_frames() | synthetic_frames()).values():
                write_ticker(conn, spec, frame)
            _carry_imports(conn, path)
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("store_version", STORE_VERSION), ("synthetic_seed", str(SYNTHETIC_SEED)),
                 ("fingerprint", fingerprint(conn)),
                 ("builtin_fingerprint", fingerprint(conn, builtin_only=True))],
            )
    finally:
        conn.close()
    os.replace(tmp, path)


def _carry_imports(conn: sqlite3.Connection, old: Path) -> None:
    """Copy the user's imported tickers from the store being replaced, if it is readable."""
    if not old.exists():
        return
    try:
        with sqlite3.connect(f"file:{old}?mode=ro", uri=True) as src:
            tickers = src.execute("SELECT * FROM tickers WHERE source = 'imported'").fetchall()
            bars = src.execute(
                "SELECT b.* FROM bars b JOIN tickers t ON b.symbol = t.symbol"
                " WHERE t.source = 'imported'"
            ).fetchall()
    except sqlite3.DatabaseError:
        return
    conn.executemany("INSERT INTO tickers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", tickers)
    conn.executemany("INSERT INTO bars VALUES (?, ?, ?, ?, ?, ?, ?)", bars)
