"""options_vol_01, the options and volatility desk: synthetic option chains on the shared
bar store, pricing, implied volatility, strategies, books, the implied move against our
projection and delta-hedge backtests.

Pure functions on the shared bar store: ``pricing`` gives Black-Scholes-Merton prices,
greeks and implied volatility (QuantLib), ``surface`` a synthetic, deterministic implied-vol
surface and option chains anchored to ^VIX or realised volatility, ``hedging`` the realised
move to expiry and a delta-hedge backtest on real closes. Every quote is synthetic
(``source = "synthetic"``); each module states its conventions.
"""

from functools import partial

from phinance_env.awm import registry
from phinance_env.awm.resources import resource_dir
from phinance_env.desks import Desk
from phinance_env.desks.options_vol_01.hedging import (
    HedgeBacktest, RealisedMove, delta_hedge_backtest, realised_move,
)
from phinance_env.desks.options_vol_01.pricing import (
    DAYS_PER_YEAR, KINDS, Greeks, bsm_greeks, bsm_price, forward_price, implied_vol, intrinsic_value,
    no_arbitrage_bounds, parity_gap, year_fraction,
)
from phinance_env.desks.options_vol_01.tables import Base
from phinance_env.desks.options_vol_01.templates import TEMPLATES, Truth
from phinance_env.desks.options_vol_01.tools import books, quotes
from phinance_env.desks.options_vol_01.surface import (
    DEFAULT_PARAMS, SOURCE, OptionChain, OptionQuote, SurfaceParams, VolSurface, implied_move, monthly_expiries,
    option_chain, strike_grid, vol_surface,
)

__all__ = [
    "DESK", "environment", "DAYS_PER_YEAR", "DEFAULT_PARAMS", "KINDS", "SOURCE", "Greeks", "HedgeBacktest", "OptionChain", "OptionQuote",
    "RealisedMove", "SurfaceParams", "VolSurface", "bsm_greeks", "bsm_price", "delta_hedge_backtest",
    "forward_price", "implied_move", "implied_vol", "intrinsic_value", "monthly_expiries", "no_arbitrage_bounds",
    "option_chain", "parity_gap", "realised_move", "strike_grid", "vol_surface", "year_fraction",
]


DESK = Desk(
    name="options_vol_01",
    title="Options and volatility desk",
    routers=(quotes.router, books.router),
    tables=Base.metadata,
    templates=TEMPLATES,
    scenario_file=resource_dir("scenarios") / "options_vol_01.toml",
    verifier_file=resource_dir("verifiers") / "options_vol_01.py",
    truth=Truth,
)
# The ``awm.environments`` entry point: the paths of this scenario's AWM files.
environment = partial(registry.environment, DESK.name)
