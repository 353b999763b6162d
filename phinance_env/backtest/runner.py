"""Run a walk-forward backtest of the projection model over one or more tickers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from phinance_env.backtest import metrics as mx
from phinance_env.backtest.report import (
    BacktestReport, Coverage, FoldResult, Gate, Metrics, TickerResult,
)
from phinance_env.backtest.windows import Fold, WalkForwardConfig, walk_forward
from phinance_env.errors import BadRange, NotEnoughData, PhinanceError
from phinance_env.market import BarStore, normalize_symbol, parse_date
from phinance_env.projection import model as fm
from phinance_env.projection.engine import flat_band_bps
from phinance_env.projection.packet import DIRECTION_NOTE

MAX_TICKERS = 10
LANES = 128  # folds whose variance paths run together (memory: 8 bytes x sessions x LANES)
DEFAULT_THRESHOLD = 0.52
Progress = Callable[[int, int], None]


@dataclass
class FoldData:
    """Forecasts and outcomes of one fold's observations (arrays)."""

    realized: np.ndarray
    score: np.ndarray
    quantiles: np.ndarray


def parse_tickers(tickers: str | list[str]) -> list[str]:
    """``'^gspc, ^ixic'`` or ``['^GSPC']`` -> unique uppercase symbols (1..10)."""
    items = tickers.split(",") if isinstance(tickers, str) else list(tickers)
    symbols = [normalize_symbol(t) for t in items if str(t).strip()]
    if not symbols:
        raise PhinanceError("tickers is empty: give 1 to 10 symbols, e.g. '^GSPC,^IXIC'")
    dupes = sorted({s for s in symbols if symbols.count(s) > 1})
    if dupes:
        raise PhinanceError(f"duplicate ticker(s) {', '.join(dupes)}: list each symbol once")
    if len(symbols) > MAX_TICKERS:
        raise PhinanceError(f"{len(symbols)} tickers given; at most {MAX_TICKERS} per backtest")
    return symbols


def run_backtest(store: BarStore, tickers: str | list[str], start: str | dt.date, end: str | dt.date,
                 scale: fm.ScaleName = "ewma", config: WalkForwardConfig | None = None,
                 threshold: float = DEFAULT_THRESHOLD, progress: Progress | None = None) -> BacktestReport:
    """Walk forward over [start, end]; the first training windows may reach back before start."""
    cfg = config or WalkForwardConfig()
    symbols = parse_tickers(tickers)
    start_d, end_d = parse_date(start, "start"), parse_date(end, "end")
    if start_d > end_d:
        raise BadRange(f"start {start_d} is after end {end_d}; give start <= end")
    plans = [(s, *_plan(store, s, start_d, end_d, cfg)) for s in symbols]
    total = sum(len(folds) for _, _, folds in plans)
    done = 0
    results, pooled_parts, notes = [], [], []
    for symbol, series, folds in plans:
        fold_rows, parts, fits = [], [], []
        log_close = np.log(series.close)
        returns = np.diff(log_close)
        last_idx = int(series.between(start_d, end_d)[-1])
        prev, refit_at = None, -cfg.garch_refit
        for fold in folds:
            refit = fold.train_hi - refit_at >= cfg.garch_refit
            dv = fm.fit_drift_vol(returns[fold.train_lo:fold.train_hi], scale, prev, refit)
            if dv.scale == "garch" and refit:
                prev, refit_at = dv.vol, fold.train_hi
            notes.extend(f"{symbol} fold {fold.index}: {w}" for w in dv.warnings)
            fits.append(dv)
            done += 1
            if progress:  # counted here: the GARCH fits are what takes a person's time
                progress(done, total)
        for lo in range(0, len(folds), LANES):
            chunk, dvs = folds[lo:lo + LANES], fits[lo:lo + LANES]
            # Each fold's variance path from the first return to its test block, all at once.
            paths = fm.variance_paths(returns[:chunk[-1].test_hi], [d.mu for d in dvs], [d.vol for d in dvs])
            for fold, dv, v in zip(chunk, dvs, paths):
                # An expanding window's own path is the start of that one.
                own = v[:fold.train_hi + 1] if fold.train_lo == 0 else None
                fitted = fm.fit_residuals(returns[fold.train_lo:fold.train_hi], (cfg.horizon,), dv, own)
                data = _evaluate(fitted, fold, v, log_close, last_idx, cfg.horizon)
                fold_rows.append(_fold_result(fold, series.sessions, data))
                parts.append(data)
        pooled_parts.extend(parts)
        empty = [f.fold for f in fold_rows if f.n_obs == 0]
        results.append(TickerResult(ticker=symbol, folds=fold_rows, empty_folds=empty,
                                    metrics=_metrics(parts, fold_rows)))
    pooled = _metrics(pooled_parts, [f for r in results for f in r.folds])
    gate = _gate(pooled, threshold)
    if cfg.horizon > 1:
        notes.append(f"{cfg.horizon}-session targets overlap, so the AUC CI is too narrow")
    notes.append(DIRECTION_NOTE)
    return BacktestReport(
        tickers=symbols, start=start_d.isoformat(), end=end_d.isoformat(), scale=scale, config=cfg,
        results=results, pooled=pooled, gate=gate, summary=_summary(symbols, pooled, gate),
        warnings=notes,
    )


