"""A faithful copy of the rule OpenEnv's AWM wrapper uses to class a failed tool call.

Copied verbatim from ``envs/agent_world_model_env/server/awm_environment.py`` of OpenEnv
(meta-pytorch/OpenEnv) at commit 685de411e5f77286b0fd94798d42c4467cf8a1bc, where the file
was last changed in 73d75731b10c2cf073f9949961afdde540e7b9bb. The wrapper joins the text
parts of an MCP result with ``isError`` set and passes that text to ``_classify_tool_error``
(``scenario_manager.py`` ``call_tool``; ``awm_environment.py`` ``_call_tool``). Kept as a
copy, not an import: openenv-core does not ship its envs/ folder. Do not edit the copied
part; if upstream changes it, copy it again and update the commit above.
"""

# ---- copied from awm_environment.py (unchanged) ----
# Reward types that map to format_error
FORMAT_ERROR_TYPES = {"tool_not_found", "invalid_args", "invalid_action"}

_TOOL_NOT_FOUND_KEYWORDS = ["not found", "unknown tool", "no tool"]
_INVALID_ARGS_KEYWORDS = [
    "invalid",
    "argument",
    "parameter",
    "required property",
    "validation error",
    "missing",
    "schema",
]
_TIMEOUT_KEYWORDS = ["timeout", "timed out"]


def _classify_tool_error(error_msg: str) -> str:
    """Classify a tool call error into a reward_type string."""
    lower = error_msg.lower()
    if any(kw in lower for kw in _TOOL_NOT_FOUND_KEYWORDS):
        return "tool_not_found"
    if any(kw in lower for kw in _INVALID_ARGS_KEYWORDS):
        return "invalid_args"
    if any(kw in lower for kw in _TIMEOUT_KEYWORDS):
        return "timeout"
    return "server_error"
# ---- end of copy ----

classify_tool_error = _classify_tool_error
