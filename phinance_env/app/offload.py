"""Heavy tool work (walk-forward backtests) in a worker process.

A GARCH backtest computes for seconds in Python and numpy; run on one of the app's threads
it holds the GIL that every other episode's cheap calls need (measured: their median went
from 12 to 60 ms beside one). A host serving many episodes hands it to a process of its own;
the calling thread waits without the GIL. The worker opens the read-only bar store itself.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

_STORES: dict[str, object] = {}  # in the worker: one open store per path


def _backtest(store_path: str, *args):
    from phinance_env.backtest import run_backtest
    from phinance_env.market.store import BarStore

    store = _STORES.get(store_path)
    if store is None:
        store = _STORES[store_path] = BarStore(store_path)
    return run_backtest(store, *args)


class Offload:
    """A small process pool, started on first use. forkserver, not fork: the host process
    runs threads (uvicorn, anyio's pool), and forking a threaded process can deadlock."""

    def __init__(self, workers: int = 1):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["phinance_env.backtest"])
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            return self._pool

    def backtest(self, store_path, *args):
        """``run_backtest(store, *args)`` in the pool; a worker that died is replaced once."""
        for attempt in (1, 2):
            pool = self._executor()
            try:
                return pool.submit(_backtest, str(store_path), *args).result()
            except BrokenProcessPool:
                with self._lock:
                    if self._pool is pool:
                        self._pool = None
                if attempt == 2:
                    raise

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
