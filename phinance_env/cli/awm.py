"""``phinance-env export`` and ``phinance-env serve``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from phinance_env.cli.common import run_guarded


@run_guarded
def export(
    scenario: Annotated[str, typer.Option(help="scenario name")] = "phinance_01",
    out: Annotated[Path, typer.Option(help="AWM data folder to write")] = Path("outputs"),
    check: Annotated[bool, typer.Option("--check", help="only check gen_envs_finance.jsonl is current")] = False,
) -> None:
    """Write the AWM data folder (gen_*.jsonl, databases/) and gen_envs_finance.jsonl."""
    from phinance_env.awm.export import ENVS_FILE, check_envs_file
    from phinance_env.awm.export import export as run_export

    if check:
        problem = check_envs_file(scenario, Path(ENVS_FILE))
        if problem:
            typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{ENVS_FILE} is current")
        return
    paths = run_export(scenario, out, Path(ENVS_FILE), rel_out=out.as_posix())
    typer.echo(f"exported {scenario}: {len(paths)} files into {out}/ and {ENVS_FILE}")


@run_guarded
def serve(
    port: Annotated[int, typer.Option(help="port on --host")] = 8001,
    host: Annotated[str, typer.Option(help="bind address (loopback by default)")] = "127.0.0.1",
    db: Annotated[Path | None, typer.Option(help="state DB to serve (default: a working copy of the scenario's initial DB)")] = None,
    scenario: Annotated[str, typer.Option(help="scenario whose initial state seeds the working copy")] = "phinance_01",
    reset: Annotated[bool, typer.Option(help="start the working copy again from the initial state")] = False,
) -> None:
    """Serve the tools over MCP at http://HOST:PORT/mcp for any MCP client (no AWM needed)."""
    from phinance_env.app.serve import serve as run_serve

    if db is None:
        from phinance_env.awm.registry import environment

        initial = Path(environment(scenario)["db"])
        db = Path("outputs") / "serve" / f"{scenario}.db"
        if reset or not db.exists():
            db.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(initial, db)
    elif not db.exists():
        typer.echo(f"error: state DB {db} does not exist", err=True)
        raise typer.Exit(2)
    typer.echo(f"MCP server on http://{host}:{port}/mcp (state DB {db})", err=True)
    run_serve(str(db), host, port)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("serve")(serve)
