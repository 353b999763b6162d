"""portfolio_risk_01, the risk desk (issue 13): its finance core so far.

Pure functions over a book (shares by ticker, cash) and the bar store's closes:
``book`` marks to market, ``risk`` gives 1-session VaR/ES (historical and parametric),
volatility, beta, drawdown and Euler contributions, ``performance`` the time-weighted
return and P&L by position, ``optimise`` minimum-volatility and maximum-Sharpe weights.
Each module states its conventions. Not yet a registered desk: it defines no ``DESK``.
"""

from phinance_env.desks.portfolio_risk_01.book import Book, Mark, load_closes, mark_to_market
from phinance_env.desks.portfolio_risk_01.optimise import OptimisedWeights, optimise_weights
from phinance_env.desks.portfolio_risk_01.performance import Flow, Performance, Trade, apply_trades, performance
from phinance_env.desks.portfolio_risk_01.risk import (
    CONFIDENCES, DEFAULT_WINDOW, RiskReport, historical_var_es, parametric_var_es, risk_report, window_returns,
)

__all__ = [
    "CONFIDENCES", "DEFAULT_WINDOW", "Book", "Flow", "Mark", "OptimisedWeights", "Performance", "RiskReport",
    "Trade", "apply_trades", "historical_var_es", "load_closes", "mark_to_market", "optimise_weights",
    "parametric_var_es", "performance", "risk_report", "window_returns",
]
