"""The forecast model, composed like ``arch``: drift + volatility + residual distribution.

* drift: the mean daily log return of the training window, shrunk toward zero by
  ``t^2 / (1 + t^2)`` where ``t`` is its Newey-West (HAC) t-statistic (what statsmodels'
  OLS on a constant with ``cov_type="HAC"`` gives, in numpy): an insignificant mean
  contributes little;
* volatility: a GARCH(1,1) recursion ``v[k+1] = omega + alpha e[k]^2 + beta v[k]``. EWMA
  (RiskMetrics, lambda 0.94) is the special case ``omega=0, alpha=1-lambda, beta=lambda``;
  GARCH-t fits ``omega, alpha, beta`` by maximum likelihood with ``arch``;
* residuals: filtered historical simulation. The empirical distribution of standardized
  residuals ``z = e / sqrt(v)`` (summed over ``h`` sessions and divided by ``sqrt(h)``)
  gives every quantile and probability of the ``h``-session log return
  ``R = h * mu + sigma_h * S``.

Direction probabilities, drift and cones all come from that one distribution, so they can
never contradict each other. Only returns up to the as-of session enter a fit or a forecast.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

ScaleName = Literal["ewma", "garch"]
CONE_LEVELS = (0.50, 0.75, 0.90)
# Quantile levels that bound the cones: (lower, upper) per level, in CONE_LEVELS order.
CONE_QUANTILES = tuple(q for c in CONE_LEVELS for q in ((1 - c) / 2, (1 + c) / 2))
PROB_FLOOR = 1e-4  # no direction probability is ever exactly 0 or 1
EWMA_LAMBDA = 0.94
MIN_TRAIN = 126


@dataclass(frozen=True)
class VolParams:
    """GARCH(1,1) parameters in daily log-return units (EWMA: omega = 0, alpha + beta = 1)."""

    omega: float
    alpha: float
    beta: float

    @property
    def persistence(self) -> float:
        return self.alpha + self.beta


def ewma_params(lam: float = EWMA_LAMBDA) -> VolParams:
    return VolParams(0.0, 1.0 - lam, lam)


def variance_path(resid: np.ndarray, params: VolParams) -> np.ndarray:
    """``V[k]`` = variance forecast of ``resid[k]`` made with ``resid[:k]``; length n + 1.

    The recursion starts from the mean square of the first 20 residuals.
    """
    e2 = np.asarray(resid, dtype=float) ** 2
    v0 = float(e2[:20].mean())
    # v[k+1] = beta v[k] + (1 - beta) x[k] with x = (omega + alpha e^2) / (1 - beta): an
    # exponentially weighted mean, computed as pandas' ewm(adjust=False) does (see _ewm_weights).
    x = (params.omega + params.alpha * e2) / (1.0 - params.beta)
    old, new, total = _ewm_weights(1.0 - params.beta)
    out = [v0, *x.tolist()]
    w = v0
    for i in range(1, len(out)):  # one path: a loop over Python floats beats a numpy call a step
        c = out[i]
        if w != c:  # as pandas: a constant series stays exactly constant
            w = (old * w + new * c) / total
        out[i] = w
    return np.array(out)


def variance_paths(returns: np.ndarray, mus: list[float], vols: list[VolParams]) -> np.ndarray:
    """``variance_path(returns - mu, vol)`` for each (mu, vol) pair, as rows, to the last bit.

    The recursion is sequential in time, so it runs over time once with every path as a lane
    of a numpy array: a walk-forward's folds cost one pass instead of one Python loop each.
    """
    returns = np.asarray(returns, dtype=float)
    mu = np.asarray(mus, dtype=float)
    omega, alpha, beta = (np.array([getattr(v, k) for v in vols]) for k in ("omega", "alpha", "beta"))
    x = (omega + alpha * (returns[:, None] - mu) ** 2) / (1.0 - beta)
    old, new, total = _ewm_weights(1.0 - beta)
    w = np.array([((returns[:20] - m) ** 2).mean() for m in mus])  # variance_path's start, each
    out = np.empty((len(returns) + 1, len(mus)))
    out[0] = w
    for k, c in enumerate(x, 1):
        w = np.where(w != c, (old * w + new * c) / total, w)
        out[k] = w
    return out.T


def _ewm_weights(alpha):
    """The weights of pandas' ``ewm(alpha=alpha, adjust=False).mean()`` step
    ``w = (old * w + new * x) / total``, derived as pandas derives them (through a centre of
    mass), so the paths agree with it to the last bit (the model's figures were first computed
    with pandas) without importing pandas or scipy, each ~1 s of start-up."""
    com = (1.0 - alpha) / alpha
    new = 1.0 / (1.0 + com)
    old = 1.0 - new
    return old, new, old + new


def horizon_variance(v_next: np.ndarray, h: int, params: VolParams) -> np.ndarray:
    """Variance of the sum of the next ``h`` returns given the next one's variance ``v_next``.

    GARCH mean-reverts toward ``omega / (1 - persistence)``; EWMA (persistence 1) is flat.
    """
    p = params.persistence
    if p >= 1.0 - 1e-9:
        return h * v_next
    long_run = params.omega / (1.0 - p)
    decay = (1.0 - p**h) / (1.0 - p)  # sum_{k=0}^{h-1} p^k
    return h * long_run + decay * (v_next - long_run)


def shrunk_drift(returns: np.ndarray) -> float:
    """Mean daily log return shrunk toward zero by its HAC t-statistic (see module doc)."""
    mean, se = hac_mean(returns)
    t2 = (mean / se) ** 2 if se > 0 else 0.0
    return mean * t2 / (1.0 + t2)


def hac_mean(x: np.ndarray) -> tuple[float, float]:
    """The mean of ``x`` and its Newey-West (HAC) standard error: Bartlett kernel, rule-of-thumb
    lags, no small-sample correction.

    This is statsmodels' ``OLS(x, ones).fit(cov_type="HAC")`` written out in numpy with its
    exact steps (the constant's pseudo-inverse by SVD, the sandwich ``bread @ S @ bread``),
    so ``params`` and ``bse`` agree to the last bit; statsmodels costs seconds to import.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    lags = int(np.floor(4 * (n / 100) ** (2 / 9)))  # Newey-West rule of thumb
    ones = np.ones((n, 1))
    u, s, vt = np.linalg.svd(ones, full_matrices=False)
    pinv = np.dot(vt.T, (1.0 / s)[:, None] * u.T)
    mean = np.dot(pinv, x)
    score = ones * (x - np.dot(ones, mean))[:, None]
    weights = 1 - np.arange(lags + 1) / (lags + 1.0)  # Bartlett
    S = weights[0] * np.dot(score.T, score)
    for lag in range(1, lags + 1):
        c = np.dot(score[lag:].T, score[:-lag])
        S += weights[lag] * (c + c.T)
    bread = np.dot(pinv, pinv.T)
    return float(mean[0]), float(np.sqrt(np.dot(np.dot(bread, S), bread.T)[0, 0]))


def fit_garch(resid: np.ndarray, start: VolParams | None = None) -> VolParams | None:
    """GARCH(1,1) with Student-t shocks by MLE (arch); None when it does not converge."""
    from arch import arch_model

    am = arch_model(resid * 100.0, mean="Zero", vol="GARCH", p=1, q=1, dist="t", rescale=False)
    sv = None
    if start is not None:
        sv = np.array([start.omega * 1e4, start.alpha, start.beta, 8.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = am.fit(disp="off", show_warning=False, starting_values=sv)
    if res.convergence_flag != 0:
        return None
    omega, alpha, beta = (float(res.params[k]) for k in ("omega", "alpha[1]", "beta[1]"))
    if not (omega > 0 and alpha >= 0 and beta >= 0 and alpha + beta < 1):
        return None
    return VolParams(omega / 1e4, alpha, beta)


@dataclass(frozen=True)
class Predictive:
    """The h-session log-return distribution for one or many as-of sessions (arrays)."""

    horizon: int
    drift: np.ndarray  # h * mu
    sigma: np.ndarray  # sqrt of horizon variance
    quantiles: np.ndarray  # shape (n, len(CONE_QUANTILES)), log-return units
    p_up: np.ndarray
    p_flat: np.ndarray
    p_down: np.ndarray
    flat_band: float  # log-return units

    @property
    def score(self) -> np.ndarray:
        """Direction score P(up) - P(down), the ranking used for AUC."""
        return self.p_up - self.p_down


@dataclass(frozen=True)
class FittedModel:
    """A model fitted on one training window; ``predict`` needs only the next variance."""

    scale: ScaleName
    mu: float
    vol: VolParams
    n_train: int
    v_next: float  # variance forecast of the first return after the window
    z_sums: dict[int, np.ndarray] = field(repr=False)  # sorted sum(z over h) / sqrt(h)
    warnings: tuple[str, ...] = ()

    def predict(self, v_next: np.ndarray | float, horizon: int, flat_band_bps: float) -> Predictive:
        v_next = np.atleast_1d(np.asarray(v_next, dtype=float))
        z = self.z_sums[horizon]
        drift = np.full_like(v_next, horizon * self.mu)
        sigma = np.sqrt(horizon_variance(v_next, horizon, self.vol))
        qz = np.quantile(z, CONE_QUANTILES)
        quantiles = drift[:, None] + sigma[:, None] * qz[None, :]
        band = flat_band_bps / 1e4
        cdf_grid = (np.arange(len(z)) + 0.5) / len(z)
        below_up = np.interp((band - drift) / sigma, z, cdf_grid)
        below_down = np.interp((-band - drift) / sigma, z, cdf_grid)
        probs = np.stack([1.0 - below_up, below_up - below_down, below_down], axis=1)
        probs = np.maximum(probs, PROB_FLOOR)
        probs /= probs.sum(axis=1, keepdims=True)
        return Predictive(horizon, drift, sigma, quantiles, probs[:, 0], probs[:, 1], probs[:, 2], band)


@dataclass(frozen=True)
class DriftVol:
    """The first two parts of a fit: the drift and the volatility model's parameters."""

    mu: float
    vol: VolParams
    scale: ScaleName
    warnings: tuple[str, ...] = ()


def fit(returns: np.ndarray, horizons: tuple[int, ...], scale: ScaleName = "ewma",
        previous: VolParams | None = None, refit_vol: bool = True) -> FittedModel:
    """Fit drift, volatility and residual sums on ``returns`` (daily log returns, oldest first).

    For GARCH, ``previous`` parameters warm-start the fit, or are reused as they are when
    ``refit_vol`` is False (walk-forward refits them on a slower schedule than the folds).
    """
    returns = np.asarray(returns, dtype=float)
    return fit_residuals(returns, horizons, fit_drift_vol(returns, scale, previous, refit_vol))


def fit_drift_vol(returns: np.ndarray, scale: ScaleName = "ewma", previous: VolParams | None = None,
                  refit_vol: bool = True) -> DriftVol:
    """The drift and volatility parameters of :func:`fit`."""
    returns = np.asarray(returns, dtype=float)
    if len(returns) < MIN_TRAIN:
        raise ValueError(f"need at least {MIN_TRAIN} returns to fit, got {len(returns)}")
    mu = shrunk_drift(returns)
    if scale == "garch" and previous is not None and not refit_vol:
        return DriftVol(mu, previous, scale)
    if scale == "garch":
        fitted = fit_garch(returns - mu, previous)
        if fitted is None:
            return DriftVol(mu, ewma_params(), "ewma",
                            ("GARCH-t fit did not converge to a stationary model; used EWMA(0.94)",))
        return DriftVol(mu, fitted, scale)
    return DriftVol(mu, ewma_params(), scale)


def fit_residuals(returns: np.ndarray, horizons: tuple[int, ...], dv: DriftVol,
                  v: np.ndarray | None = None) -> FittedModel:
    """The rest of :func:`fit`: standardized residual sums. ``v`` is the variance path of
    ``returns - dv.mu`` when the caller already has it."""
    resid = returns - dv.mu
    if v is None:
        v = variance_path(resid, dv.vol)
    z = resid / np.sqrt(v[:-1])
    z = z[20:]  # drop the warm-up, whose variance leans on the initial guess
    csum = np.concatenate([[0.0], np.cumsum(z)])
    z_sums = {h: np.sort((csum[h:] - csum[:-h]) / np.sqrt(h)) for h in horizons}
    return FittedModel(dv.scale, dv.mu, dv.vol, len(returns), float(v[-1]), z_sums, dv.warnings)
