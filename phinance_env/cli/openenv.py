"""``phinance-env openenv serve``: the native OpenEnv server (needs the ``openenv`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from phinance_env.cli.common import DataDir, IdleTimeout, MaxTurns, run_guarded

app = typer.Typer(help="A native OpenEnv environment: openenv-core's server over our episodes.",
                  no_args_is_help=True)


@app.command()
@run_guarded
def serve(
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8000,
    scenario: Annotated[str, typer.Option(help="the scenario reset uses when none is given")] = "phinance_01",
    data_dir: DataDir = None,
    max_turns: MaxTurns = 30,
    max_sessions: Annotated[int, typer.Option(min=1, help="sessions held at once (more are refused)")] = 256,
    idle_timeout: IdleTimeout = 1800.0,
    work_dir: Annotated[Path | None, typer.Option(help="where live episodes' files go (a folder of the server's "
                                                       "inside it, removed at shutdown; default: the temp dir)")] = None,
    keep_runs: Annotated[Path | None, typer.Option(help="keep each finished episode's run files "
                                                        "(trajectory, DBs, verify) here")] = None,
) -> None:
    """Serve OpenEnv sessions on http://127.0.0.1:PORT (WebSocket /ws; /reset, /step, /schema...)."""
    try:
        from phinance_env.openenv import ServerConfig
        from phinance_env.openenv import serve as run_serve
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("openenv", "fastmcp"):
            from phinance_env.errors import PhinanceError

            raise PhinanceError("openenv-core is not installed: pip install 'phinance-env[openenv]'") from None
        raise
    config = ServerConfig(scenario=scenario, data_dir=data_dir, max_turns=max_turns, max_sessions=max_sessions,
                          idle_timeout=idle_timeout, work_dir=work_dir, keep_runs=keep_runs)
    typer.echo(f"OpenEnv server for {scenario} on http://127.0.0.1:{port} (up to {max_sessions} sessions)", err=True)
    run_serve(config, port=port)
