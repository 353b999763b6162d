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


@pytest.fixture(scope="session")
def exported(tmp_path_factory, cache_dir) -> Path:
    """A fresh AWM export of phinance_01 (data folder with gen_*.jsonl and the initial DB)."""
    from phinance_env.awm.export import export

    os.environ["PHINANCE_CACHE_DIR"] = str(cache_dir)
    from phinance_env.settings import get_settings

    get_settings.cache_clear()
    out = tmp_path_factory.mktemp("awm") / "outputs"
    export(out, envs_file=out.parent / "gen_envs_finance.jsonl", rel_out="outputs")
    return out


@pytest.fixture(scope="session")
def scenario_tasks(exported):
    from phinance_env.awm.scenario import Scenario, exported_tasks

    return exported_tasks(Scenario.load("phinance_01"), exported)