def _plan(store: BarStore, symbol: str, start: dt.date, end: dt.date, cfg: WalkForwardConfig):
    series = store.series(symbol)
    first_day, last_day = series.sessions[0].astype(object), series.sessions[-1].astype(object)
    if start < first_day or end > last_day:
        raise BadRange(f"{symbol} has data {first_day}..{last_day}; {start}..{end} reaches outside it: "
                       f"give start and end within that range")
    idx = series.between(start, end)
    if len(idx) <= cfg.horizon:
        raise NotEnoughData(
            f"{symbol} has {len(idx)} session(s) in {start}..{end}; a {cfg.horizon}-session "
            f"horizon needs at least {cfg.horizon + 1} to observe one outcome"
        )
    folds = walk_forward(int(idx[0]), int(idx[-1]), cfg)
    if not folds:
        need = cfg.min_train + cfg.purge_sessions
        earliest = series.sessions[min(need, len(series.sessions) - 1)]
        raise NotEnoughData(
            f"too few sessions for one fold of {symbol}: a fold needs {cfg.min_train} training "
            f"sessions + {cfg.purge_sessions} purge before its test block, so start must be on "
            f"or after {earliest} (data {first_day}..{last_day})"
        )
    return series, folds


def _evaluate(fitted: fm.FittedModel, fold: Fold, v: np.ndarray, log_close: np.ndarray,
              last_idx: int, h: int) -> FoldData:
    """Forecasts of the fold's test sessions; ``v`` is the variance path of ``returns - mu``
    from the first return (``v[k]`` uses returns before session k only)."""
    as_of = np.arange(fold.test_lo, min(fold.test_hi, last_idx - h) + 1)
    pred = fitted.predict(v[as_of], h, flat_band_bps(h)) if len(as_of) else None
    if pred is None:
        return FoldData(np.empty(0), np.empty(0), np.empty((0, len(fm.CONE_QUANTILES))))
    realized = log_close[as_of + h] - log_close[as_of]
    return FoldData(realized, pred.score, pred.quantiles)


def _fold_result(fold: Fold, sessions: np.ndarray, d: FoldData) -> FoldResult:
    auc = mx.rank_auc(d.realized > 0, d.score).value if len(d.realized) else None
    return FoldResult(
        fold=fold.index, train_start=str(sessions[fold.train_lo]), train_end=str(sessions[fold.train_hi]),
        test_start=str(sessions[fold.test_lo]), test_end=str(sessions[fold.test_hi]),
        n_obs=len(d.realized), auc=_r(auc), hit_rate=_r(_hit_rate(d)),
        coverage=_coverage(d), pinball_bps=_r(_pinball_bps(d)),
    )


def _metrics(parts: list[FoldData], folds: list[FoldResult]) -> Metrics:
    d = FoldData(
        np.concatenate([p.realized for p in parts]) if parts else np.empty(0),
        np.concatenate([p.score for p in parts]) if parts else np.empty(0),
        np.concatenate([p.quantiles for p in parts]) if parts else np.empty((0, 6)),
    )
    auc = mx.rank_auc(d.realized > 0, d.score)
    fold_aucs = [f.auc for f in folds if f.auc is not None]
    n = len(d.realized)
    cov = _coverage(d)
    kupiec = [
        mx.kupiec_pof(n, int(round(n * (1 - c))), level) if c is not None else None
        for c, level in zip((cov.c50, cov.c75, cov.c90), fm.CONE_LEVELS)
    ]
    ci = (round(auc.ci_low, 4), round(auc.ci_high, 4)) if auc.ci_low is not None else None
    return Metrics(
        n_obs=n, auc=_r(auc.value), auc_ci95=ci,
        mean_fold_auc=_r(float(np.mean(fold_aucs))) if fold_aucs else None,
        hit_rate=_r(_hit_rate(d)), always_up_hit_rate=_r(float(np.mean(d.realized > 0))) if n else None,
        coverage=cov, kupiec_p=Coverage(c50=_r(kupiec[0]), c75=_r(kupiec[1]), c90=_r(kupiec[2])),
        pinball_bps=_r(_pinball_bps(d)),
    )


def _coverage(d: FoldData) -> Coverage:
    q = d.quantiles
    values = [mx.coverage(d.realized, q[:, 2 * i], q[:, 2 * i + 1]) for i in range(3)]
    return Coverage(c50=_r(values[0]), c75=_r(values[1]), c90=_r(values[2]))


def _hit_rate(d: FoldData) -> float | None:
    if not len(d.realized):
        return None
    return float(np.mean(np.where(d.score >= 0, d.realized > 0, d.realized <= 0)))


def _pinball_bps(d: FoldData) -> float | None:
    value = mx.pinball(d.realized, d.quantiles, fm.CONE_QUANTILES)
    return None if value is None else value * 1e4


def _gate(pooled: Metrics, threshold: float) -> Gate:
    rule = f"PASS when pooled OOS AUC >= {threshold:.2f} and its 95% CI lower bound > 0.50"
    ok = (pooled.auc is not None and pooled.auc_ci95 is not None
          and pooled.auc >= threshold and pooled.auc_ci95[0] > 0.5)
    return Gate(rule=rule, threshold=threshold, passed=ok, verdict="PASS" if ok else "FAIL")


def _summary(symbols: list[str], m: Metrics, gate: Gate) -> str:
    auc = "n/a" if m.auc is None else f"{m.auc:.3f}"
    ci = "" if m.auc_ci95 is None else f" (95% CI {m.auc_ci95[0]:.3f}-{m.auc_ci95[1]:.3f})"
    mean_auc = "n/a" if m.mean_fold_auc is None else f"{m.mean_fold_auc:.3f}"
    c75 = "n/a" if m.coverage.c75 is None else f"{m.coverage.c75:.3f}"
    return (f"{','.join(symbols)}: mean OOS AUC {mean_auc}, pooled AUC {auc}{ci}, "
            f"75% cone coverage {c75} over {m.n_obs} sessions; gate {gate.verdict} ({gate.rule})")


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)
