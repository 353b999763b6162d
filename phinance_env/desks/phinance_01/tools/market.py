"""Market tools: tickers, price history, projections, comparisons and backtests."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from phinance_env.app.context import ContextDep, answer
from phinance_env.desks.phinance_01.recording import record_backtest, record_projection, tracked_symbols
from phinance_env.desks.phinance_01.schemas import (
    text,
    ERROR_RESPONSES,
    ticker_list,
    Bar, BacktestRequest, BacktestResult, Model, PriceHistory, ProjectionComparison,
    ProjectionResult, RankedProjection, TickerDetail, TickerList, TickerPublic, TickerMetrics,
)
from phinance_env.errors import BadRange, PhinanceError
from phinance_env.desks.phinance_01.tables import TrackedTicker

router = APIRouter(tags=["market"], responses=ERROR_RESPONSES)
# fastapi-mcp gives every tool call 10 s; GARCH refits cost ~0.8 ms per ticker-session here.
GARCH_MAX_TICKER_SESSIONS = 6_000
MAX_HISTORY_ROWS = 500
OptDate = Annotated[str | None, Query(description="YYYY-MM-DD; omitted = last session in the data"), text(10)]


@router.get("/tickers", operation_id="list_tickers", response_model=TickerList)
def list_tickers(
    ctx: ContextDep,
    source: Annotated[Literal["real", "synthetic", "imported"] | None, Query(description="only this source")] = None,
    tracked_only: Annotated[bool, Query(description="only tickers this workspace tracks")] = False,
) -> Response:
    """List the tickers with daily bars: symbol, name, source (real index data or the
    synthetic universe), sector, first/last session, bar count, and whether it is tracked."""
    with ctx.call("list_tickers", source=source, tracked_only=tracked_only) as call:
        tracked = tracked_symbols(call.db)
        rows = [
            TickerPublic(symbol=t.symbol, name=t.name, source=t.source, sector=t.sector,
                         first_session=t.first_session, last_session=t.last_session,
                         bar_count=t.n_bars, tracked=t.symbol in tracked)
            for t in ctx.store.tickers()
            if (source is None or t.source == source) and (not tracked_only or t.symbol in tracked)
        ]
    return answer(TickerList(data=rows, count=len(rows), total=len(rows)))


@router.get("/ticker", operation_id="get_ticker", response_model=TickerDetail)
def get_ticker(ctx: ContextDep, ticker: Annotated[str, Query(description="e.g. ^GSPC or NOVA"), text(40)]) -> Response:
    """One ticker's details: name, source and origin of the data, sector, data range, bar
    count, last close, and whether the workspace tracks it. Unknown tickers give 404."""
    with ctx.call("get_ticker", ticker=ticker) as call:
        t = ctx.store.ticker(ticker)
        tracked = call.db.scalar(select(TrackedTicker.id).where(TrackedTicker.symbol == t.symbol)) is not None
        close = float(ctx.store.series(t.symbol).close[-1])
    return answer(TickerDetail(symbol=t.symbol, name=t.name, source=t.source, sector=t.sector,
                        first_session=t.first_session, last_session=t.last_session,
                        bar_count=t.n_bars, tracked=tracked, origin=t.origin,
                        last_close=round(close, 4), close_only=t.close_only))


@router.get("/price_history", operation_id="get_price_history", response_model=PriceHistory)
def get_price_history(
    ctx: ContextDep,
    ticker: Annotated[str, Query(description="e.g. ^GSPC"), text(40)],
    start: OptDate = None,
    end: OptDate = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY_ROWS, description="max bars returned (latest kept), 1-500")] = 60,
) -> Response:
    """Daily OHLCV bars of one ticker in [start, end] (inclusive, trading sessions only).
    At most `limit` bars are returned; when the range holds more, the latest are kept and
    `truncated` is true."""
    from phinance_env.market.calendar import parse_date

    with ctx.call("get_price_history", ticker=ticker, start=start, end=end, limit=limit):
        info = ctx.store.ticker(ticker)
        lo = parse_date(start, "start") if start else None
        hi = parse_date(end, "end") if end else None
        if lo and hi and lo > hi:
            raise BadRange(f"start {lo} is after end {hi}; give start <= end")
        frame = ctx.store.bars(info.symbol, lo, hi)
        if frame.empty:
            raise BadRange(f"no bars of {info.symbol} in that range; data covers "
                           f"{info.first_session}..{info.last_session}")
        truncated = len(frame) > limit
        frame = frame.iloc[-limit:]
        bars = [Bar(session=str(ix.date()), open=r.open, high=r.high, low=r.low, close=r.close,
                    volume=r.volume) for ix, r in zip(frame.index, frame.itertuples())]
    return answer(PriceHistory(ticker=info.symbol, start=bars[0].session, end=bars[-1].session,
                        data=bars, count=len(bars), truncated=truncated))


@router.get("/projection", operation_id="get_projection", response_model=ProjectionResult)
def get_projection(
    ctx: ContextDep,
    ticker: Annotated[str, Query(description="e.g. ^GSPC or NOVA (case-insensitive)"), text(40)],
    as_of_date: OptDate = None,
    horizon: Annotated[str | None, Query(description="one horizon such as 1d, 5d, 21d; omitted = 1d, 5d and 21d"), text(8)] = None,
    model: Annotated[Model, Query(description="volatility model: ewma (default) or garch")] = "ewma",
) -> Response:
    """Project a ticker at the close of `as_of_date` (a non-trading day uses the previous
    session; the answer says so). Returns direction probabilities P(up/flat/down), expected
    drift and sigma in bps of log return, and 50/75/90% cones as [lower, upper] bps and
    prices, per horizon in trading sessions, plus a one-line summary (direction, drift, 75%
    cone). Next-day direction is barely predictable: treat P(up) near 0.5 as a coin flip.
    The run is logged (run_id) for get_projection_run and notes."""
    from phinance_env.projection.engine import DEFAULT_HORIZONS, parse_horizon

    with ctx.call("get_projection", ticker=ticker, as_of_date=as_of_date, horizon=horizon, model=model) as call:
        horizons = (parse_horizon(horizon),) if horizon else DEFAULT_HORIZONS
        packet = ctx.projections(model).project(ticker, as_of_date, horizons)
        packet_json = packet.model_dump_json()
        run_id = record_projection(call.db, packet, packet_json)
    return answer(ProjectionResult(run_id=run_id, packet=json.loads(packet_json), summary=packet.summary))


RankBy = Literal["p_up", "p_down", "drift_bps", "sigma_bps", "annualized_sigma"]


@router.get("/projections/compare", operation_id="compare_projections", response_model=ProjectionComparison)
def compare_projections(
    ctx: ContextDep,
    tickers: Annotated[str, Query(description="comma-separated, e.g. 'NOVA,QBIT,HELX' (1-10)"), text(400, min_len=0)],
    as_of_date: OptDate = None,
    horizon: Annotated[str, Query(description="1d, 5d or 21d ..."), text(8)] = "1d",
    rank_by: Annotated[RankBy, Query(description="field to rank by, highest first")] = "p_up",
) -> Response:
    """Project several tickers at one date and rank them by `rank_by` (highest first):
    direction, P(up), P(down), drift, sigma and the 75% cone per ticker. Each projection is
    logged as a run."""
    from phinance_env.backtest.runner import parse_tickers
    from phinance_env.projection.engine import parse_horizon

    with ctx.call("compare_projections", tickers=tickers, as_of_date=as_of_date,
                  horizon=horizon, rank_by=rank_by) as call:
        h = parse_horizon(horizon)
        rows = []
        for symbol in parse_tickers(tickers):
            packet = ctx.projections().project(symbol, as_of_date, (h,))
            run_id = record_projection(call.db, packet)
            hp = next(x for x in packet.horizons if x.sessions == h)
            rows.append(dict(ticker=packet.ticker, as_of=packet.as_of, direction=hp.direction.call,
                             p_up=round(hp.direction.up, 4), p_down=round(hp.direction.down, 4),
                             drift_bps=hp.drift_bps, sigma_bps=hp.sigma_bps,
                             annualized_sigma=hp.annualized_sigma,
                             cone75_lower_bps=hp.cones[1].lower_bps, cone75_upper_bps=hp.cones[1].upper_bps,
                             run_id=run_id))
        rows.sort(key=lambda r: (-r[rank_by], r["ticker"]))
    data = [RankedProjection(rank=i + 1, **r) for i, r in enumerate(rows)]
    return answer(ProjectionComparison(horizon=f"{h}d", rank_by=rank_by, data=data, count=len(data)))


@router.post("/backtests", operation_id="run_backtest", response_model=BacktestResult)
def run_backtest(ctx: ContextDep, body: BacktestRequest) -> Response:
    """Walk-forward backtest of the projection model over [start, end] for 1-10 tickers:
    expanding training windows (>= 126 sessions, may reach before start), purge >= horizon,
    21-session test folds. Reports the mean out-of-sample direction AUC and the pooled AUC
    with a 95% CI, hit rate against always-up, 50/75/90% cone coverage, Kupiec p-value and
    pinball loss, and the gate: PASS when pooled AUC >= threshold and its CI lower bound
    > 0.5. Expect FAIL on indices: next-day direction is barely predictable. Logged as a run."""
    from phinance_env.backtest import WalkForwardConfig
    from phinance_env.projection.engine import parse_horizon

    with ctx.call("run_backtest", **body.model_dump()) as call:
        tickers = ticker_list(body.tickers)
        cfg = WalkForwardConfig(horizon=parse_horizon(body.horizon))
        if body.model == "garch":
            _check_garch_budget(tickers, body.start, body.end)
        report = ctx.backtest(tickers, body.start, body.end, body.model, cfg, body.threshold)
        run_id = record_backtest(call.db, report)
    p = report.pooled
    return answer(BacktestResult(
        run_id=run_id, tickers=report.tickers, start=report.start, end=report.end,
        horizon=report.horizon, model=report.scale, n_folds=report.n_folds, n_obs=p.n_obs,
        mean_oos_auc=p.mean_fold_auc, pooled_auc=p.auc,
        auc_ci95=list(p.auc_ci95) if p.auc_ci95 else None, hit_rate=p.hit_rate,
        always_up_hit_rate=p.always_up_hit_rate, coverage_50=p.coverage.c50,
        coverage_75=p.coverage.c75, coverage_90=p.coverage.c90, kupiec_p_90=p.kupiec_p.c90,
        pinball_bps=p.pinball_bps, gate_passed=report.gate.passed,
        gate_verdict=report.gate.verdict, gate_rule=report.gate.rule,
        per_ticker=[TickerMetrics(ticker=r.ticker, n_folds=len(r.folds), n_obs=r.metrics.n_obs,
                                  auc=r.metrics.auc, mean_fold_auc=r.metrics.mean_fold_auc,
                                  coverage_50=r.metrics.coverage.c50, coverage_75=r.metrics.coverage.c75,
                                  coverage_90=r.metrics.coverage.c90) for r in report.results],
        summary=report.summary, warnings=report.warnings,
    ))


def _check_garch_budget(tickers: str | list[str], start: str, end: str) -> None:
    from phinance_env.backtest.runner import parse_tickers
    from phinance_env.market.calendar import parse_date, sessions_between, xnys_days

    n = len(parse_tickers(tickers))
    sessions = len(sessions_between(xnys_days(), parse_date(start, "start"), parse_date(end, "end")))
    if n * sessions > GARCH_MAX_TICKER_SESSIONS:
        raise PhinanceError(
            f"a garch backtest of {n} ticker(s) over {sessions} sessions is too large for one tool call: "
            f"keep tickers x sessions <= {GARCH_MAX_TICKER_SESSIONS} (e.g. 2 tickers x 3000 sessions), "
            "or use model='ewma'")
