"""Write run logs into the state DB (called inside a tool call's transaction)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from phinance_env.desks.phinance_01.tables import BacktestFold, BacktestRun, ProjectionRun, TrackedTicker

# Built once: a constant Core statement hits SQLAlchemy's compiled cache, where
# ``insert(Model).values(**row)`` costs more to build and key than the row costs to write.
INSERT_PROJECTION_RUN = insert(ProjectionRun.__table__)
INSERT_BACKTEST_RUN = insert(BacktestRun.__table__)
INSERT_BACKTEST_FOLD = insert(BacktestFold.__table__)


def tracked_symbols(db: Session) -> set[str]:
    return set(db.scalars(select(TrackedTicker.symbol)))


def record_projection(db: Session, packet) -> int:
    """Insert the run (a Core insert: projections are the hot path) and return its id."""
    one = packet.horizons[0]
    c50, c75, c90 = (one.cone(level) for level in (0.5, 0.75, 0.9))
    values = dict(
        ticker=packet.ticker, requested_date=packet.requested_date, as_of=packet.as_of,
        data_end=packet.data_end, model=packet.model,
        horizons=",".join(h.horizon for h in packet.horizons), last_close=packet.last_close,
        direction=one.direction.call, p_up=round(one.direction.up, 6),
        p_flat=round(one.direction.flat, 6), p_down=round(one.direction.down, 6),
        drift_bps=one.drift_bps, sigma_bps=one.sigma_bps,
        cone50_lower_bps=c50.lower_bps, cone50_upper_bps=c50.upper_bps,
        cone75_lower_bps=c75.lower_bps, cone75_upper_bps=c75.upper_bps,
        cone90_lower_bps=c90.lower_bps, cone90_upper_bps=c90.upper_bps,
        annualized_sigma=one.annualized_sigma, confidence=one.confidence,
        summary=packet.summary, packet_json=packet.model_dump_json(),
    )
    return db.connection().execute(INSERT_PROJECTION_RUN, values).inserted_primary_key[0]


def record_backtest(db: Session, report) -> int:
    """Insert the run and its folds (one executemany: a 3-year backtest has ~80 folds, which
    the ORM's unit of work would flush one object at a time) and return the run id."""
    p = report.pooled
    ci = p.auc_ci95 or (None, None)
    conn = db.connection()
    run_id = conn.execute(INSERT_BACKTEST_RUN, dict(
        tickers=",".join(report.tickers), start=report.start, end=report.end,
        horizon=report.horizon, model=report.scale, n_folds=report.n_folds, n_obs=p.n_obs,
        auc=p.auc, auc_ci_low=ci[0], auc_ci_high=ci[1], mean_fold_auc=p.mean_fold_auc,
        hit_rate=p.hit_rate, coverage_50=p.coverage.c50, coverage_75=p.coverage.c75,
        coverage_90=p.coverage.c90, pinball_bps=p.pinball_bps, threshold=report.gate.threshold,
        gate_passed=report.gate.passed, gate_verdict=report.gate.verdict, summary=report.summary,
    )).inserted_primary_key[0]
    conn.execute(INSERT_BACKTEST_FOLD, [
        dict(run_id=run_id, ticker=r.ticker, fold=f.fold, train_start=f.train_start, train_end=f.train_end,
             test_start=f.test_start, test_end=f.test_end, n_obs=f.n_obs, auc=f.auc, hit_rate=f.hit_rate,
             coverage_50=f.coverage.c50, coverage_75=f.coverage.c75, coverage_90=f.coverage.c90)
        for r in report.results for f in r.folds
    ])
    return run_id
