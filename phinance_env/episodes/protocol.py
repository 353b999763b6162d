"""AWM's agent protocol: two meta-tools (``list_tools``, ``call_tool``), one
``<tool_call>{json}</tool_call>`` per assistant turn, the last assistant message is the
final answer. Same prompt and parsing rules as upstream ``awm agent``."""

from __future__ import annotations

import json
import re
from textwrap import dedent
from typing import Any

TOOL_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)

SYSTEM_PROMPT = dedent("""\
    # MCP Tools

    You are at a MCP environment. You need to call MCP tools to assist with the user query. At each step, you can only call one function. You have already logged in, and your user id is 1 if required for the MCP tool.

    You are provided with TWO functions within <tools></tools> XML tags:
    <tools>
    1. list_tools
        - Description: List all available MCP tools for the current environment to help you finish the user task.
        - Arguments: None
        - Output: A list of MCP environment-specific tools and their descriptions
    2. call_tool
        - Description: Call a MCP environment-specific tool
        - Arguments:
            - tool_name: str, required, the tool name in the list_tools output
            - arguments: str, required, the arguments for calling <tool_name>. You must pass a valid JSON string without any markdown fences or additional commentary. This JSON str will be parsed by the tool and executed. You can pass an empty JSON str if no arguments are required by <tool_name>.
        - Output: The result of the <tool_name> tool call
    </tools>

    You should always call list_tools function first to get the available tools, and should only call it once. You should always directly output the answer or summary at the final step instead of calling any function.

    For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
    <tool_call>
    {"name": <function-name>, "arguments": <args-json-object>}
    </tool_call>""")


class ProtocolError(ValueError):
    """The assistant's tool call could not be understood."""


def parse_tool_calls(content: str) -> list[dict[str, Any]]:
    """Every ``<tool_call>`` block as ``{"name", "arguments"}``; malformed JSON raises."""
    calls = []
    for block in TOOL_CALL_RE.findall(content or ""):
        try:
            data = json.loads(block)
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"tool call is not valid JSON: {exc.msg} (at char {exc.pos})") from None
        if isinstance(data, list) and data and isinstance(data[0], dict):
            data = data[0]
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ProtocolError('tool call must be {"name": ..., "arguments": ...}')
        calls.append({"name": data["name"], "arguments": data.get("arguments")})
    return calls


def call_tool_arguments(arguments: Any) -> tuple[str, dict[str, Any]]:
    """``call_tool``'s arguments -> (tool name, tool arguments); JSON strings are parsed."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            raise ProtocolError("call_tool arguments are not valid JSON") from None
    if not isinstance(arguments, dict) or not isinstance(arguments.get("tool_name"), str):
        raise ProtocolError('call_tool needs {"tool_name": str, "arguments": JSON string}')
    name = arguments["tool_name"].removeprefix("mcp_tool_")
    inner = arguments.get("arguments") or {}
    if isinstance(inner, str):
        try:
            inner = json.loads(inner) if inner.strip() else {}
        except json.JSONDecodeError:
            raise ProtocolError(f"arguments for {name} are not valid JSON") from None
    if not isinstance(inner, dict):
        raise ProtocolError(f"arguments for {name} must be a JSON object")
    return name, inner


class ToolCatalog:
    """The environment's tools as the agent sees them: names, and the ``list_tools`` answer
    (name, description and input schema of every tool, as JSON)."""

    def __init__(self, tools: list[dict[str, Any]]):
        self.tools = tools
        self.names = frozenset(t["name"] for t in tools)
        self.text = json.dumps(tools, ensure_ascii=False)

    @classmethod
    async def fetch(cls, session) -> "ToolCatalog":
        listed = (await session.list_tools()).tools
        return cls([{"name": t.name, "description": t.description or "", "input_schema": t.inputSchema} for t in listed])


def tool_call_message(tool: str, arguments: dict[str, Any]) -> str:
    """An assistant turn calling ``tool`` in the protocol's format."""
    call = {"name": "call_tool", "arguments": {"tool_name": tool, "arguments": json.dumps(arguments)}}
    return f"<tool_call>\n{json.dumps(call)}\n</tool_call>"


LIST_TOOLS_MESSAGE = '<tool_call>\n{"name": "list_tools", "arguments": null}\n</tool_call>'
