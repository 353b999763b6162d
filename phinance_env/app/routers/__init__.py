"""One router per concern; each route's operation_id is its MCP tool name."""
