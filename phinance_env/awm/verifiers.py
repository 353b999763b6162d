"""Verifier sources: imported as modules by tests, packed as AWM code strings by the export.

A desk's verifier file is plain Python with one check per template in a ``CHECKS`` dict and
two entry points, ``verify_task_completion`` (code mode) and ``verify_task`` (sql mode). AWM
execs each task's code string alone and calls its first ``def verify_``, so a task's string
keeps the imports, its mode's entry point, ``CHECKS`` cut to its own template and whatever
those use (nothing else), then ``EXPECTED = ...`` holding the task's ground truth.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

Mode = Literal["code", "sql"]
ENTRY = {"code": "verify_task_completion", "sql": "verify_task"}


@lru_cache(maxsize=None)
def load_verifier(path: Path) -> ModuleType:
    """The verifier file as an importable module (what AWM execs, with EXPECTED passed in)."""
    spec = importlib.util.spec_from_file_location(f"phinance_verifiers.{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


class _Source:
    """A verifier file split into its top-level statements, with the names each defines
    and the names each uses, to cut out what one task's check needs."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.nodes = ast.parse(text).body
        self.defines: dict[str, ast.stmt] = {}
        for node in self.nodes:
            for name in _defined(node):
                self.defines[name] = node
        if "CHECKS" not in self.defines:
            raise ValueError("a verifier file needs a CHECKS = {template: check} dict")
        self.checks = _checks_dict(self.defines["CHECKS"])

    def segment(self, node: ast.stmt) -> str:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        return "\n".join(self.lines[start - 1: node.end_lineno])

    def slice(self, template: str | None, mode: Mode) -> str:
        """The statements one task needs, in file order."""
        roots = [ENTRY[mode]]
        if mode == "code":
            if template not in self.checks:
                raise KeyError(f"the verifier has no check for template {template!r}")
            roots.append(self.checks[template])
        keep: set[int] = set()
        todo = list(roots)
        while todo:
            name = todo.pop()
            node = self.defines.get(name)
            if name == "EXPECTED" or node is None or id(node) in keep or node is self.defines["CHECKS"]:
                continue
            keep.add(id(node))
            todo.extend(_used(node))
        parts = []
        for node in self.nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in keep:
                parts.append(self.segment(node))
            elif node is self.defines["CHECKS"] and mode == "code":
                parts.append(f"CHECKS = {{{template!r}: {self.checks[template]}}}")
            elif isinstance(node, ast.Expr) and node is self.nodes[0]:
                parts.append(self.segment(node))  # the module docstring
        return "\n\n\n".join(parts)


def _defined(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    return []


def _used(node: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _checks_dict(node: ast.stmt) -> dict[str, str]:
    value = getattr(node, "value", None)
    if not isinstance(value, ast.Dict) or not all(
            isinstance(k, ast.Constant) and isinstance(v, ast.Name) for k, v in zip(value.keys, value.values)):
        raise ValueError("CHECKS must be a dict literal of 'template': function_name")
    return {k.value: v.id for k, v in zip(value.keys, value.values)}


@lru_cache(maxsize=None)
def _source(path: Path, mtime_ns: int) -> _Source:
    return _Source(Path(path).read_text())


@lru_cache(maxsize=4096)
def _sliced(path: Path, mtime_ns: int, template: str | None, mode: Mode) -> str:
    return _source(path, mtime_ns).slice(template, mode)


def code_string(path: Path, expected: dict[str, Any], mode: Mode) -> str:
    """Task code string for AWM: the slice of the verifier its check needs + its EXPECTED."""
    path = Path(path)
    template = expected.get("template") if mode == "code" else None
    code = _sliced(path, path.stat().st_mtime_ns, template, mode)
    payload = json.dumps(expected, sort_keys=True)
    return code.rstrip() + f"\n\n\nEXPECTED = json.loads({payload!r})\n"


def templates_checked(path: Path) -> dict[str, str]:
    """The verifier's ``CHECKS``: template name -> check function name."""
    path = Path(path)
    return dict(_source(path, path.stat().st_mtime_ns).checks)


# What code_string appends: a string ending so has the task's truth in this one line.
TRUTH_LINE = re.compile(r"\n\n\nEXPECTED = json\.loads\(('(?:[^'\\]|\\.)*')\)\n\Z")


@lru_cache(maxsize=1024)
def _entry_point(code: str):
    """Exec a code string once, as AWM does, and return its first ``def verify_`` function."""
    entry = next(line.strip().split("(")[0][4:] for line in code.splitlines()
                 if line.strip().startswith("def verify_"))
    namespace: dict[str, Any] = {}
    exec(compile(code, "<verifier>", "exec"), namespace)  # noqa: S102 - code from our export
    return namespace[entry]


def run_code_string(code: str, mode: Mode, initial_db: str, final_db: str, final_answer: str = "") -> Any:
    """Run a verifier code string the way AWM does (its first ``def verify_`` function).

    Our export's strings differ only in their last line (the task's EXPECTED) among the
    tasks of a template: the rest is compiled once per template and the truth handed to the
    entry point's ``expected`` parameter, which is what the full string computes. A thousand
    tasks then cost 25 compiled namespaces, not a thousand. Any other string runs whole."""
    kwargs: dict[str, Any] = {}
    truth = TRUTH_LINE.search(code)
    if truth and "expected=None" in code.split("\ndef verify_", 1)[-1].split("\n", 1)[0]:
        kwargs["expected"] = json.loads(ast.literal_eval(truth.group(1)))
        code = code[:truth.start()] + "\n"
    fn = _entry_point(code)
    if mode == "code":
        return fn(initial_db_path=initial_db, final_db_path=final_db, final_answer=final_answer, **kwargs)
    return fn(initial_db_path=initial_db, final_db_path=final_db, **kwargs)
