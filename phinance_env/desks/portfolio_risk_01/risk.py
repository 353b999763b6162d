"""One-session risk of a book: VaR and expected shortfall, volatility, beta, drawdown and
per-position contributions, all from one window of daily returns.

Conventions, stated once (the tools quote them in every answer):

* **Returns.** Simple daily returns of each ticker, ``r_t = close_t / close_{t-1} - 1``,
  over the ``window`` sessions ending at ``as_of`` (so ``window + 1`` closes; default 250).
  The book's return is that of its positions *as held at the close of as_of*:
  ``r_p,t = sum_i w_i r_i,t`` with ``w_i`` = position value / total value at as_of; cash
  earns 0. Every figure below is a statistic of this one series (or its covariance).
* **Horizon** one session. **Losses are positive**: ``VaR = -q``. A VaR below zero means
  even the tail of the window is a gain; it is reported as it is, never clipped. VaR and ES
  are fractions of the book's total value at as_of; ``*_usd`` are those times that value.
* **Historical VaR** at confidence ``a``: the empirical quantile of the window's losses
  ``L = -r_p`` by the inverted CDF (Hyndman-Fan type 1, numpy ``method="inverted_cdf"``):
  the ``k``-th smallest loss with ``k = ceil(n a)``. For n = 250 that is the 13th largest
  loss at 95% and the 3rd largest at 99%: always a loss that happened.
* **Historical ES**: the mean of the losses from that one up, i.e. the ``n - k + 1``
  largest losses (13 at 95%, 3 at 99% for n = 250), so ES >= VaR.
* **Parametric (Gaussian)**: ``r_p ~ N(mu, sigma)`` with the window's mean and sample
  standard deviation (ddof = 1); ``VaR = z sigma - mu``, ``ES = sigma phi(z) / (1 - a) - mu``
  with ``z = Phi^-1(a)``.
* **Volatility** annualised as ``sigma * sqrt(252)``. **Beta** to ^GSPC: the OLS slope (with
  intercept) of ``r_p`` on ^GSPC's returns over the same sessions.
* **Maximum drawdown** over the window: of the growth path ``W_0 = 1``,
  ``W_t = prod_{s<=t} (1 + r_p,s)``, the largest ``1 - W_t / max_{s<=t} W_s`` (a positive
  fraction; 0 when the path never falls).
* **Contributions**: Euler allocation of the *parametric* VaR and ES (and of sigma):
  ``C_i = w_i * d(measure)/d(w_i)``; e.g. ``C_i(VaR) = w_i (z (S w)_i / sigma - m_i)`` with S
  the sample covariance and m the mean returns of the positions. The measures are
  homogeneous of degree one in w, so the contributions sum exactly to the total. Historical
  VaR has no stable Euler split on 250 points, so it is not allocated.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from phinance_env.desks.portfolio_risk_01.book import Book, Mark, mark_to_market, require_columns, session_index
from phinance_env.errors import BadRange, NotEnoughData

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_WINDOW = 250
CONFIDENCES = (0.95, 0.99)
TRADING_DAYS = 252
BENCHMARK = "^GSPC"


def check_confidence(confidence: float) -> float:
    """A confidence level strictly inside (0, 1), e.g. 0.99; anything else is ``BadRange``."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        value = math.nan
    if not (0.0 < value < 1.0):
        raise BadRange(f"confidence must be strictly between 0 and 1 (e.g. 0.95 or 0.99), got {confidence!r}")
    return value


def check_window(window: int) -> int:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 2:
        raise BadRange(f"window must be a whole number of sessions >= 2 (default {DEFAULT_WINDOW}), got {window!r}")
    return int(window)


