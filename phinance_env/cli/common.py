"""Helpers shared by the command modules: error handling and the shared store/engine."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

import typer

F = TypeVar("F", bound=Callable)


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
