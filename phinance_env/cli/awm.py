"""``phinance-env export``, ``serve`` and ``scenarios``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from phinance_env.cli.common import run_guarded

DEFAULT_OUT = Path("outputs")


@run_guarded
def export(
    out: Annotated[Path | None, typer.Option(
        help="AWM data folder to write; default ./outputs, which also rewrites the committed "
             "./gen_envs_finance.jsonl")] = None,
    scenario: Annotated[list[str] | None, typer.Option(
        help="export only these scenarios (repeatable; default: every registered one)")] = None,
    check: Annotated[bool, typer.Option("--check", help="only check gen_envs_finance.jsonl is current")] = False,
) -> None:
    """Write every scenario into one AWM data folder (gen_*.jsonl, databases/, gen_envs_finance.jsonl)."""
    from phinance_env.awm.export import ENVS_FILE, check_envs_file
    from phinance_env.awm.export import export as run_export

    if check:
        problem = check_envs_file(Path(ENVS_FILE))
        if problem:
            typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{ENVS_FILE} is current")
        return
    import time

    committed = Path(ENVS_FILE) if out is None else None  # --out never touches the committed file
    folder = out or DEFAULT_OUT
    reports: dict = {}
    started = time.perf_counter()
    paths = run_export(folder, scenario or None, envs_file=committed, reports=reports)
    _print_reports(reports, folder)
    names = sorted(p.stem for p in folder.glob("databases/*.db") if f"databases/{p.name}" in paths)
    typer.echo(f"exported {', '.join(names)} into {folder}/ in {time.perf_counter() - started:.1f} s "
               f"(awm env start --envs_load_path {committed or folder / ENVS_FILE})")


def _print_reports(reports: dict, folder: Path) -> None:
    """Tasks by template and tier, with the draws the gates rejected and why."""
    import json
    from collections import Counter

    from rich.console import Console
    from rich.table import Table

    from phinance_env.desks import get_desk

    meta = [json.loads(line) for line in (folder / "gen_task_meta.jsonl").read_text().splitlines()]
    console = Console(stderr=True)
    for name, report in reports.items():
        rows = [m for m in meta if m["scenario"] == name]
        table = Table("template", "tier", "tasks", "test", "base", "rejected (reason: count)", title=name)
        for r in report.rows(get_desk(name).templates):
            mine = [m for m in rows if m["template"] == r["template"]]
            table.add_row(r["template"], str(r["tier"]), str(len(mine)), str(sum(m["split"] == "test" for m in mine)),
                          str(sum(m["base"] for m in mine)),
                          ", ".join(f"{k}: {v}" for k, v in r["rejected"].items()) or "-")
        console.print(table)
        tiers = Counter(m["tier"] for m in rows)
        console.print(f"{name}: {len(rows)} tasks; by tier " + ", ".join(f"{t}: {tiers[t]}" for t in sorted(tiers))
                      + f"; test split {sum(m['split'] == 'test' for m in rows)}, base {sum(m['base'] for m in rows)}")


@run_guarded
def serve(
    port: Annotated[int, typer.Option(help="port on --host")] = 8001,
    host: Annotated[str, typer.Option(help="bind address (loopback by default)")] = "127.0.0.1",
    scenario: Annotated[str | None, typer.Option(help="scenario whose tools to serve (default phinance_01)")] = None,
    db: Annotated[Path | None, typer.Option(help="state DB to serve (default: a working copy of the scenario's initial DB)")] = None,
    reset: Annotated[bool, typer.Option(help="start the working copy again from the initial state")] = False,
) -> None:
    """Serve one scenario's tools over MCP at http://HOST:PORT/mcp for any MCP client (no AWM needed)."""
    from phinance_env.app.serve import serve as run_serve
    from phinance_env.desks import get_desk
    from phinance_env.settings import get_settings

    name = get_desk(scenario or get_settings().scenario).name
    if db is None:
        from phinance_env.awm.registry import environment

        initial = Path(environment(name)["db"])
        db = Path("outputs") / "serve" / f"{name}.db"
        if reset or not db.exists():
            db.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(initial, db)
    elif not db.exists():
        typer.echo(f"error: state DB {db} does not exist", err=True)
        raise typer.Exit(2)
    typer.echo(f"MCP server for {name} on http://{host}:{port}/mcp (state DB {db})", err=True)
    run_serve(str(db), name, host, port)


@run_guarded
def scenarios(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON list instead of a table")] = False,
) -> None:
    """List the registered scenarios (finance desks) with their tool and task counts."""
    import json

    from phinance_env.awm.scenario import Scenario
    from phinance_env.desks import desks

    rows = []
    for desk in desks().values():
        scenario = Scenario.load(desk)
        rows.append({"name": desk.name, "title": desk.title, "version": desk.version,
                     "tools": len(desk.tool_names), "tasks": scenario.planned_tasks,
                     "templates": len(desk.templates), "description": " ".join(scenario.description.split())})
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("scenario", "desk", "tools", "tasks", "templates")
    for r in rows:
        table.add_row(r["name"], r["title"], str(r["tools"]), str(r["tasks"]), str(r["templates"]))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("serve")(serve)
    app.command("scenarios")(scenarios)
