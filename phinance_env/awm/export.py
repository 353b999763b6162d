"""Export every registered scenario into one stock AWM data folder.

Files (stock AWM names, one row per scenario or per task): gen_scenario, gen_tasks, gen_db,
gen_sample, gen_spec, gen_envs, gen_verifier (sql mode), gen_verifier.pure_code (code mode)
``.jsonl``, each initial DB in ``databases/<scenario>.db``, ``gen_solutions.jsonl`` (our
oracle solutions), ``gen_task_meta.jsonl`` (per task: template, tier, split, base subset,
latest data date, parameters) and ``gen_envs_finance.jsonl`` (the env rows, for
``awm env start``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from phinance_env.awm.generate import Report
from phinance_env.awm.scenario import Scenario, tasks
from phinance_env.awm.seed import build_initial_db
from phinance_env.awm.verifiers import code_string

ENVS_FILE = "gen_envs_finance.jsonl"
FILES = ("gen_scenario", "gen_tasks", "gen_db", "gen_sample", "gen_spec", "gen_envs", "gen_verifier",
         "gen_verifier.pure_code", "gen_solutions", "gen_task_meta")
SHIM_MARK = "a phinance-env desk served as a stock AWM environment"
SHIM = '''"""AWM environment {name}: a phinance-env desk served as a stock AWM environment.

The tools live in the phinance_env package (FastAPI routes, operation_id = tool name);
this shim only opens the state DB and serves the desk's app. AWM rewrites the create_engine
and uvicorn.run lines and mounts MCP itself.
"""
import os

import uvicorn
from sqlalchemy import create_engine

from phinance_env.app import create_app

engine = create_engine(os.environ.get("DATABASE_PATH", "sqlite:///{db_path}"))
app = create_app(engine, "{name}")

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=8001)
'''


def env_row(name: str, out_dir: str = "outputs") -> dict[str, Any]:
    """The AWM env row of scenario ``name``, its DB under ``out_dir`` as the row spells it."""
    db_path = f"{out_dir}/databases/{name}.db"
    return {"scenario": name, "db_path": db_path, "full_code": SHIM.format(name=name, db_path=db_path)}


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def db_schema_and_sample(db: Path) -> tuple[dict, dict]:
    """DDL per table (creation order) and INSERT statements per table (parents first)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                              " AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
        schema, sample = [], []
        for name, ddl in tables:
            indexes = [r[0] for r in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
                " ORDER BY rowid", (name,))]
            schema.append({"name": name, "ddl": ddl, "indexes": indexes})
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
            rows = conn.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall()
            sample.append({"table_name": name, "insert_statements": [
                f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join(_sql_literal(v) for v in row)});"
                for row in rows]})
    return {"tables": schema}, {"tables": sample}


def api_spec(app) -> dict:
    """The tools as AWM-style API groups, derived from the app's OpenAPI schema."""
    groups: dict[str, list] = {}
    for path, methods in app.openapi()["paths"].items():
        for method, op in methods.items():
            groups.setdefault((op.get("tags") or ["default"])[0], []).append({
                "operation_id": op["operationId"], "method": method.upper(), "path": path,
                "summary": op.get("summary", ""), "description": op.get("description", ""),
                "parameters": op.get("parameters", []),
                "request_body": op.get("requestBody", {}),
            })
    return {"api_groups": [{"group_name": k, "endpoints": v} for k, v in groups.items()]}


def scenario_rows(name: str, out_dir: Path, rel_out: str, progress=None) -> tuple[dict[str, list[dict]], Report]:
    """One scenario's rows of every ``gen_*.jsonl`` file (builds its initial DB, generates
    and gates its tasks), and the generation report."""
    from phinance_env.app.factory import create_app
    from phinance_env.state import state_engine

    scenario = Scenario.load(name)
    desk = scenario.desk
    db = build_initial_db(scenario, out_dir / "databases" / f"{name}.db")
    instances, report = tasks(scenario, db, progress)
    schema, sample = db_schema_and_sample(db)
    engine = state_engine(db)
    spec = api_spec(create_app(engine, desk))
    engine.dispose()
    verifier_rows: dict[str, list] = {"sql": [], "code": []}
    for t in instances:
        for mode, rows in verifier_rows.items():
            rows.append({"scenario": name, "task_idx": t.index, "task": t.text,
                         "verification": {"code": code_string(desk.verifier_file, t.expected, mode),
                                          "raw_response": f"phinance-env template {t.template}"}})
    return {
        "gen_scenario": [{"name": name, "description": scenario.description}],
        "gen_tasks": [{"scenario": name, "tasks": [t.text for t in instances]}],
        "gen_db": [{"scenario": name, "db_schema": schema}],
        "gen_sample": [{"scenario": name, "sample_data": sample}],
        "gen_spec": [{"scenario": name, "api_spec": spec}],
        "gen_envs": [env_row(name, rel_out)],
        "gen_verifier": verifier_rows["sql"],
        "gen_verifier.pure_code": verifier_rows["code"],
        "gen_solutions": [{"scenario": name, "task_idx": t.index, "template": t.template, "solution": t.oracle}
                          for t in instances],
        "gen_task_meta": [{"scenario": name, "task_idx": t.index, "template": t.template, "tier": t.meta.tier,
                           "split": t.meta.split, "base": t.meta.base, "as_of_max": t.meta.as_of_max,
                           "params": t.params} for t in instances],
    }, report


def export(out_dir: Path = Path("outputs"), names: Sequence[str] | None = None,
           envs_file: Path | None = None, rel_out: str | None = None, reports: dict | None = None,
           progress=None) -> dict[str, Path]:
    """Write every registered scenario (or ``names``) into one AWM data folder, as
    AgentWorldModel-1K holds its 1,000: each ``gen_*.jsonl`` has a row per scenario (a row
    per task for tasks' verifiers), ``databases/<name>.db`` each, and the env rows again in
    ``out_dir/gen_envs_finance.jsonl``. ``envs_file`` writes the env rows there too (the
    committed root file); ``rel_out`` is how the rows spell ``out_dir`` (default: as given)."""
    from phinance_env.desks import desks, get_desk

    names = [get_desk(n).name for n in names] if names else list(desks())
    rel_out = rel_out or out_dir.as_posix()
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[dict]] = {f: [] for f in FILES}
    for name in names:
        rows_by_file, report = scenario_rows(name, out_dir, rel_out, progress)
        for filename, rows in rows_by_file.items():
            files[filename].extend(rows)
        if reports is not None:
            reports[name] = report
    paths = {f"databases/{n}.db": out_dir / "databases" / f"{n}.db" for n in names}
    for filename, rows in files.items():
        paths[f"{filename}.jsonl"] = out_dir / f"{filename}.jsonl"
        _jsonl(paths[f"{filename}.jsonl"], rows)
    for target in [out_dir / ENVS_FILE, *([envs_file] if envs_file is not None else [])]:
        _jsonl(target, files["gen_envs"])
        paths[str(target)] = target
    return paths


def check_envs_file(envs_file: Path = Path(ENVS_FILE), rel_out: str = "outputs") -> str | None:
    """None when the committed env file holds every registered scenario as a fresh export
    into ``rel_out`` would write it, else what differs."""
    from phinance_env.desks import desks

    expected = "".join(json.dumps(env_row(name, rel_out), ensure_ascii=False) + "\n" for name in desks())
    if not envs_file.is_file():
        return f"{envs_file} is missing; run phinance-env export"
    if envs_file.read_text() != expected:
        return f"{envs_file} is stale; run phinance-env export and commit it"
    return None
