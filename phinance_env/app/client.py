"""Call the app's tools in-process by name (no sockets): seeding, oracles, fast episodes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


class ToolError(Exception):
    """A tool answered with an error status (the MCP equivalent is ``isError: true``)."""

    def __init__(self, tool: str, status: int, detail: str):
        super().__init__(f"{tool} -> {status}: {detail}")
        self.tool, self.status, self.detail = tool, status, detail


class AppClient:
    """``call(tool, arguments)`` routes to the operation whose ``operation_id`` is ``tool``,
    sending arguments as query parameters (GET/DELETE) or a JSON body (POST), as
    fastapi-mcp does."""

    def __init__(self, app: FastAPI):
        from fastapi.testclient import TestClient

        self.http = TestClient(app, raise_server_exceptions=True)
        # Entered once: a TestClient used outside its context starts a thread and an event
        # loop for every request (~25 ms), which dominated seeding and the generation gates.
        self.http.__enter__()
        self.routes = {r.operation_id: (next(iter(r.methods)), r.path)
                       for r in app.routes if getattr(r, "operation_id", None)}

    @property
    def tools(self) -> list[str]:
        return sorted(self.routes)

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        if tool not in self.routes:
            raise ToolError(tool, 404, f"unknown tool {tool!r}; tools: {', '.join(self.tools)}")
        method, path = self.routes[tool]
        args = {k: v for k, v in (arguments or {}).items() if v is not None}
        if method == "POST":
            response = self.http.post(path, json=args)
        else:
            response = self.http.request(method, path, params=args)
        body = response.json()
        if response.status_code >= 400:
            raise ToolError(tool, response.status_code, body.get("detail", str(body)) if isinstance(body, dict) else str(body))
        return body

    def close(self) -> None:
        self.http.__exit__(None, None, None)
