"""Helpers shared by the command modules: error handling and the shared store/engine."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

F = TypeVar("F", bound=Callable)

# Options the episode servers (gateway, openenv) share.
DataDir = Annotated[Path | None, typer.Option(help="an AWM data folder (default: our export of each scenario)")]
MaxTurns = Annotated[int, typer.Option(min=1, help="tool calls an episode may make")]
IdleTimeout = Annotated[float, typer.Option(min=1, help="seconds before an untouched episode is released")]


def run_guarded(fn: F) -> F:
    """Turn a :class:`PhinanceError` into one clear line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from phinance_env.errors import PhinanceError

        try:
            return fn(*args, **kwargs)
        except PhinanceError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def open_store():
    from phinance_env.market import BarStore

    return BarStore.open()


def echo_json(model) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")
