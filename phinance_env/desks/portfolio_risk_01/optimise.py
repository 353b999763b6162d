"""Optimiser weights for a rebalance: minimum volatility or maximum Sharpe under bounds.

The optimisation is skfolio's ``MeanRisk`` (variance as the risk measure, empirical mean
and covariance of the window's daily returns as the prior, the convex solver Clarabel).

Why skfolio. Four libraries were tried beside the project's pins (uv, Python 3.12):

* **skfolio** 1.12 (released monthly, BSD, scikit-learn API): resolves with no pinned
  version moved and adds cvxpy-base, clarabel, qdldl, sparsediffpy and plotly (scikit-learn
  was already here through AWM's agent). Bounds, budget and the max-Sharpe transform are
  built in, and it refuses an infeasible max-Sharpe with a clear message.
* **PyPortfolioOpt** 1.6: resolves too, but adds ten packages (full cvxpy with OSQP, SCS,
  HiGHS and setuptools), and 1.6.0 fails to import in a clean venv (it needs ``packaging``
  without declaring it).
* **riskfolio-lib** 7.4: pulls vectorbt, numba/llvmlite, jupyter and networkx: heavy.
* **empyrical-reloaded** 0.7: light, but performance statistics only, no optimiser; the
  desk's risk figures are a few lines of numpy, each tested against an independent
  computation, so it would add nothing.

skfolio costs about a second to import, so it is imported inside :func:`optimise_weights`.

Conventions: long-only weights that sum to 1 (fully invested in the given tickers),
``min_weight <= w_i <= max_weight``; statistics are annualised with 252 sessions
(mean x 252, sigma x sqrt(252)); ``risk_free_rate`` is annual (default 0) and enters the
daily problem as ``rf / 252``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from phinance_env.desks.portfolio_risk_01.risk import TRADING_DAYS
from phinance_env.errors import BadRange, NotEnoughData

if TYPE_CHECKING:
    import pandas as pd

Objective = Literal["min_volatility", "max_sharpe"]
OBJECTIVES: tuple[str, ...] = ("min_volatility", "max_sharpe")
BOUND_TOLERANCE = 1e-9
SNAP = 1e-5


@dataclass(frozen=True)
class OptimisedWeights:
    objective: str
    weights: dict[str, float]
    expected_return: float
    """Annualised: mean daily return of the weighted book x 252."""
    volatility: float
    """Annualised: sample sd (ddof=1) of the weighted book's daily returns x sqrt(252)."""
    sharpe: float
    """(expected_return - risk_free_rate) / volatility."""
    min_weight: float
    max_weight: float
    risk_free_rate: float
    n_sessions: int


def check_bounds(n: int, min_weight: float, max_weight: float) -> tuple[float, float]:
    """Long-only bounds that admit a fully invested portfolio of ``n`` tickers."""
    lo, hi = float(min_weight), float(max_weight)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo <= hi <= 1.0):
        raise BadRange(f"weight bounds must satisfy 0 <= min_weight <= max_weight <= 1, got "
                       f"min_weight={min_weight!r}, max_weight={max_weight!r}")
    if n * lo > 1.0 + BOUND_TOLERANCE or n * hi < 1.0 - BOUND_TOLERANCE:
        raise BadRange(f"with {n} tickers the weights cannot sum to 1 within [{lo:g}, {hi:g}]: "
                       f"need min_weight <= {1 / n:.4g} <= max_weight")
    return lo, hi


def optimise_weights(
    returns: "pd.DataFrame", objective: Objective = "min_volatility", min_weight: float = 0.0,
    max_weight: float = 1.0, risk_free_rate: float = 0.0,
) -> OptimisedWeights:
    """Weights over ``returns``' columns (daily simple returns, one row per session)."""
    if objective not in OBJECTIVES:
        raise BadRange(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    tickers = [str(c) for c in returns.columns]
    if not tickers:
        raise NotEnoughData("no tickers to optimise over")
    if len(set(tickers)) != len(tickers):
        raise BadRange("a ticker appears twice among the returns' columns")
    x = returns.to_numpy(dtype=float)
    if x.shape[0] < 2 or not np.all(np.isfinite(x)):
        raise NotEnoughData(f"need at least 2 sessions of finite returns, got {x.shape[0]} rows")
    lo, hi = check_bounds(len(tickers), min_weight, max_weight)
    rf = float(risk_free_rate)
    if not math.isfinite(rf):
        raise BadRange(f"risk_free_rate must be a finite annual rate, got {risk_free_rate!r}")
    mean = x.mean(axis=0)
    if objective == "max_sharpe" and not np.any(mean > rf / TRADING_DAYS):
        raise NotEnoughData(
            f"no ticker's mean return in the window beats the risk-free rate {rf:g}/yr, so the "
            "maximum Sharpe portfolio is undefined; use min_volatility or another window")

    if len(tickers) == 1:
        w = np.ones(1)
    else:
        w = _solve(returns, objective, lo, hi, rf / TRADING_DAYS)
    rp = x @ w
    ann_ret = float(rp.mean()) * TRADING_DAYS
    ann_vol = float(rp.std(ddof=1)) * math.sqrt(TRADING_DAYS)
    return OptimisedWeights(
        objective=objective, weights=dict(zip(tickers, map(float, w))), expected_return=ann_ret,
        volatility=ann_vol, sharpe=(ann_ret - rf) / ann_vol if ann_vol > 0 else math.nan,
        min_weight=lo, max_weight=hi, risk_free_rate=rf, n_sessions=int(x.shape[0]),
    )


def _solve(returns: "pd.DataFrame", objective: str, lo: float, hi: float, rf_daily: float) -> np.ndarray:
    import warnings

    from skfolio import RiskMeasure
    from skfolio.optimization import MeanRisk, ObjectiveFunction

    model = MeanRisk(
        objective_function=(ObjectiveFunction.MINIMIZE_RISK if objective == "min_volatility"
                            else ObjectiveFunction.MAXIMIZE_RATIO),
        risk_measure=RiskMeasure.VARIANCE, min_weights=lo, max_weights=hi, budget=1.0,
        risk_free_rate=rf_daily, raise_on_failure=True,
    )
    frame = returns.copy()
    frame.columns = [str(c) for c in frame.columns]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(frame)
    except ValueError as exc:  # skfolio's own refusals (infeasible or failed solve)
        raise NotEnoughData(f"the optimiser found no solution: {exc}") from None
    w = np.asarray(model.weights_, dtype=float)
    # The interior-point solver stops within ~1e-6 of a bound it hits: put such weights on
    # the bound exactly (a cap of 0.3 reads 0.3) and spread the remainder over the others.
    w = np.clip(w, lo, hi)
    w[np.abs(w - lo) < SNAP] = lo
    w[np.abs(w - hi) < SNAP] = hi
    free = (w > lo) & (w < hi)
    gap = 1.0 - w.sum()
    if free.any():
        w[free] += gap / free.sum()
    elif abs(gap) > 1e-6:
        raise NotEnoughData("the optimiser's weights do not sum to 1 within the bounds")
    return w


__all__ = ["OBJECTIVES", "Objective", "OptimisedWeights", "check_bounds", "optimise_weights"]
