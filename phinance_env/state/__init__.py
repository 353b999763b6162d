"""The state DB: tracked tickers, tool-call log, run logs and the agent's workspace."""

from phinance_env.state.db import configure_engine, create_schema, state_engine
from phinance_env.state.models import (
    Alert, BacktestFold, BacktestRun, Base, EnvMeta, Note, ProjectionRun, ToolCall, TrackedTicker,
    Watchlist, WatchlistItem,
)

__all__ = [
    "Alert", "BacktestFold", "BacktestRun", "Base", "EnvMeta", "Note", "ProjectionRun", "ToolCall",
    "TrackedTicker", "Watchlist", "WatchlistItem", "configure_engine", "create_schema",
    "state_engine",
]
