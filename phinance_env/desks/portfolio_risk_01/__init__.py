"""portfolio_risk_01, the risk desk: long-only USD books traded at the close, a trade
blotter, risk limits enforced before each trade, and risk figures a risk manager can trust.

The finance core is pure functions over a book (shares by ticker, cash) and the bar store's
closes: ``book`` marks to market, ``risk`` gives 1-session VaR/ES (historical and
parametric), volatility, beta, drawdown and Euler contributions, ``performance`` the
time-weighted return and P&L by position, ``optimise`` minimum-volatility and maximum-Sharpe
weights (skfolio). Each module states its conventions. On top: ``ledger`` (the blotter's
holdings over time), ``analysis`` (limits, stress windows, rebalance orders), ``tools``
(the MCP tools), ``templates`` (tasks and their ground truth).
"""

from functools import partial

from phinance_env.awm import registry
from phinance_env.awm.resources import resource_dir
from phinance_env.desks import Desk
from phinance_env.desks.portfolio_risk_01.book import Book, Mark, load_closes, mark_to_market
from phinance_env.desks.portfolio_risk_01.optimise import OptimisedWeights, optimise_weights
from phinance_env.desks.portfolio_risk_01.performance import Flow, Performance, Trade, apply_trades, performance
from phinance_env.desks.portfolio_risk_01.risk import (
    CONFIDENCES, DEFAULT_WINDOW, RiskReport, historical_var_es, parametric_var_es, risk_report, window_returns,
)
from phinance_env.desks.portfolio_risk_01.tables import Base
from phinance_env.desks.portfolio_risk_01.templates import TEMPLATES, Truth
from phinance_env.desks.portfolio_risk_01.tools import analytics, books

DESK = Desk(
    name="portfolio_risk_01",
    title="Portfolio and risk desk",
    routers=(books.router, analytics.router),
    tables=Base.metadata,
    templates=TEMPLATES,
    scenario_file=resource_dir("scenarios") / "portfolio_risk_01.toml",
    verifier_file=resource_dir("verifiers") / "portfolio_risk_01.py",
    truth=Truth,
)

# The ``awm.environments`` entry point: the paths of this scenario's AWM files.
environment = partial(registry.environment, DESK.name)

__all__ = [
    "CONFIDENCES", "DEFAULT_WINDOW", "DESK", "Book", "Flow", "Mark", "OptimisedWeights", "Performance", "RiskReport",
    "Trade", "apply_trades", "environment", "historical_var_es", "load_closes", "mark_to_market", "optimise_weights",
    "parametric_var_es", "performance", "risk_report", "window_returns",
]
