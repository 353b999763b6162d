"""Out-of-sample metrics: rank AUC with a DeLong CI, cone coverage, Kupiec POF, pinball."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # standard normal 97.5% quantile


def rankdata(x: np.ndarray) -> np.ndarray:
    """Midranks (ties share their average rank), 1-based, as pandas' ``rank()`` or scipy's
    ``rankdata`` give them (numpy only: either costs ~1 s to import)."""
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    first = np.flatnonzero(np.concatenate([[True], xs[1:] != xs[:-1]]))  # where each tie group starts
    last = np.append(first[1:], len(x))  # where it ends (exclusive)
    ranks = np.empty(len(x))
    ranks[order] = np.repeat((first + last + 1) / 2.0, last - first)  # mean of ranks first+1..last
    return ranks


@dataclass(frozen=True)
class AUC:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n_pos: int
    n_neg: int


def rank_auc(labels: np.ndarray, scores: np.ndarray) -> AUC:
    """P(score of a positive > score of a negative), ties counting half, in O(n log n).

    The 95% CI uses DeLong's variance from the same midranks. ``value`` is None when one
    class is empty (the AUC is undefined, not 0.5).
    """
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    pos, neg = scores[labels], scores[~labels]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        return AUC(None, None, None, m, n)
    all_ranks = rankdata(np.concatenate([pos, neg]))
    r_pos, r_neg = all_ranks[:m], all_ranks[m:]
    auc = (r_pos.sum() - m * (m + 1) / 2) / (m * n)
    if m < 2 or n < 2:
        return AUC(float(auc), None, None, m, n)
    v_pos = (r_pos - rankdata(pos)) / n  # share of negatives below each positive
    v_neg = 1.0 - (r_neg - rankdata(neg)) / m  # share of positives above each negative
    se = math.sqrt(v_pos.var(ddof=1) / m + v_neg.var(ddof=1) / n)
    return AUC(float(auc), max(0.0, auc - Z95 * se), min(1.0, auc + Z95 * se), m, n)


def coverage(realized: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float | None:
    if len(realized) == 0:
        return None
    return float(np.mean((realized >= lower) & (realized <= upper)))


def kupiec_pof(n: int, misses: int, level: float) -> float | None:
    """Kupiec proportion-of-failures test p-value: are misses consistent with 1 - level?"""
    if n == 0:
        return None
    p = 1.0 - level
    x = misses
    phat = x / n

    def loglik(q: float) -> float:
        a = (n - x) * math.log(1 - q) if x < n else 0.0
        b = x * math.log(q) if x > 0 else 0.0
        return a + b

    lr = -2.0 * (loglik(p) - loglik(phat))
    return math.erfc(math.sqrt(max(lr, 0.0) / 2.0))  # chi-square(1) survival function


def pinball(realized: np.ndarray, quantiles: np.ndarray, levels: tuple[float, ...]) -> float | None:
    """Mean pinball (quantile) loss over ``levels``; same units as ``realized``."""
    if len(realized) == 0:
        return None
    taus = np.asarray(levels)[None, :]
    diff = realized[:, None] - quantiles
    return float(np.mean(np.maximum(taus * diff, (taus - 1.0) * diff)))
