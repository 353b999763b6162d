"""Verifier sources: imported as modules by tests, packed as AWM code strings by the export.

The code string is the verifier file itself, minus the other mode's entry point (AWM calls
the first ``def verify_`` it finds), plus ``EXPECTED = ...`` holding the task's ground truth.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from functools import lru_cache
from types import ModuleType
from typing import Any, Literal

from phinance_env.awm.resources import resource_dir

Mode = Literal["code", "sql"]
ENTRY = {"code": "verify_task_completion", "sql": "verify_task"}


def verifier_source(name: str) -> str:
    return (resource_dir("verifiers") / f"{name}.py").read_text()


@lru_cache(maxsize=None)
def load_verifier(name: str) -> ModuleType:
    """The verifier file as an importable module (what AWM execs, with EXPECTED passed in)."""
    path = resource_dir("verifiers") / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"phinance_verifiers.{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def code_string(name: str, expected: dict[str, Any], mode: Mode) -> str:
    source = verifier_source(name)
    lines = source.splitlines()
    other = ENTRY["sql" if mode == "code" else "code"]
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == other:
            start = node.lineno - 1 - len(node.decorator_list)
            del lines[start: node.end_lineno]
            break
    payload = json.dumps(expected, sort_keys=True)
    return "\n".join(lines).rstrip() + f"\n\n\nEXPECTED = json.loads({payload!r})\n"


@lru_cache(maxsize=1024)
def _entry_point(code: str):
    """Exec a code string once, as AWM does, and return its first ``def verify_`` function."""
    entry = next(line.strip().split("(")[0][4:] for line in code.splitlines()
                 if line.strip().startswith("def verify_"))
    namespace: dict[str, Any] = {}
    exec(compile(code, "<verifier>", "exec"), namespace)  # noqa: S102 - code from our export
    return namespace[entry]


def run_code_string(code: str, mode: Mode, initial_db: str, final_db: str, final_answer: str = "") -> Any:
    """Run a verifier code string the way AWM does (its first ``def verify_`` function)."""
    fn = _entry_point(code)
    if mode == "code":
        return fn(initial_db_path=initial_db, final_db_path=final_db, final_answer=final_answer)
    return fn(initial_db_path=initial_db, final_db_path=final_db)
