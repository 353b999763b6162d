"""Finance desks as plug-ins: each scenario is one :class:`Desk`, found by name here.

A desk declares itself in its own folder: its tools (FastAPI routers), its tables (their
own SQLAlchemy metadata, beside the shared tool-call log and env metadata), its seed history
and tasks (a scenario TOML), its task templates with typed ground truth, and its verifier
source. The core (app factory, export, episodes, CLI) works from this registry only and
never imports a desk by name.

Discovery, in this order: the subpackages of ``phinance_env.desks`` that define ``DESK``,
then the ``phinance_env.desks`` entry point group (``name = "pkg.module:DESK"``), which is
how a desk shipped in another package plugs in, as Gymnasium's and pytest's plug-ins do.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter
    from sqlalchemy import MetaData

    from phinance_env.awm.contract import Template

ENTRY_POINT_GROUP = "phinance_env.desks"


@dataclass(frozen=True)
class Desk:
    """One scenario: everything it brings, as data the core can use without knowing it."""

    name: str
    """The AWM scenario name (``gen_*.jsonl`` rows, ``awm env start --scenario``)."""
    routers: Sequence[APIRouter]
    """Its tools: every route's ``operation_id`` is an MCP tool name."""
    tables: MetaData
    """Its own tables; the state DB also holds the shared ``env_meta`` and ``tool_calls``."""
    templates: Mapping[str, Template]
    """Task templates by name; each derives text, typed ground truth, oracle and mutants."""
    scenario_file: Path
    """TOML: description, seed history (replayed through the tools) and task parameters."""
    verifier_file: Path
    """Plain-Python verifier source (sqlite3/json/re only), exported as AWM code strings."""
    truth: Callable[..., Any]
    """``truth(initial_db, ctx=None)``: the ground-truth source its templates read and draw
    from (data, models, the initial state); ``ctx`` is an app context whose caches it may share."""
    title: str = ""
    version: str = "1"
    extra_sources: Sequence[Path] = field(default_factory=tuple)
    """Other files an export depends on (fingerprinted with the scenario and verifier)."""

    @property
    def tool_names(self) -> list[str]:
        return [r.operation_id for router in self.routers for r in router.routes if getattr(r, "operation_id", None)]


def _builtin() -> list[Desk]:
    found = []
    for info in pkgutil.iter_modules(__path__, f"{__name__}."):
        module = importlib.import_module(info.name)
        if isinstance(getattr(module, "DESK", None), Desk):
            found.append(module.DESK)
    return found


def _plugins() -> list[Desk]:
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        desk = ep.load()
        if not isinstance(desk, Desk):
            raise TypeError(f"entry point {ep.name} = {ep.value} is a {type(desk).__name__}, not a Desk")
        found.append(desk)
    return found


@lru_cache(maxsize=1)
def desks() -> dict[str, Desk]:
    """Every registered desk by name (built-in first, then plug-ins), sorted by name."""
    registry: dict[str, Desk] = {}
    for desk in [*_builtin(), *_plugins()]:
        if desk.name in registry and registry[desk.name] is not desk:
            raise ValueError(f"two desks are named {desk.name!r}")
        registry[desk.name] = desk
    return dict(sorted(registry.items()))


def get_desk(name: str | Desk) -> Desk:
    """The desk named ``name``, matched as AWM matches scenario names."""
    if isinstance(name, Desk):
        return name
    registry = desks()
    if name in registry:
        return registry[name]
    key = normalize_name(name)
    for desk in registry.values():
        if normalize_name(desk.name) == key:
            return desk
    from phinance_env.errors import UnknownScenario

    raise UnknownScenario(f"no scenario {name!r}; registered: {', '.join(registry) or 'none'}")


def normalize_name(name: str) -> str:
    """AWM's ``normalize_scenario_name``: lower case, runs of other characters -> '_'."""
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", name.lower())).strip("_")


__all__ = ["ENTRY_POINT_GROUP", "Desk", "desks", "get_desk", "normalize_name"]