def window_returns(
    closes: "pd.DataFrame", tickers: Sequence[str], as_of: str | dt.date, window: int = DEFAULT_WINDOW,
) -> tuple["pd.DataFrame", str | None]:
    """Simple daily returns of ``tickers`` over the ``window`` sessions ending at ``as_of``.

    Returns the frame (``window`` rows, indexed by the session each return ends on) and the
    note of a non-session ``as_of``. Fewer than ``window + 1`` closes is ``NotEnoughData``.
    """
    window = check_window(window)
    require_columns(closes, tickers)
    row, note = session_index(closes, as_of)
    if row < window:
        first = closes.index[0].date()
        raise NotEnoughData(
            f"a {window}-session window ending {closes.index[row].date()} needs {window + 1} closes, "
            f"but the data has {row + 1} from {first}; use a window of at most {row} sessions or a later date")
    prices = closes[list(tickers)].iloc[row - window: row + 1].to_numpy(dtype=float)
    if not np.all(np.isfinite(prices) & (prices > 0)):
        raise NotEnoughData("a close is missing or not positive in the window; cannot compute returns")
    returns = prices[1:] / prices[:-1] - 1.0
    import pandas as pd

    return pd.DataFrame(returns, index=closes.index[row - window + 1: row + 1], columns=list(tickers)), note


# --- statistics of one return series ---------------------------------------------------------
def historical_var_es(returns: np.ndarray, confidence: float) -> tuple[float, float]:
    """(VaR, ES) of a return series as positive losses, inverted-CDF quantile (see module)."""
    a = check_confidence(confidence)
    losses = np.sort(-_series(returns))  # ascending
    n = losses.size
    k = math.ceil(n * a - 1e-12)  # guard 0.95 * 100 = 95.00000000000001
    k = min(max(k, 1), n)
    var = float(losses[k - 1])
    es = float(losses[k - 1:].mean())
    return var, es


def parametric_var_es(returns: np.ndarray, confidence: float) -> tuple[float, float]:
    """(VaR, ES) under a normal with the series' mean and sample sd (ddof=1)."""
    a = check_confidence(confidence)
    r = _series(returns)
    mu, sigma = float(r.mean()), float(r.std(ddof=1))
    z = NormalDist().inv_cdf(a)
    return z * sigma - mu, sigma * NormalDist().pdf(z) / (1.0 - a) - mu


def annualised_volatility(returns: np.ndarray) -> float:
    return float(_series(returns).std(ddof=1)) * math.sqrt(TRADING_DAYS)


def beta(returns: np.ndarray, benchmark: np.ndarray) -> float:
    """OLS slope (with intercept) of ``returns`` on ``benchmark``: cov / var."""
    y, x = _series(returns), _series(benchmark)
    if y.size != x.size:
        raise BadRange(f"beta needs returns and benchmark of one length, got {y.size} and {x.size}")
    xc = x - x.mean()
    sxx = float(xc @ xc)
    if sxx == 0.0:
        raise NotEnoughData("the benchmark's returns do not vary in the window; beta is undefined")
    return float(xc @ (y - y.mean())) / sxx


def max_drawdown(returns: np.ndarray) -> float:
    """Largest fall from a running peak of the growth path that starts at 1 (a fraction)."""
    path = np.concatenate([[1.0], np.cumprod(1.0 + _series(returns))])
    return float(np.max(1.0 - path / np.maximum.accumulate(path)))


@dataclass(frozen=True)
class Contribution:
    """One position's Euler share of the parametric figures (fractions of total value)."""

    ticker: str
    weight: float
    volatility: float
    """Of the daily sigma: ``w_i (S w)_i / sigma``."""
    var: dict[float, float]
    es: dict[float, float]


