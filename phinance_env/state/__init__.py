"""The state DB: engines (rollback journal, busy timeout) and the tables every scenario has
(env metadata and the tool-call log); each desk brings its own tables besides these."""

from phinance_env.state.db import configure_engine, create_schema, routed_engine, state_engine
from phinance_env.state.models import CoreBase, EnvMeta, ToolCall

__all__ = ["CoreBase", "EnvMeta", "ToolCall", "configure_engine", "create_schema", "routed_engine", "state_engine"]
