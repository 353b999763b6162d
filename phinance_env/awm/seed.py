"""Build a scenario's initial state DB by replaying its seed history through the app."""

from __future__ import annotations

import os
from pathlib import Path

from phinance_env.awm.scenario import Scenario


def build_initial_db(scenario: Scenario, path: Path, bar_store_path: Path | None = None) -> Path:
    """Write the initial DB atomically; a seed call that fails aborts the build."""
    from phinance_env.app.client import AppClient
    from phinance_env.app.factory import create_app
    from phinance_env.state import create_schema, state_engine

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    engine = state_engine(tmp)
    try:
        create_schema(engine, scenario.desk.tables)
        _record_bar_data(engine, bar_store_path)
        client = AppClient(create_app(engine, scenario.desk, bar_store_path))
        for step in scenario.seed_steps():
            client.call(step.tool, step.arguments)
        client.close()
    finally:
        engine.dispose()
    os.replace(tmp, path)
    return path


def _record_bar_data(engine, bar_store_path) -> None:
    """Stamp the DB with the bar data it is built on; the app refuses a store that differs."""
    from sqlalchemy.orm import Session

    from phinance_env.market.store import BarStore
    from phinance_env.state import EnvMeta

    store = BarStore.open(bar_store_path)
    with Session(engine) as session, session.begin():
        session.add(EnvMeta(key="bar_fingerprint", value=store.meta("builtin_fingerprint")))
