"""Discovery without paths: the ``awm.environments`` entry point group maps a scenario name
to a callable returning the paths of its AWM files (exported on first use into the cache);
each desk exposes ``environment = partial(environment, name)`` for its entry point."""

from __future__ import annotations

import fcntl
import hashlib
from functools import lru_cache
from pathlib import Path

STAMP = "export.fingerprint"


def export_fingerprint() -> str:
    """What an export is made from: the package's code, the scenario and verifier sources,
    the bar data and the generation scale. A cached export made from anything else is stale
    (an upgrade that changes a verifier or a model must not keep scoring with the old one)."""
    from phinance_env.settings import get_settings

    scale = get_settings().generate_scale
    return _sources_fingerprint() if scale == 1.0 else f"{_sources_fingerprint()}-x{scale:g}"


@lru_cache(maxsize=1)
def _sources_fingerprint() -> str:
    from phinance_env.awm.resources import PACKAGE, resource_dir
    from phinance_env.desks import desks
    from phinance_env.market.store import BarStore

    digest = hashlib.sha256()

    files = [*PACKAGE.rglob("*.py"), *resource_dir("scenarios").glob("*"), *resource_dir("verifiers").glob("*.py")]
    for desk in desks().values():  # plug-in desks live outside the package
        files += [desk.scenario_file, desk.verifier_file, *desk.extra_sources]
    for path in sorted(set(files)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(str(BarStore.open().meta("builtin_fingerprint")).encode())
    return digest.hexdigest()[:16]


def environment(name: str, out_dir: Path | None = None) -> dict[str, str]:
    """Paths of the AWM data folder holding scenario ``name`` (with every registered
    scenario; db_path inside is absolute), exported into the cache on first use."""
    from phinance_env.awm.export import export
    from phinance_env.desks import get_desk
    from phinance_env.settings import get_settings

    name = get_desk(name).name
    out_dir = (out_dir or get_settings().cache_dir / "awm" / "all").resolve()
    stamp = out_dir / STAMP
    fingerprint = export_fingerprint()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(out_dir.parent / f".{out_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # workers starting together export once
        if not stamp.is_file() or stamp.read_text() != fingerprint:
            stamp.unlink(missing_ok=True)
            export(out_dir, rel_out=str(out_dir))  # rewrites every file
            stamp.write_text(fingerprint)  # last: an export cut short is redone next time
    files = {p.name.removesuffix(".jsonl"): str(p) for p in sorted(out_dir.glob("gen_*.jsonl"))}
    return {**files, "db": str(out_dir / "databases" / f"{name}.db"), "data_dir": str(out_dir)}

