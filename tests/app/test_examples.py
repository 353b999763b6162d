"""What the agent reads about each tool: the descriptions fastapi-mcp builds from our OpenAPI
schema (as AWM mounts it, with default options) end in real example answers, never in
placeholders, and the examples stay true: replayed in order, every call answers exactly so.

After a deliberate change of an answer, refresh the examples with
``PHINANCE_UPDATE_EXAMPLES=1 pytest tests/app/test_examples.py``.
"""

import json
import os
import re
import sys
from pathlib import Path

import pytest

from phinance_env.app.client import AppClient
from tests.support import fresh_db, mcp_list_tools, phinance_app, served

DESKS = ("phinance_01", "portfolio_risk_01", "options_vol_01")
PLACEHOLDERS = re.compile(r'"(Symbol|Ticker|Summary|Start|End|Name|string)"|: \{\}')


def mcp_tools(app) -> dict:
    """The tools exactly as fastapi-mcp converts the app's OpenAPI schema (no server needed)."""
    from fastapi_mcp.openapi.convert import convert_openapi_to_mcp_tools

    return {t.name: t for t in convert_openapi_to_mcp_tools(app.openapi())[0]}


def example_in(description: str):
    return json.loads(description.split("**Example Response:**\n```json\n", 1)[1].split("\n```", 1)[0])


def examples_file(scenario: str) -> Path:
    """A desk's examples: ``tools/examples.json`` beside its routers."""
    from phinance_env.desks import get_desk

    return Path(sys.modules[get_desk(scenario).routers[0].routes[0].endpoint.__module__].__file__).with_name("examples.json")


def without_nulls(value):
    """What the OpenAPI example keeps of an answer (FastAPI leaves null fields out of it)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


@pytest.mark.parametrize("scenario", DESKS)
def test_examples_are_real_answers_replayed_in_order(exported, tmp_path, scenario):
    path = examples_file(scenario)
    examples = json.loads(path.read_text())
    client = AppClient(phinance_app(fresh_db(exported / "databases" / f"{scenario}.db", tmp_path), mcp=False, scenario=scenario))
    assert sorted(e["tool"] for e in examples) == client.tools  # one per tool
    fresh = [{**e, "answer": client.call(e["tool"], e["arguments"])} for e in examples]
    if os.environ.get("PHINANCE_UPDATE_EXAMPLES"):
        path.write_text(json.dumps(fresh, indent=1, ensure_ascii=False) + "\n")
        examples = fresh
    for old, new in zip(examples, fresh):
        assert old["answer"] == new["answer"], (
            f"{old['tool']}'s example is stale; rerun with PHINANCE_UPDATE_EXAMPLES=1:\n{json.dumps(new['answer'])[:3000]}")


@pytest.mark.parametrize("scenario", DESKS)
def test_every_description_ends_in_its_real_example_without_placeholders(tmp_path, scenario):
    from sqlalchemy import create_engine

    from phinance_env.app import create_app

    examples = {e["tool"]: e for e in json.loads(examples_file(scenario).read_text())}
    tools = mcp_tools(create_app(create_engine("sqlite://"), scenario))
    assert set(tools) == set(examples)
    for name, tool in tools.items():
        assert example_in(tool.description) == without_nulls(examples[name]["answer"]), name
        assert not PLACEHOLDERS.search(tool.description), (name, PLACEHOLDERS.search(tool.description))
        assert f"the example is the real answer to {name}(" in tool.description
    if scenario != "phinance_01":
        return
    packet = example_in(tools["get_projection"].description)["packet"]
    assert [c["level"] for c in packet["horizons"][0]["cones"]] == [0.5, 0.75, 0.9]
    backtest = example_in(tools["run_backtest"].description)
    assert {"pooled_auc", "auc_ci95", "mean_oos_auc", "coverage_50", "coverage_75", "coverage_90"} <= set(backtest)


def test_mcp_client_sees_the_packet_fields_and_the_rules(exported, tmp_path):
    """A real MCP client, as the agent (or the MCP Inspector) lists the tools."""
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path)
    with served(phinance_app(db)) as url:
        tools = {t.name: t for t in mcp_list_tools(f"{url}/mcp")}
    assert len(tools) == 22
    projection = tools["get_projection"].description
    for words in ("cones", "lower_bps", "upper_bps", "direction", "drift_bps", "sigma_bps", "level",
                  "the likeliest of the three", "HALF-widths", '"p75_bps"'):
        assert words in projection, words
    assert '"packet": {}' not in projection and '"packet": {\n' in projection
    assert '"packet": {\n' in tools["get_projection_run"].description
    assert "ticker" in tools["delete_alert"].inputSchema["properties"]
    assert "sector" in tools["list_tickers"].inputSchema["properties"]
    assert "alerts_remaining" in tools["untrack_ticker"].description
    assert "last N sessions ending on date D" in tools["get_price_history"].description
    for tool in tools.values():
        assert "**Example Response:**" in tool.description and not PLACEHOLDERS.search(tool.description)


def test_openapi_schema_types_the_packet():
    from sqlalchemy import create_engine

    from phinance_env.app import create_app

    schemas = create_app(create_engine("sqlite://"), "phinance_01").openapi()["components"]["schemas"]
    assert schemas["ProjectionResult"]["properties"]["packet"]["$ref"].endswith("/ProjectionPacket")
    assert schemas["ProjectionRunDetail"]["properties"]["packet"]["$ref"].endswith("/ProjectionPacket")
    assert "HALF the width" in schemas["PhinanceV1"]["properties"]["p75_bps"]["description"]
    assert "likeliest" in schemas["Direction"]["properties"]["call"]["description"]
    assert set(schemas["Cone"]["properties"]) == {"level", "lower_bps", "upper_bps", "lower_price", "upper_price"}