def euler_contributions(
    returns: np.ndarray, weights: np.ndarray, tickers: Sequence[str], confidences: Sequence[float] = CONFIDENCES,
) -> list[Contribution]:
    """Euler allocation of the parametric VaR/ES and of sigma of ``returns @ weights``.

    ``returns`` is (sessions x positions); ``weights`` the positions' shares of total value
    (cash, with zero return, takes the rest and contributes nothing).
    """
    r = np.asarray(returns, dtype=float)
    w = np.asarray(weights, dtype=float)
    cov = np.atleast_2d(np.cov(r, rowvar=False, ddof=1))
    mean = r.mean(axis=0)
    sigma = math.sqrt(float(w @ cov @ w))
    if sigma == 0.0:
        raise NotEnoughData("the book's returns do not vary in the window; contributions are undefined")
    marginal_sigma = cov @ w / sigma
    out = []
    for i, t in enumerate(tickers):
        var, es = {}, {}
        for a in confidences:
            a = check_confidence(a)
            z = NormalDist().inv_cdf(a)
            var[a] = float(w[i] * (z * marginal_sigma[i] - mean[i]))
            es[a] = float(w[i] * (NormalDist().pdf(z) / (1.0 - a) * marginal_sigma[i] - mean[i]))
        out.append(Contribution(t, float(w[i]), float(w[i] * marginal_sigma[i]), var, es))
    return out


# --- the report -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tail:
    """VaR and ES at one confidence, as fractions of total value and in USD."""

    confidence: float
    var: float
    es: float
    var_usd: float
    es_usd: float


@dataclass(frozen=True)
class RiskReport:
    session: dt.date
    note: str | None
    window: int
    first_session: dt.date
    """The session the window's first return ends on (its first close is one before)."""
    mark: Mark
    historical: dict[float, Tail]
    parametric: dict[float, Tail]
    mean_daily_return: float
    daily_volatility: float
    annualised_volatility: float
    beta: float
    max_drawdown: float
    contributions: list[Contribution]
    returns: np.ndarray
    """The book's daily returns over the window (oldest first), the series all figures use."""


def risk_report(
    book: Book, closes: "pd.DataFrame", as_of: str | dt.date, window: int = DEFAULT_WINDOW,
    confidences: Sequence[float] = CONFIDENCES, benchmark: str = BENCHMARK,
) -> RiskReport:
    """Every risk figure of ``book`` at ``as_of`` over ``window`` sessions (see the module).

    ``closes`` must hold the book's tickers and ``benchmark``. A book without positions is
    ``NotEnoughData`` (cash alone has no risk to measure).
    """
    levels = [check_confidence(a) for a in confidences]
    if not book.tickers:
        raise NotEnoughData("the book holds no positions (cash only): risk needs at least one position")
    mark = mark_to_market(book, closes, as_of)
    columns = list(dict.fromkeys([*book.tickers, benchmark]))
    rets, note = window_returns(closes, columns, as_of, window)
    w = np.array([mark.weights[t] for t in book.tickers])
    asset = rets[list(book.tickers)].to_numpy()
    rp = asset @ w
    value = mark.total_value

    def tails(fn) -> dict[float, Tail]:
        out = {}
        for a in levels:
            var, es = fn(rp, a)
            out[a] = Tail(a, var, es, var * value, es * value)
        return out

    return RiskReport(
        session=mark.session, note=note, window=window, first_session=rets.index[0].date(), mark=mark,
        historical=tails(historical_var_es), parametric=tails(parametric_var_es),
        mean_daily_return=float(rp.mean()), daily_volatility=float(rp.std(ddof=1)),
        annualised_volatility=annualised_volatility(rp),
        beta=beta(rp, rets[benchmark].to_numpy()), max_drawdown=max_drawdown(rp),
        contributions=euler_contributions(asset, w, book.tickers, levels), returns=rp,
    )


def _series(values: np.ndarray) -> np.ndarray:
    r = np.asarray(values, dtype=float).ravel()
    if r.size < 2:
        raise NotEnoughData(f"need at least 2 returns, got {r.size}")
    if not np.all(np.isfinite(r)):
        raise NotEnoughData("returns contain NaN or infinity")
    return r


__all__ = [
    "BENCHMARK", "CONFIDENCES", "DEFAULT_WINDOW", "TRADING_DAYS", "Contribution", "RiskReport", "Tail",
    "annualised_volatility", "beta", "check_confidence", "check_window", "euler_contributions",
    "historical_var_es", "max_drawdown", "parametric_var_es", "risk_report", "window_returns",
]
