"""Per-app context: the state engine, the bar store and engines (loaded lazily), and the
tool-call scope that makes every call one transaction plus one log line."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from pydantic import BaseModel
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from phinance_env.errors import PhinanceError
from phinance_env.state import ToolCall, configure_engine, routed_engine

MAX_LOGGED_CHARS = 2_000
EPISODE_DB: ContextVar[str | None] = ContextVar("phinance_episode_db", default=None)
"""The state DB file of the episode a call belongs to, when one app serves many episodes
(episodes.host binds it per MCP session); unset, the app's own engine serves."""
INSERT_TOOL_CALL = insert(ToolCall.__table__)  # built once: see recording.INSERT_PROJECTION_RUN


def _loggable(args: dict[str, Any]) -> str:
    """Arguments as JSON for the log, with long strings cut (a 1 MB note stays out of it)."""
    def cut(value: Any) -> Any:
        if isinstance(value, str) and len(value) > MAX_LOGGED_CHARS:
            return value[:MAX_LOGGED_CHARS] + f"...[{len(value)} chars]"
        if isinstance(value, list):
            return [cut(v) for v in value[:50]]
        if isinstance(value, dict):
            return {k: cut(v) for k, v in list(value.items())[:50]}
        return value
    try:
        return json.dumps(cut(args), default=str, allow_nan=False)[: 4 * MAX_LOGGED_CHARS]
    except ValueError:  # a NaN or infinity in a raw HTTP body: log it as text, never fail the refusal
        return json.dumps(cut(args), default=str)[: 4 * MAX_LOGGED_CHARS]


