"""Many episodes: a process pool (one host per worker, reused), results appended to
``rollouts.jsonl`` as they finish, resumable, with a summary table. A Ray backend runs the
same episode function as Ray tasks when one machine is not enough."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phinance_env.episodes.engine import EpisodeResult
from phinance_env.episodes.episode import run_episode

RETRY_KINDS = {"worker_died"}  # recorded, but a rerun tries these episodes again
KEEP_MODES = ("all", "failed", "none")  # which episodes' run folders a rollout keeps


@dataclass(frozen=True)
class RolloutConfig:
    scenario: str = "phinance_01"
    tasks: tuple[int, ...] | None = None  # None: all (of the split / base subset, when given)
    split: str | None = None  # "train" or "test" (gen_task_meta.jsonl)
    base: bool = False  # only the stratified quick-eval subset
    policy: str = "oracle"
    repeats: int = 1
    workers: int = 1
    transport: str = "asgi"
    out: Path = Path("runs")
    seed: int = 0
    max_turns: int = 30
    data_dir: str | None = None
    openai: dict[str, Any] = field(default_factory=dict)
    sql_facts: bool = False  # also record the sql-mode verifier's facts per episode
    backend: str = "local"  # "local" (process pool) or "ray"
    ray_address: str | None = None  # None: start a local Ray instance
    ray_token_file: str | None = None  # the cluster's auth token (token authentication)
    keep: str = "all"  # run folders kept: "all", "failed" (reward below 1.0 or an error), "none"

    def episode_seed(self, task_id: int, repeat: int) -> int:
        return self.seed * 1_000_003 + task_id * 1_009 + repeat


_LOOP: tuple[int, asyncio.Runner] | None = None  # (pid, runner): one event loop per worker process


def _run(coro):
    """Run ``coro`` on this process's long-lived event loop. A fresh ``asyncio.run`` per
    episode would also start and join new thread-pool workers every time."""
    global _LOOP
    if _LOOP is None or _LOOP[0] != os.getpid():  # none yet, or inherited through fork
        _LOOP = (os.getpid(), asyncio.Runner())
    return _LOOP[1].run(coro)


def episode_job(cfg: RolloutConfig, task_id: int, repeat: int) -> dict[str, Any]:
    """Run one episode in this process (pool worker, Ray task or the caller)."""
    from phinance_env.episodes.data import load_scenario_data
    from phinance_env.episodes.host import make_host  # the process's shared host (a stock AWM folder: its own code)
    from phinance_env.episodes.policies import make_policy

    data = load_scenario_data(cfg.scenario, cfg.data_dir)
    policy = make_policy(cfg.policy, data.solutions.get(task_id), cfg.episode_seed(task_id, repeat), **cfg.openai)
    run_dir = cfg.out / data.scenario / cfg.policy / f"task{task_id:03d}_r{repeat:03d}"
    kept = cfg.keep != "none"  # an episode that raises keeps its files under "failed"
    try:
        result = _run(run_episode(make_host(data, cfg.transport), data, task_id, policy, run_dir, repeat,
                                  cfg.max_turns, cfg.sql_facts))
        kept = cfg.keep == "all" or (cfg.keep == "failed" and (result.reward != 1.0 or result.error_kind is not None))
    finally:
        if not kept:  # removed by the worker itself: on Ray, the node that wrote them
            shutil.rmtree(run_dir, ignore_errors=True)
    if not kept:
        result.run_dir = None
    return result.to_json()


def _key(row: dict) -> tuple:
    return (row["scenario"], row["task_id"], row["repeat"], row["policy"])


def _done(path: Path) -> dict[tuple, dict]:
    rows = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash: its episode runs again
            rows[_key(row)] = row
    return {k: r for k, r in rows.items() if r.get("error_kind") not in RETRY_KINDS}


def rollout(cfg: RolloutConfig, progress=None) -> list[dict]:
    """Run every (task, repeat) not already in ``rollouts.jsonl``; returns all rows."""
    from phinance_env.episodes.data import load_scenario_data

    if cfg.keep not in KEEP_MODES:
        raise ValueError(f"keep={cfg.keep!r}: use one of {', '.join(KEEP_MODES)}")
    data = load_scenario_data(cfg.scenario, cfg.data_dir)
    task_ids = list(cfg.tasks) if cfg.tasks is not None else data.select(cfg.split, cfg.base)
    for t in task_ids:
        data.task(t)
    if cfg.policy == "oracle" and (missing := [t for t in task_ids if t not in data.solutions]):
        raise ValueError(f"no oracle solution for tasks {missing} in {data.data_dir}")
    cfg.out.mkdir(parents=True, exist_ok=True)
    path = cfg.out / "rollouts.jsonl"
    done = _done(path)
    jobs = [(t, r) for t in task_ids for r in range(cfg.repeats)
            if (data.scenario, t, r, cfg.policy) not in done]
    if path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        with path.open("a") as sink:
            sink.write("\n")  # a crash cut the last line: start the next one cleanly
    with path.open("a") as sink:
        def record(row: dict) -> None:
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
            done[_key(row)] = row
            if progress:
                progress(1)
        if cfg.backend == "ray":
            _ray_run(cfg, jobs, record)
        elif cfg.workers <= 1:
            for t, r in jobs:
                record(episode_job(cfg, t, r))
        else:
            _pool_run(cfg, jobs, record)
    if cfg.keep != "all":  # the episodes' parent folders, when no episode left files in them
        for folder in (cfg.out / data.scenario / cfg.policy, cfg.out / data.scenario):
            try:
                folder.rmdir()
            except OSError:
                break  # not empty (or not there)
    return [done[k] for k in sorted(done) if k[0] == data.scenario and k[3] == cfg.policy
            and k[1] in task_ids and k[2] < cfg.repeats]


_POOL: tuple[tuple[int, int], ProcessPoolExecutor] | None = None  # ((pid, workers), pool)


def _preload() -> None:
    """Import the tools and models before forking, so every worker starts with them (and
    shares their pages) instead of importing them again for its first episode."""
    import phinance_env.app.factory  # noqa: F401
    import phinance_env.backtest  # noqa: F401
    import phinance_env.episodes.host  # noqa: F401
    import phinance_env.projection.engine  # noqa: F401


def _pool(workers: int) -> ProcessPoolExecutor:
    """The worker pool, kept across rollouts as a trainer keeps its workers: each worker
    keeps its host, model caches and event loop from one rollout to the next."""
    global _POOL
    key = (os.getpid(), workers)
    if _POOL is None or _POOL[0] != key:
        _drop_pool()
        _preload()
        _POOL = (key, ProcessPoolExecutor(max_workers=workers))
    return _POOL[1]


def _drop_pool(wait: bool = False) -> None:
    global _POOL
    if _POOL is not None and _POOL[0][0] == os.getpid():  # never shut a parent's pool from a fork
        _POOL[1].shutdown(wait=wait, cancel_futures=True)
    _POOL = None


def shutdown_workers() -> None:
    """Stop the rollout worker processes kept between rollouts (they also stop at exit)."""
    _drop_pool(wait=True)


def _pool_run(cfg: RolloutConfig, jobs: list[tuple[int, int]], record) -> None:
    """A worker that dies fails the episodes it took down with it (recorded as worker_died,
    which a rerun tries again); the next rollout starts a fresh pool."""
    pool = _pool(cfg.workers)
    futures = {pool.submit(episode_job, cfg, t, r): (t, r) for t, r in jobs}
    try:
        for future in as_completed(futures):
            t, r = futures[future]
            try:
                record(future.result())
            except BrokenProcessPool:
                _drop_pool()
                record(EpisodeResult(cfg.scenario, t, r, cfg.policy, error_kind="worker_died",
                                     error="the worker process died during this episode").to_json())
            except Exception as exc:  # noqa: BLE001 - one episode's failure is recorded, not fatal
                record(EpisodeResult(cfg.scenario, t, r, cfg.policy, error_kind="episode_error",
                                     error=f"{type(exc).__name__}: {exc}"[:500]).to_json())
    except BaseException:
        _drop_pool()  # interrupted: queued episodes must not go on running unrecorded
        raise


def _ray_run(cfg: RolloutConfig, jobs: list[tuple[int, int]], record) -> None:
    """Episodes as Ray tasks (``pip install phinance-env[ray]``). Ray reuses worker
    processes, so each keeps its host across episodes. Past one machine, ``cfg.out`` and the
    data folder must be on storage every node sees."""
    ray = _ray_connect(cfg)
    remote = ray.remote(max_retries=0)(episode_job)
    refs = {remote.remote(cfg, t, r): (t, r) for t, r in jobs}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            t, r = refs[ref]
            try:
                record(ray.get(ref))
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError):
                record(EpisodeResult(cfg.scenario, t, r, cfg.policy, error_kind="worker_died",
                                     error="the Ray worker died during this episode").to_json())
            except Exception as exc:  # noqa: BLE001
                record(EpisodeResult(cfg.scenario, t, r, cfg.policy, error_kind="episode_error",
                                     error=f"{type(exc).__name__}: {exc}"[:500]).to_json())


def _ray_connect(cfg: RolloutConfig):
    """Import Ray and join the cluster at ``cfg.ray_address`` (or start a local instance).

    Token authentication (Ray 2.52+, on by default for new local clusters from 2.59): Ray
    takes ``RAY_AUTH_MODE=token`` from the environment and the token from ``RAY_AUTH_TOKEN``,
    else the file ``RAY_AUTH_TOKEN_PATH`` names, else ``~/.ray/auth_token``. Given an explicit
    address Ray never turns token mode on by itself, even with a token at hand (only for a
    local cluster it finds), so ``cfg.ray_token_file`` does: token mode with that file. A loopback address
    keeps this driver on loopback too (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: Ray would
    otherwise swap 127.0.0.1 for the machine's network address, which a head bound to
    127.0.0.1 does not answer). Both are read when Ray is imported (set them before that
    when calling this from a process that already imported Ray)."""
    address = cfg.ray_address
    if cfg.ray_token_file:
        token = Path(cfg.ray_token_file).expanduser()
        if not token.is_file() or not token.read_text().strip():
            raise ValueError(f"--ray-token-file {token}: no such file, or it is empty (`ray get-auth-token` "
                             "on the head prints the token; save it to a file only you can read)")
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN_PATH"] = str(token.resolve())
        os.environ.pop("RAY_AUTH_TOKEN", None)  # it would take precedence over the file
    host, port = _split_address(address)
    if host is not None and _is_loopback(host):
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    imported = "ray" in sys.modules
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs the optional extra: pip install 'phinance-env[ray]'") from None
    if ray.is_initialized():
        return ray
    if imported and cfg.ray_token_file:  # Ray caches its config at import: read the auth mode again
        from ray._raylet import AuthenticationTokenLoader, Config

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
    if address is None:
        ray.init(num_cpus=cfg.workers, include_dashboard=False, log_to_driver=False)
        return ray
    if host is not None:
        _probe(address, host, port)
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, getattr(ray.exceptions, "AuthenticationError", ConnectionError)) as exc:
        raise ValueError(_connect_advice(address, exc)) from None
    return ray


def _split_address(address: str | None) -> tuple[str | None, int | None]:
    """(host, port) of ``host:port``, ``[v6]:port`` or ``ray://host:port``; no host for
    "auto" or no address, no port when none is given."""
    if not address or address == "auto":
        return None, None
    rest = address.split("://", 1)[-1].rstrip("/")
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = tail.removeprefix(":")
    elif rest.count(":") == 1:
        host, port = rest.split(":")
    else:
        host, port = rest, ""
    return host, int(port) if port.isdigit() else None


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _probe(address: str, host: str, port: int | None, timeout: float = 5.0) -> None:
    """Fail in seconds when nothing listens at the address (Ray would retry for minutes)."""
    import socket

    if port is None:
        raise ValueError(f"--address {address!r}: give the head's host:port, e.g. 10.0.0.5:6379 "
                         "(`ray start --head` prints it)")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ValueError(f"no Ray cluster answers at {address} ({exc.strerror or type(exc).__name__}): check the "
                         "address (the host:port `ray start --head` printed; its default port is 6379), that the "
                         "head is running, and that this machine can reach it") from None


def _connect_advice(address: str, exc: Exception) -> str:
    """What to check when the address answers but Ray refused or failed the connection."""
    if os.environ.get("RAY_AUTH_MODE") != "token":
        sent = "this client sent no token (token mode is off: give --ray-token-file)"
    else:
        source = next((f"${v}" for v in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH") if os.environ.get(v)),
                      "~/.ray/auth_token")
        sent = f"this client sent the token from {source} (is it the head's?)"
    import ray

    return (f"could not connect to the Ray cluster at {address} ({type(exc).__name__}: {str(exc)[:200]}). "
            f"Something answers there, so check the token first: a head with token authentication (the default "
            f"for Ray 2.59+ local clusters) refuses clients without it, and {sent}. `ray get-auth-token` on the "
            f"head prints it; pass it as --ray-token-file PATH, or set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN_PATH. "
            f"Then check that {address} is the head's GCS address and that the head runs Ray {ray.__version__} "
            f"as this client does.")


def summarize(rows: list[dict], meta: dict[int, dict] | None = None) -> dict[str, Any]:
    """Success overall, per task, by tier and by template with 95% Wilson intervals (``meta``:
    the tasks' gen_task_meta rows), outcomes, and pass@k / pass^k when tasks were repeated."""
    from phinance_env.episodes.stats import evaluate

    by_task: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        by_task[row["task_id"]].append(row["reward"])
    n = len(rows)
    return {
        **evaluate(rows, meta),
        "success_rate": round(sum(r["reward"] for r in rows) / n, 4) if n else None,
        "per_task": {t: round(sum(v) / len(v), 4) for t, v in sorted(by_task.items())},
        "truncated": sum(1 for r in rows if r.get("truncated")),
        "workers": os.cpu_count(),
    }
