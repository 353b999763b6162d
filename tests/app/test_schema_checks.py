"""The cached MCP input validation checks what the SDK's one-shot jsonschema.validate checks,
raises the same errors, and checks each schema against the metaschema only once."""

from __future__ import annotations

import asyncio

import jsonschema
import pytest
from fastapi_mcp import FastApiMCP
from sqlalchemy import create_engine

from phinance_env.app import create_app
from phinance_env.app.schema_checks import CachedSchemaChecks


@pytest.fixture(scope="module")
def tools():
    app = create_app(create_engine("sqlite://"), "phinance_01")
    return {t.name: t.inputSchema for t in FastApiMCP(app).tools}


def outcome(validate, instance, schema):
    try:
        validate(instance=instance, schema=schema)
    except jsonschema.ValidationError as exc:
        return type(exc).__name__, exc.message, list(exc.path)
    return None


INSTANCES = [
    {},
    {"ticker": "^GSPC"},
    {"ticker": 7},
    {"ticker": "^GSPC", "as_of_date": None},
    {"ticker": "^GSPC", "model": "arima"},
    {"tickers": "^GSPC,^IXIC", "start": "2016-01-04", "end": 20181231},
    {"name": "x" * 500, "symbols": ["A", "B"]},
    {"ticker": "NOVA", "metric": "p_up", "operator": ">", "threshold": "high"},
    {"unexpected": {"nested": [1, 2, {"deep": None}]}},
]


def test_same_verdicts_and_messages_as_jsonschema_validate(tools):
    cached = CachedSchemaChecks()
    compared = 0
    for schema in tools.values():
        for instance in INSTANCES:
            assert outcome(cached.validate, instance, schema) == outcome(jsonschema.validate, instance, schema)
            compared += 1
    assert compared == len(tools) * len(INSTANCES)
    assert any(outcome(jsonschema.validate, i, s) for s in tools.values() for i in INSTANCES), "no bad input tried"


def test_each_schema_is_checked_once(tools, monkeypatch):
    checked = []
    real = jsonschema.Draft202012Validator.check_schema
    monkeypatch.setattr(jsonschema.Draft202012Validator, "check_schema",
                        classmethod(lambda cls, schema, **kw: (checked.append(id(schema)), real.__func__(cls, schema, **kw))))
    cached = CachedSchemaChecks()
    schema = tools["get_projection"]
    for _ in range(5):
        cached.validate(instance={"ticker": "^GSPC"}, schema=schema)
    assert checked == [id(schema)]
    copy = dict(schema)  # an equal but new schema object is checked on its own
    cached.validate(instance={"ticker": "^GSPC"}, schema=copy)
    assert checked == [id(schema), id(copy)]


def test_an_invalid_schema_is_rejected_every_time():
    cached = CachedSchemaChecks()
    bad = {"type": "object", "properties": {"x": {"type": "no-such-type"}}}
    for _ in range(2):
        with pytest.raises(jsonschema.SchemaError):
            cached.validate(instance={"x": 1}, schema=bad)


def test_installed_in_the_sdk_server_and_bad_input_still_refused(tools):
    from mcp.server.lowlevel import server
    from mcp.shared.memory import create_connected_server_and_client_session

    assert isinstance(server.jsonschema, CachedSchemaChecks)
    create_app(create_engine("sqlite://"), "phinance_01")  # installing twice keeps one cache
    assert isinstance(server.jsonschema, CachedSchemaChecks)

    mcp = FastApiMCP(create_app(create_engine("sqlite://"), "phinance_01"))

    async def call():
        async with create_connected_server_and_client_session(mcp.server) as session:
            await session.list_tools()
            return await session.call_tool("get_projection", {"ticker": 7})

    result = asyncio.run(call())
    assert result.isError
    assert "Input validation error" in result.content[0].text and "7" in result.content[0].text
