"""Core engine benchmarks: projection latency, walk-forward speed, cone calibration.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/core.py``). Figures are from one run on
this machine; compare ratios within a run, not absolute numbers across machines.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from phinance_env.backtest import run_backtest
from phinance_env.backtest.metrics import kupiec_pof, pinball
from phinance_env.market import BarStore
from phinance_env.projection import ProjectionEngine
from phinance_env.projection.model import CONE_QUANTILES, ewma_params, variance_path

Z = {0.05: -1.6449, 0.125: -1.1503, 0.25: -0.6745, 0.75: 0.6745, 0.875: 1.1503, 0.95: 1.6449}
Z_CONE = np.array([Z[round(t, 3)] for t in CONE_QUANTILES])  # normal quantiles at the cone bounds
ORIGINAL_PROJECTION_S = 0.35  # original Phi-nance get_projection, measured (DESIGN.md)
ORIGINAL_BACKTEST_S = 17.0    # original run_backtest, 6 months x 2 tickers (best case)


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def projection_latency(store: BarStore) -> None:
    engine = ProjectionEngine(store)
    _, first = timed(engine.project, "^GSPC", "2018-06-29")
    days = store.series("^GSPC").sessions[-400:]
    cold = [timed(engine.project, "^GSPC", str(d))[1] for d in days[:200]]
    warm = [timed(engine.project, "^GSPC", str(d))[1] for d in days[:200]]
    print("## get_projection (EWMA, 1/5/21d)")
    print(f"first call in process (imports, series load): {first * 1e3:8.1f} ms")
    print(f"cold (new session), median / p99: {statistics.median(cold) * 1e3:6.2f} / {np.quantile(cold, .99) * 1e3:6.2f} ms  (target <= 30)")
    print(f"warm (cached), median / p99:      {statistics.median(warm) * 1e3:6.3f} / {np.quantile(warm, .99) * 1e3:6.3f} ms  (target <= 5)")
    print(f"speed-up vs original Phi-nance ({ORIGINAL_PROJECTION_S}s): cold x{ORIGINAL_PROJECTION_S / statistics.median(cold):,.0f}, warm x{ORIGINAL_PROJECTION_S / statistics.median(warm):,.0f}")


def walk_forward_speed(store: BarStore) -> None:
    print("\n## walk-forward ^GSPC,^IXIC 2010-01-01..2018-12-31, 1d, folds of 21 sessions")
    run_backtest(store, "^GSPC", "2018-01-01", "2018-12-31", scale="garch")  # imports
    for scale, target in (("ewma", 1.0), ("garch", 5.0)):
        report, secs = timed(run_backtest, store, "^GSPC,^IXIC", "2010-01-01", "2018-12-31", scale=scale)
        folds = sum(len(r.folds) for r in report.results)
        print(f"{scale:5}: {secs:6.2f} s for {folds} folds, {report.pooled.n_obs} obs (target < {target:.0f} s); "
              f"AUC {report.pooled.auc} CI {report.pooled.auc_ci95}, gate {report.gate.verdict}")
    _, six = timed(run_backtest, store, "^GSPC,^IXIC", "2018-07-01", "2018-12-31")
    print(f"6 months x 2 tickers (the original's 17-32 s case): {six * 1e3:.0f} ms, x{ORIGINAL_BACKTEST_S / six:,.0f} faster than its best")


def calibration(store: BarStore) -> None:
    print("\n## 1-day cone calibration out of sample, 2004-01-01..2018-12-31")
    print(f"{'ticker':7} {'model':24} {'cov50':>6} {'cov75':>6} {'cov90':>6} {'kupiec90':>8} {'pinball bps':>11}")
    for ticker in ("^GSPC", "^IXIC"):
        report = run_backtest(store, ticker, "2004-01-01", "2018-12-31")
        m = report.pooled
        print(f"{ticker:7} {'phinance EWMA+FHS':24} {m.coverage.c50:6.3f} {m.coverage.c75:6.3f} {m.coverage.c90:6.3f} "
              f"{m.kupiec_p.c90:8.3f} {m.pinball_bps:11.2f}")
        series = store.series(ticker)
        r = np.diff(np.log(series.close))
        idx = series.between(np.datetime64("2004-01-01").astype(object), np.datetime64("2018-12-31").astype(object))
        k = idx[:-1]  # as-of sessions with an outcome in range; r[k] is the next return
        realized = r[k]
        sig_const = np.full(len(k), 0.20 / np.sqrt(252))
        sig_ewma = np.sqrt(variance_path(r, ewma_params())[k])
        for name, sig in (("constant 20% vol normal", sig_const), ("EWMA(0.94) normal", sig_ewma)):
            q = sig[:, None] * Z_CONE[None, :]
            cov = [np.mean((realized >= q[:, 2 * i]) & (realized <= q[:, 2 * i + 1])) for i in range(3)]
            kp = kupiec_pof(len(k), int(round(len(k) * (1 - cov[2]))), 0.90)
            pb = pinball(realized, q, CONE_QUANTILES) * 1e4
            print(f"{ticker:7} {name:24} {cov[0]:6.3f} {cov[1]:6.3f} {cov[2]:6.3f} {kp:8.3f} {pb:11.2f}")
    print("targets: |cov - nominal| <= 0.05 / 0.04 / 0.03; lower pinball is better")


if __name__ == "__main__":
    bars = BarStore.open()
    projection_latency(bars)
    walk_forward_speed(bars)
    calibration(bars)
