"""phinance_01's tools, one router per concern (operation_id = MCP tool name)."""
