"""Discovery without paths: the ``awm.environments`` entry point group maps a scenario name
to a callable returning the paths of its AWM files (exported on first use into the cache)."""

from __future__ import annotations

from functools import partial
from pathlib import Path


def environment(name: str, out_dir: Path | None = None) -> dict[str, str]:
    """Paths of scenario ``name``'s AWM data folder (db_path inside is absolute)."""
    from phinance_env.awm.export import export
    from phinance_env.settings import get_settings

    out_dir = (out_dir or get_settings().cache_dir / "awm" / name).resolve()
    marker = out_dir / "gen_envs.jsonl"
    if not marker.is_file():
        export(name, out_dir, envs_file=None, rel_out=str(out_dir))
    files = {p.name.removesuffix(".jsonl"): str(p) for p in sorted(out_dir.glob("gen_*.jsonl"))}
    return {**files, "db": str(out_dir / "databases" / f"{name}.db"), "data_dir": str(out_dir)}


phinance_01 = partial(environment, "phinance_01")
