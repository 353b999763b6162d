"""Security properties: loopback by default, no file paths from users, no SQL from strings."""

import re
from pathlib import Path

from phinance_env.awm.export import env_row

PACKAGE = Path(__file__).resolve().parents[2] / "phinance_env"


def test_no_tool_takes_a_file_path(exported):
    from tests.support import phinance_app

    spec = phinance_app(exported / "databases" / "phinance_01.db", mcp=False).openapi()
    names = set()
    for methods in spec["paths"].values():
        for op in methods.values():
            names |= {p["name"] for p in op.get("parameters", [])}
    for schema in spec["components"]["schemas"].values():
        names |= set(schema.get("properties", {}))
    risky = {"path", "file", "filename", "dir", "directory", "url", "uri"}
    assert not {n for n in names if set(n.lower().split("_")) & risky}, names


def test_no_sql_is_built_from_strings_in_the_app_and_state():
    pattern = re.compile(r"(execute|exec_driver_sql|text)\(\s*f[\"']")
    offenders = [f"{p}:{i}" for p in list((PACKAGE / "app").rglob("*.py")) + list((PACKAGE / "state").rglob("*.py"))
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    # The one f-string is a PRAGMA with a value checked against a fixed list.
    assert all("db.py" in o for o in offenders), offenders


def test_servers_bind_loopback_by_default():
    import inspect

    from phinance_env.app import serve
    from phinance_env.cli import awm

    assert inspect.signature(serve.serve).parameters["host"].default == "127.0.0.1"
    assert "127.0.0.1" in inspect.getsource(awm.serve)
    assert 'host="127.0.0.1"' in env_row("phinance_01")["full_code"]
