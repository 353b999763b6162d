"""``phinance-env gateway serve``: the episode gateway the verifiers environment talks to."""

from __future__ import annotations

from typing import Annotated

import typer

from phinance_env.cli.common import DataDir, IdleTimeout, MaxTurns, run_guarded

app = typer.Typer(help="The episode gateway: many episodes, each with its own MCP URL (the verifiers environment).",
                  no_args_is_help=True)


@app.command()
@run_guarded
def serve(
    port: Annotated[int, typer.Option(help="port on --host")] = 8765,
    host: Annotated[str, typer.Option(help="bind address (loopback by default)")] = "127.0.0.1",
    data_dir: DataDir = None,
    max_turns: MaxTurns = 30,
    max_episodes: Annotated[int, typer.Option(min=1, help="episodes held at once (more are refused)")] = 1024,
    idle_timeout: IdleTimeout = 1800.0,
) -> None:
    """Serve episodes over HTTP: create, tools at /episodes/{id}/mcp, submit for the reward, release.

    The control routes need the key in PHINANCE_GATEWAY_API_KEY (one is made up and printed
    when it is unset); give the same variable to the verifiers evaluation."""
    import os
    import secrets

    from phinance_env.episodes.gateway import KEY_ENV
    from phinance_env.episodes.gateway import serve as run_serve

    key = os.environ.get(KEY_ENV)
    if not key:
        key = secrets.token_urlsafe(24)
        typer.echo(f"{KEY_ENV} was unset; this gateway's key: export {KEY_ENV}={key}", err=True)
    typer.echo(f"episode gateway on http://{host}:{port} (episodes at /episodes, data "
               f"{data_dir or 'our export'})", err=True)
    run_serve(key, host, port, data_dir=data_dir, max_turns=max_turns, max_episodes=max_episodes,
              idle_timeout=idle_timeout)
