"""Real OpenEnv servers (openenv-core's app over ours, uvicorn on 127.0.0.1) for the tests."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

pytest.importorskip("openenv", reason="needs the openenv extra (make install syncs it)")


@pytest.fixture(scope="session")
def data_dir(exported) -> Path:
    return Path(exported)


@pytest.fixture(scope="session")
def oracle_tasks(data_dir) -> list[int]:
    """A few templates' first tasks, one whose solution refers back to an earlier result
    among them: the oracle's calls cover lookups, writes and chained calls."""
    first: dict[str, tuple[int, bool]] = {}
    for line in (data_dir / "gen_solutions.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["scenario"] == "phinance_01":
            refers = any(isinstance(v, str) and v.startswith("$") for c in row["solution"]["calls"]
                         for v in c["arguments"].values())
            first.setdefault(row["template"], (row["task_idx"], refers))
    picks = sorted(first.values())
    chained = next(t for t, refers in picks if refers)
    return sorted({t for t, _ in picks[::6]} | {chained})


@contextlib.contextmanager
def openenv_server(data_dir: Path, work_dir: Path, **options):
    """Serve our OpenEnv app; yields (base URL, the server's own work folder)."""
    from phinance_env.openenv import ServerConfig, build_app
    from tests.support import served

    app = build_app(ServerConfig(data_dir=data_dir, work_dir=work_dir, **options))
    with served(app) as url:
        yield url, app.state.work_dir


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    with openenv_server(data_dir, tmp_path_factory.mktemp("openenv-work"), max_sessions=8) as (url, work):
        yield url, work
