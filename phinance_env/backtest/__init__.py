"""Walk-forward backtests in sessions, with honest out-of-sample metrics and a gate."""

from phinance_env.backtest.report import BacktestReport
from phinance_env.backtest.runner import DEFAULT_THRESHOLD, MAX_TICKERS, parse_tickers, run_backtest
from phinance_env.backtest.windows import WalkForwardConfig, walk_forward

__all__ = [
    "BacktestReport",
    "DEFAULT_THRESHOLD",
    "MAX_TICKERS",
    "WalkForwardConfig",
    "parse_tickers",
    "run_backtest",
    "walk_forward",
]
