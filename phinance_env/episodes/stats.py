"""Evaluation statistics over rollout rows: success with 95% Wilson intervals by tier and
by template, failure kinds, and pass@k / pass^k when tasks were tried k or more times.

pass@k is the chance that at least one of k tries succeeds (the unbiased estimator of Chen
et al., 2021); pass^k, tau-bench's measure of consistency, the chance that all k succeed.
Both are averaged over tasks from n >= k tries each.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (sensible at 0, 1 and small n)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, center - half), min(1.0, center + half))


def pass_at_k(n: int, c: int, k: int) -> float:
    """P(at least one of k tries drawn from n succeeds), c of the n succeeded."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """P(all k tries drawn from n succeed), c of the n succeeded (tau-bench's pass^k)."""
    return math.comb(c, k) / math.comb(n, k)


def rate(rows: list[dict]) -> dict[str, Any]:
    n = len(rows)
    wins = sum(1 for r in rows if r["reward"] >= 1.0)
    low, high = wilson(wins, n)
    return {"n": n, "success": round(wins / n, 4) if n else None, "ci95": [round(low, 4), round(high, 4)]}


def failure_kind(row: dict) -> str:
    """"ok" for a rewarded episode (even a truncated one), else its error kind or "wrong"."""
    return "ok" if row["reward"] >= 1.0 else (row.get("error_kind") or "wrong")


def evaluate(rows: list[dict], meta: dict[int, dict] | None = None) -> dict[str, Any]:
    """Success overall, by tier and by template (``meta``: task_id -> its gen_task_meta row),
    failure kinds, turns, and pass@k / pass^k for every k up to the fewest tries of a task."""
    meta = meta or {}
    by: dict[str, dict[Any, list[dict]]] = {"tier": defaultdict(list), "template": defaultdict(list)}
    tries: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        m = meta.get(row["task_id"], {})
        by["tier"][m.get("tier", "?")].append(row)
        by["template"][m.get("template", "?")].append(row)
        tries[row["task_id"]].append(row)
    out: dict[str, Any] = {
        "episodes": len(rows),
        "overall": rate(rows),
        "by_tier": {str(k): rate(v) for k, v in sorted(by["tier"].items(), key=lambda kv: str(kv[0]))},
        "by_template": {k: rate(v) for k, v in sorted(by["template"].items())},
        "failures": dict(Counter(failure_kind(r) for r in rows).most_common()),
        "mean_turns": round(sum(r.get("turns", 0) for r in rows) / len(rows), 2) if rows else None,
    }
    k_max = min((len(v) for v in tries.values()), default=0)
    if k_max >= 2:
        counts = [(len(v), sum(1 for r in v if r["reward"] >= 1.0)) for v in tries.values()]
        out["pass_at_k"] = {str(k): round(sum(pass_at_k(n, c, k) for n, c in counts) / len(counts), 4)
                            for k in range(1, k_max + 1)}
        out["pass_hat_k"] = {str(k): round(sum(pass_hat_k(n, c, k) for n, c in counts) / len(counts), 4)
                             for k in range(1, k_max + 1)}
    return out


__all__ = ["evaluate", "pass_at_k", "pass_hat_k", "rate", "wilson"]