class AppContext:
    """Everything a route needs. Heavy parts (pandas, models) load on first use, not at start."""

    def __init__(self, engine: Engine, bar_store_path: str | Path | None = None):
        self._engine = configure_engine(engine)
        self._episodes = routed_engine(EPISODE_DB.get)  # every episode's DB, one compiled-SQL cache
        self.bar_store_path = bar_store_path
        self._lock = threading.Lock()
        self._store = None
        self._projections: dict[str, Any] = {}
        self._backtests: dict[tuple, Any] = {}
        self._inflight: dict[tuple, Any] = {}  # key -> Future of a backtest being computed
        self.offload = None  # an app.offload.Offload: heavy work in another process

    def _check_bar_data(self, store) -> None:
        """A state DB exported against other bar data would make verifiers check answers
        the tools can no longer give: refuse it with a clear error rather than mislead."""
        import sqlite3

        from phinance_env.errors import StoreUnavailable

        path = EPISODE_DB.get() or self._engine.url.database
        if not path or path == ":memory:":
            return
        # A plain read-only connection: a Session here would BEGIN IMMEDIATE and wait on the
        # write lock the calling tool may already hold.
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT value FROM env_meta WHERE key = 'bar_fingerprint'").fetchone()
        except sqlite3.DatabaseError:
            return  # a DB made elsewhere (no env_meta): nothing to compare
        expected = row[0] if row else None
        actual = store.meta("builtin_fingerprint")
        if expected is not None and expected != actual:
            raise StoreUnavailable(
                f"the bar data changed since this state DB was exported (bars {actual}, expected "
                f"{expected}); run `phinance-env export` again")

    @property
    def engine(self) -> Engine:
        """The state DB this call acts on: its episode's, else the app's own."""
        return self._episodes if EPISODE_DB.get() is not None else self._engine

    def use_engine(self, engine: Engine) -> Engine:
        """Point the tools at another state DB; returns the previous engine. The bar store
        and model caches stay: they do not depend on the state DB."""
        previous, self._engine = self._engine, configure_engine(engine)
        return previous

    @property
    def store(self):
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from phinance_env.market.store import BarStore

                    store = BarStore.open(self.bar_store_path)
                    self._check_bar_data(store)
                    self._store = store
        return self._store

    def projections(self, model: str = "ewma"):
        engine = self._projections.get(model)
        if engine is None:
            from phinance_env.projection.engine import ProjectionEngine

            store = self.store  # outside the lock: loading the store takes it too
            with self._lock:
                engine = self._projections.setdefault(model, ProjectionEngine(store, model))
        return engine

    def backtest(self, tickers, start: str, end: str, model: str, config, threshold: float):
        """``run_backtest`` with a small cache: reports are deterministic in their inputs, and
        rollouts ask the same backtests over and over. Identical requests at the same time
        compute once (the others wait for it); with :attr:`offload` set, in a worker process."""
        from concurrent.futures import Future

        from phinance_env.backtest.runner import parse_tickers

        key = (tuple(parse_tickers(tickers)), start, end, model, config, threshold)
        with self._lock:
            report = self._backtests.get(key)
            if report is not None:
                return report
            pending, owner = self._inflight.get(key), False
            if pending is None:
                pending, owner = self._inflight.setdefault(key, Future()), True
        if not owner:
            return pending.result()
        try:
            report = self._compute_backtest(list(key[0]), start, end, model, config, threshold)
            with self._lock:
                self._backtests[key] = report
                while len(self._backtests) > 64:
                    self._backtests.pop(next(iter(self._backtests)))
            pending.set_result(report)
            return report
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._inflight.pop(key, None)

    def _compute_backtest(self, *args):
        if self.offload is not None:
            return self.offload.backtest(self.store.path, *args)
        from phinance_env.backtest import run_backtest

        return run_backtest(self.store, *args)

    def log_failure(self, tool: str, args: dict[str, Any], status: int, message: str) -> None:
        """The one row a failed call writes, in its own transaction."""
        with Session(self.engine) as session, session.begin():
            session.add(ToolCall(tool=tool, arguments=_loggable(args), status="error",
                                 http_status=status, error=message[:MAX_LOGGED_CHARS]))

    @contextmanager
    def call(self, tool: str, **args: Any) -> Iterator["CallScope"]:
        """Run one tool call: commit its writes and an 'ok' log row together, or on error
        roll everything back, log the failure and answer with a 4xx naming the problem."""
        scope = CallScope(self.engine)
        try:
            yield scope
            scope.finish(dict(tool=tool, arguments=_loggable(args), status="ok", http_status=200))
        except PhinanceError as exc:
            scope.abort()
            self.log_failure(tool, args, exc.status_code, str(exc))
            raise HTTPException(exc.status_code, str(exc)) from None
        except IntegrityError as exc:
            scope.abort()
            message = f"conflicts with existing state: {exc.orig}"
            self.log_failure(tool, args, 409, message)
            raise HTTPException(409, message) from None
        except OperationalError as exc:
            scope.abort()
            raise HTTPException(503, f"state database unavailable: {exc.orig}") from None
        except BaseException:
            scope.abort()
            raise


class CallScope:
    """The session of one call; the write transaction (BEGIN IMMEDIATE) opens on first use."""

    def __init__(self, engine: Engine):
        self.session = Session(engine, expire_on_commit=False)
        self._tx = None

    @property
    def db(self) -> Session:
        if self._tx is None:
            self._tx = self.session.begin()
        return self.session

    def finish(self, log_row: dict) -> None:
        self.db.connection().execute(INSERT_TOOL_CALL, log_row)
        self._tx.commit()
        self.session.close()

    def abort(self) -> None:
        if self._tx is not None and self._tx.is_active:
            self._tx.rollback()
        self.session.close()


async def get_context(request: Request) -> AppContext:
    # async: a plain def dependency costs every call an extra thread-pool hop (~0.5 ms)
    return request.app.state.ctx


def answer(result: BaseModel) -> Response:
    """A result model we built typed, as the JSON response. FastAPI would dump it, validate
    it again against the route's response_model and dump it once more; the route still
    declares that model, so the tool's schema and docs are unchanged."""
    return Response(result.model_dump_json(), media_type="application/json")


ContextDep = Annotated[AppContext, Depends(get_context)]
