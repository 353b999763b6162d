"""Market data: the read-only bar store, its sources and the XNYS session calendar."""

from phinance_env.market.calendar import parse_date, resolve_session, xnys_sessions
from phinance_env.market.store import BarStore, Series, TickerInfo, normalize_symbol

__all__ = [
    "BarStore",
    "Series",
    "TickerInfo",
    "normalize_symbol",
    "parse_date",
    "resolve_session",
    "xnys_sessions",
]
