"""Cached tool-input validation for the MCP SDK's low-level server.

The MCP SDK (1.x) validates each call's arguments with the one-shot ``jsonschema.validate``,
which first checks the tool's input schema itself against the Draft 2020-12 metaschema, on
every call, and then throws the compiled validator away. For a tool with four described
parameters that costs 3-5 ms here, more than the tool itself (the SDK's client had the same
defect and now caches its validators). AWM mounts fastapi-mcp on our app itself, so the fix
lives here: the server module gets a stand-in for its ``jsonschema`` name whose ``validate``
does the same checks and raises the same errors, but checks and compiles each schema once.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

MAX_SCHEMAS = 1_024  # tool schemas are few and long-lived; the bound only guards against churn


class CachedSchemaChecks:
    """Stands in for the ``jsonschema`` module inside ``mcp.server.lowlevel.server``."""

    def __init__(self) -> None:
        # id(schema) -> (schema, validator). Holding the schema keeps its id from being
        # reused; the identity check below makes a recycled id a miss, never a wrong hit.
        self._validators: dict[int, tuple[dict, Any]] = {}

    def validate(self, instance: Any, schema: dict, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        """``jsonschema.validate`` with the schema check and compilation done once per schema."""
        if cls is not None or args or kwargs:
            return jsonschema.validate(instance, schema, cls, *args, **kwargs)
        hit = self._validators.get(id(schema))
        if hit is None or hit[0] is not schema:
            checker = validator_for(schema)
            checker.check_schema(schema)  # a bad schema raises SchemaError every time: not cached
            if len(self._validators) >= MAX_SCHEMAS:
                self._validators.clear()
            hit = self._validators[id(schema)] = (schema, checker(schema))
        error = best_match(hit[1].iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name: str) -> Any:
        return getattr(jsonschema, name)  # ValidationError and anything else the SDK uses


def cache_mcp_input_validation() -> None:
    """Install the cache in the MCP SDK's low-level server (idempotent; a no-op on SDKs
    that no longer validate through a module-level ``jsonschema``)."""
    from mcp.server.lowlevel import server

    if isinstance(getattr(server, "jsonschema", None), type(jsonschema)):
        server.jsonschema = CachedSchemaChecks()
