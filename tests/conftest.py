"""Shared fixtures: one real bar store per test session, built from arch's data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("phinance-cache")
    from phinance_env.market.build import build_store

    build_store(path / "bars.db")
    return path


@pytest.fixture(scope="session")
def store(cache_dir):
    from phinance_env.market import BarStore

    return BarStore(cache_dir / "bars.db")


@pytest.fixture(scope="session")
def engine(store):
    from phinance_env.projection import ProjectionEngine

    return ProjectionEngine(store)


@pytest.fixture
def cli_env(cache_dir) -> dict[str, str]:
    """Environment for CLI subprocesses, pointed at the session's bar store."""
    return {**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir)}
