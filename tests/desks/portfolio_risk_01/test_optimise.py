"""Optimiser weights checked by their defining property: no feasible portfolio among many
random ones beats them, they match an independent SLSQP solve, and they respect the bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from phinance_env.desks.portfolio_risk_01 import optimise_weights, window_returns
from phinance_env.errors import BadRange, NotEnoughData

ASSETS = ["^GSPC", "^IXIC", "NOVA", "BNKA", "PTRX", "MEDI"]
AS_OF = "2018-06-29"


@pytest.fixture(scope="module")
def returns(closes):
    return window_returns(closes, ASSETS, AS_OF)[0]


def random_feasible(n: int, lo: float, hi: float, count: int, seed: int = 0) -> np.ndarray:
    """Feasible long-only weights in [lo, hi] summing to 1, by rejection from a Dirichlet."""
    rng = np.random.default_rng(seed)
    out = []
    while sum(len(x) for x in out) < count:
        w = lo + (1 - n * lo) * rng.dirichlet(np.full(n, 0.7), size=20_000)
        out.append(w[np.all(w <= hi, axis=1)])
    return np.concatenate(out)[:count]


def ann_vol(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (x @ w.T).std(axis=0, ddof=1) * math.sqrt(252)


def ann_sharpe(x: np.ndarray, w: np.ndarray, rf: float) -> np.ndarray:
    r = x @ w.T
    return (r.mean(axis=0) * 252 - rf) / (r.std(axis=0, ddof=1) * math.sqrt(252))


def slsqp(x: np.ndarray, lo: float, hi: float, objective) -> np.ndarray:
    n = x.shape[1]
    res = minimize(objective, np.full(n, 1 / n), method="SLSQP", bounds=[(lo, hi)] * n,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                   options={"ftol": 1e-15, "maxiter": 1000})
    assert res.success, res.message
    return res.x


def check_feasible(w: dict[str, float], lo: float, hi: float) -> np.ndarray:
    arr = np.array([w[t] for t in ASSETS])
    assert math.fsum(arr) == pytest.approx(1.0, abs=1e-9)
    assert np.all(arr >= lo - 1e-9) and np.all(arr <= hi + 1e-9)
    return arr


@pytest.mark.parametrize("lo,hi", [(0.0, 1.0), (0.05, 0.4), (0.0, 0.2)])
def test_min_volatility_beats_every_random_feasible_portfolio(returns, lo, hi):
    x = returns.to_numpy()
    res = optimise_weights(returns, "min_volatility", lo, hi)
    w = check_feasible(res.weights, lo, hi)
    assert res.volatility == pytest.approx(float(ann_vol(x, w[None])[0]), rel=1e-12)
    others = ann_vol(x, random_feasible(len(ASSETS), lo, hi, 5_000))
    assert res.volatility <= others.min() + 1e-12
    ref = slsqp(x, lo, hi, lambda v: float(v @ np.cov(x, rowvar=False) @ v))
    assert res.volatility == pytest.approx(float(ann_vol(x, ref[None])[0]), rel=1e-5)
    np.testing.assert_allclose(w, ref, atol=2e-3)


@pytest.mark.parametrize("lo,hi,rf", [(0.0, 1.0, 0.0), (0.05, 0.4, 0.0), (0.0, 0.3, 0.02)])
def test_max_sharpe_beats_every_random_feasible_portfolio(returns, lo, hi, rf):
    x = returns.to_numpy()
    assert np.any(x.mean(axis=0) * 252 > rf)  # the window admits a maximum-Sharpe portfolio
    res = optimise_weights(returns, "max_sharpe", lo, hi, risk_free_rate=rf)
    w = check_feasible(res.weights, lo, hi)
    assert res.sharpe == pytest.approx(float(ann_sharpe(x, w[None], rf)[0]), rel=1e-12)
    others = ann_sharpe(x, random_feasible(len(ASSETS), lo, hi, 5_000, seed=1), rf)
    assert res.sharpe >= others.max() - 1e-9
    ref = slsqp(x, lo, hi, lambda v: -float(ann_sharpe(x, v[None], rf)[0]))
    assert res.sharpe == pytest.approx(float(ann_sharpe(x, ref[None], rf)[0]), rel=1e-5)
    assert res.expected_return == pytest.approx(float((x @ w).mean() * 252), rel=1e-12)


def test_binding_bounds_hold_exactly(returns):
    # Min-vol without bounds puts more than 30% somewhere; capped at 0.3 the cap binds.
    free = optimise_weights(returns, "min_volatility")
    assert max(free.weights.values()) > 0.3
    capped = optimise_weights(returns, "min_volatility", 0.0, 0.3)
    w = check_feasible(capped.weights, 0.0, 0.3)
    assert max(w) == pytest.approx(0.3, abs=1e-12) and capped.volatility >= free.volatility


def test_one_ticker_gets_all_the_weight(returns):
    res = optimise_weights(returns[["NOVA"]], "min_volatility")
    assert res.weights == {"NOVA": 1.0}
    assert res.volatility == pytest.approx(returns["NOVA"].std() * math.sqrt(252), rel=1e-12)


def test_bad_requests(returns):
    with pytest.raises(BadRange, match="objective must be one of min_volatility, max_sharpe"):
        optimise_weights(returns, "max_return")
    with pytest.raises(BadRange, match=r"cannot sum to 1 within \[0.2, 1\]"):
        optimise_weights(returns, "min_volatility", 0.2, 1.0)  # 6 x 0.2 = 1.2 > 1
    with pytest.raises(BadRange, match="cannot sum to 1"):
        optimise_weights(returns, "min_volatility", 0.0, 0.1)  # 6 x 0.1 < 1
    with pytest.raises(BadRange, match="0 <= min_weight <= max_weight <= 1"):
        optimise_weights(returns, "min_volatility", 0.5, 0.4)
    with pytest.raises(BadRange, match="0 <= min_weight <= max_weight <= 1"):
        optimise_weights(returns, "min_volatility", -0.1, 1.0)
    losing = returns - returns.mean() - 0.001  # every mean below zero
    with pytest.raises(NotEnoughData, match="maximum Sharpe portfolio is undefined"):
        optimise_weights(losing, "max_sharpe")
    with pytest.raises(NotEnoughData, match="at least 2 sessions"):
        optimise_weights(returns.iloc[:1], "min_volatility")
