"""Export a scenario as a stock AWM data folder, plus the committed ``gen_envs_finance.jsonl``.

Files (stock AWM names): gen_scenario, gen_tasks, gen_db, gen_sample, gen_spec, gen_envs,
gen_verifier (sql mode), gen_verifier.pure_code (code mode) ``.jsonl``, the initial DB in
``databases/<scenario>.db``, and ``gen_solutions.jsonl`` (our oracle solutions).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from phinance_env.awm.scenario import Scenario, tasks
from phinance_env.awm.seed import build_initial_db
from phinance_env.awm.verifiers import code_string

ENVS_FILE = "gen_envs_finance.jsonl"
SHIM = '''"""AWM environment {name}: Phi-nance projections, backtests and a research workspace.

The tools live in the phinance_env package (FastAPI routes, operation_id = tool name);
this shim only opens the state DB and serves the app. AWM rewrites the create_engine and
uvicorn.run lines and mounts MCP itself.
"""
import os

import uvicorn
from sqlalchemy import create_engine

from phinance_env.app import create_app

engine = create_engine(os.environ.get("DATABASE_PATH", "sqlite:///{db_path}"))
app = create_app(engine)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=8001)
'''


def env_row(scenario: Scenario, out_dir: str = "outputs") -> dict[str, Any]:
    db_path = f"{out_dir}/databases/{scenario.name}.db"
    return {"scenario": scenario.name, "db_path": db_path,
            "full_code": SHIM.format(name=scenario.name, db_path=db_path)}


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


def export(name: str = "phinance_01", out_dir: Path = Path("outputs"), envs_file: Path | None = Path(ENVS_FILE),
           rel_out: str = "outputs") -> dict[str, Path]:
    """Write the AWM data folder for scenario ``name`` into ``out_dir``; returns the paths."""
    from phinance_env.app.factory import create_app
    from phinance_env.state import state_engine

    scenario = Scenario.load(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = build_initial_db(scenario, out_dir / "databases" / f"{name}.db")
    instances = tasks(scenario, db)
    schema, sample = db_schema_and_sample(db)
    engine = state_engine(db)
    spec = api_spec(create_app(engine))
    engine.dispose()
    verifier_rows = {mode: [] for mode in ("sql", "code")}
    for t in instances:
        for mode in verifier_rows:
            verifier_rows[mode].append({
                "scenario": name, "task_idx": t.index, "task": t.text,
                "verification": {"code": code_string(scenario.verifier, t.expected, mode),
                                 "raw_response": f"phinance-env template {t.spec.template}"}})
    row = env_row(scenario, rel_out)
    files = {
        "gen_scenario.jsonl": [{"name": name, "description": scenario.description}],
        "gen_tasks.jsonl": [{"scenario": name, "tasks": [t.text for t in instances]}],
        "gen_db.jsonl": [{"scenario": name, "db_schema": schema}],
        "gen_sample.jsonl": [{"scenario": name, "sample_data": sample}],
        "gen_spec.jsonl": [{"scenario": name, "api_spec": spec}],
        "gen_envs.jsonl": [row],
        "gen_verifier.jsonl": verifier_rows["sql"],
        "gen_verifier.pure_code.jsonl": verifier_rows["code"],
        "gen_solutions.jsonl": [{"scenario": name, "task_idx": t.index, "template": t.spec.template,
                                 "solution": t.oracle.model_dump()} for t in instances],
    }
    paths = {"db": db}
    for filename, rows in files.items():
        _jsonl(out_dir / filename, rows)
        paths[filename] = out_dir / filename
    if envs_file is not None:
        _jsonl(envs_file, [row])
        paths[ENVS_FILE] = envs_file
    return paths


def check_envs_file(name: str = "phinance_01", envs_file: Path = Path(ENVS_FILE)) -> str | None:
    """None when the committed env file equals a fresh export, else what differs."""
    expected = json.dumps(env_row(Scenario.load(name)), ensure_ascii=False) + "\n"
    if not envs_file.is_file():
        return f"{envs_file} is missing; run phinance-env export"
    if envs_file.read_text() != expected:
        return f"{envs_file} is stale; run phinance-env export and commit it"
    return None
