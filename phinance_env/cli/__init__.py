"""The ``phinance-env`` command line (typer). Heavy imports live inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from phinance_env.cli import awm, bars, episodes, gateway, market, openenv
from phinance_env.cli.common import run_guarded

app = typer.Typer(
    name="phinance-env",
    help="Phi-nance projections and walk-forward backtests, as an AWM environment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    cache_dir: Annotated[Path | None, typer.Option(
        "--cache-dir", envvar="PHINANCE_CACHE_DIR",
        help="Where the bar store is built and cached (default ~/.cache/phinance-env).")] = None,
) -> None:
    if cache_dir is not None:
        import os

        from phinance_env.settings import get_settings

        os.environ["PHINANCE_CACHE_DIR"] = str(cache_dir)
        get_settings.cache_clear()


app.add_typer(bars.app, name="bars")
app.add_typer(gateway.app, name="gateway")
app.add_typer(openenv.app, name="openenv")
market.register(app)
awm.register(app)
episodes.register(app)

__all__ = ["app", "run_guarded"]
