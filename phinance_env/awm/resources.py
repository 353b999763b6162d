"""Where the scenario definitions and verifier sources live.

In the repository they are the top-level ``scenarios/`` and ``verifiers/`` folders; a wheel
carries them inside the package as ``phinance_env/_scenarios`` and ``_verifiers``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


def resource_dir(kind: str) -> Path:
    for candidate in (PACKAGE / f"_{kind}", PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no {kind}/ folder next to or inside the phinance_env package")
