"""Engines on the state DB: foreign keys on, rollback journal (not WAL), busy timeout.

Why not WAL: upstream ``awm agent`` saves ``final.db`` with a plain file copy while the
server still runs; commits still sitting in a ``-wal`` file would be missing from the copy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.pool import NullPool

from phinance_env.state.models import CoreBase

BUSY_TIMEOUT_MS = 15_000


def configure_engine(engine: Engine, synchronous: str = "NORMAL") -> Engine:
    """Install the pragmas on every new connection of ``engine`` (idempotent).

    ``synchronous`` NORMAL skips the fsyncs that only guard against power loss (a killed
    process loses nothing); episodes pass OFF, as their DBs are disposable copies."""
    if getattr(engine, "_phinance_configured", False):
        return engine

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" below issue BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = DELETE")
        cur.execute(f"PRAGMA synchronous = {synchronous}")
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn) -> None:
        # Take the write lock up front: two deferred transactions that both read and then
        # write would deadlock on the upgrade, and SQLite answers that with "locked" at once.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    engine._phinance_configured = True  # type: ignore[attr-defined]
    return engine


def state_engine(path: str | Path, synchronous: str = "NORMAL", compiled_cache: dict | None = None) -> Engine:
    """An engine on the state DB file at ``path`` (created empty if missing).

    ``compiled_cache`` shares compiled SQL between engines: an episode host opens one engine
    per episode, and each would otherwise compile every statement again."""
    if synchronous not in ("OFF", "NORMAL", "FULL"):
        raise ValueError(f"synchronous {synchronous!r}: use OFF, NORMAL or FULL")
    options = {} if compiled_cache is None else {"compiled_cache": compiled_cache}
    engine = create_engine(f"sqlite:///{path}", execution_options=options,
                           connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
    return configure_engine(engine, synchronous)


def routed_engine(current_path: Callable[[], str | None], synchronous: str = "OFF") -> Engine:
    """One engine for many state DBs: every connection opens the file ``current_path()``
    names at that moment (the calling episode's), and closes when the call ends.

    Why not an engine per DB: SQLAlchemy keys its compiled-SQL cache by the engine's
    dialect, so each new engine compiled every statement again (~2 ms each); one dialect
    compiles each statement once per process. Opening a SQLite file costs ~0.05 ms."""
    def connect() -> sqlite3.Connection:
        path = current_path()
        if path is None:
            raise sqlite3.OperationalError("no state DB is bound to this call")
        return sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)

    return configure_engine(create_engine("sqlite://", creator=connect, poolclass=NullPool), synchronous)


def create_schema(engine: Engine, tables: MetaData) -> None:
    """The shared tables, then a desk's own ``tables``."""
    CoreBase.metadata.create_all(engine)
    tables.create_all(engine)
