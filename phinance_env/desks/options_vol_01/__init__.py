"""options_vol_01, the options and volatility desk: its finance core (issue 14), not yet
registered as a desk (no ``DESK``, no tools, tables or templates yet).

Pure functions on the shared bar store: ``pricing`` gives Black-Scholes-Merton prices,
greeks and implied volatility (QuantLib), ``surface`` a synthetic, deterministic implied-vol
surface and option chains anchored to ^VIX or realised volatility, ``hedging`` the realised
move to expiry and a delta-hedge backtest on real closes. Every quote is synthetic
(``source = "synthetic"``); each module states its conventions.
"""

from phinance_env.desks.options_vol_01.hedging import (
    HedgeBacktest, RealisedMove, delta_hedge_backtest, realised_move,
)
from phinance_env.desks.options_vol_01.pricing import (
    DAYS_PER_YEAR, KINDS, Greeks, bsm_greeks, bsm_price, forward_price, implied_vol, intrinsic_value,
    no_arbitrage_bounds, parity_gap, year_fraction,
)
from phinance_env.desks.options_vol_01.surface import (
    DEFAULT_PARAMS, SOURCE, OptionChain, OptionQuote, SurfaceParams, VolSurface, implied_move, monthly_expiries,
    option_chain, strike_grid, vol_surface,
)

__all__ = [
    "DAYS_PER_YEAR", "DEFAULT_PARAMS", "KINDS", "SOURCE", "Greeks", "HedgeBacktest", "OptionChain", "OptionQuote",
    "RealisedMove", "SurfaceParams", "VolSurface", "bsm_greeks", "bsm_price", "delta_hedge_backtest",
    "forward_price", "implied_move", "implied_vol", "intrinsic_value", "monthly_expiries", "no_arbitrage_bounds",
    "option_chain", "parity_gap", "realised_move", "strike_grid", "vol_surface", "year_fraction",
]
