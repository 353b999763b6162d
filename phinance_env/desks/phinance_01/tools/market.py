"""Market tools: tickers, price history, projections, comparisons and backtests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from phinance_env.app.context import ContextDep, answer
from phinance_env.desks.phinance_01.recording import record_backtest, record_projection, tracked_symbols
from phinance_env.app.wire import add_examples, ERROR_RESPONSES, text, ticker_list
from phinance_env.desks.phinance_01.schemas import (
    Bar, BacktestRequest, BacktestResult, Model, PriceHistory, ProjectionComparison, ProjectionResult, RankedProjection, TickerDetail, TickerList, TickerPublic, TickerMetrics,
)
from phinance_env.errors import BadRange, PhinanceError
from phinance_env.desks.phinance_01.tables import TrackedTicker

router = APIRouter(tags=["market"], responses=ERROR_RESPONSES)
# fastapi-mcp gives every tool call 10 s; GARCH refits cost ~0.8 ms per ticker-session here.
GARCH_MAX_TICKER_SESSIONS = 6_000
MAX_HISTORY_ROWS = 500
OptDate = Annotated[str | None, Query(description="YYYY-MM-DD; omitted = last session in the data"), text(10)]
START = "first date, YYYY-MM-DD (inclusive); omit it to get the last `limit` sessions ending at end"
LIMIT = "number of sessions (bars) returned, 1-500: the last `limit` sessions ending at end"


@router.get("/tickers", operation_id="list_tickers", response_model=TickerList)
def list_tickers(
    ctx: ContextDep,
    source: Annotated[Literal["real", "synthetic", "imported"] | None, Query(description="only this source")] = None,
    sector: Annotated[str | None, Query(description="only this sector, case-insensitive, e.g. Technology"), text(40)] = None,
    tracked_only: Annotated[bool, Query(description="only tickers this workspace tracks")] = False,
) -> Response:
    """List the tickers with daily bars: symbol, name, source (real: index data; synthetic:
    simulated stocks; imported), sector, first/last session, bar count, and whether this
    workspace tracks it. Filters combine: `source`, `sector` (case-insensitive; the built-in
    sectors are Index, Volatility, Technology, Healthcare, Financials, Energy and Consumer)
    and `tracked_only`. An unknown sector gives 422 listing the sectors."""
    with ctx.call("list_tickers", source=source, sector=sector, tracked_only=tracked_only) as call:
        tickers = ctx.store.tickers()
        if sector is not None:
            sectors = sorted({t.sector for t in tickers})
            if sector.lower() not in {s.lower() for s in sectors}:
                raise PhinanceError(f"unknown sector {sector!r}; sectors: {', '.join(sectors)}")
        tracked = tracked_symbols(call.db)
        rows = [
            TickerPublic(symbol=t.symbol, name=t.name, source=t.source, sector=t.sector,
                         first_session=t.first_session, last_session=t.last_session,
                         bar_count=t.n_bars, tracked=t.symbol in tracked)
            for t in tickers
            if (source is None or t.source == source) and (not tracked_only or t.symbol in tracked)
            and (sector is None or t.sector.lower() == sector.lower())
        ]
    return answer(TickerList(data=rows, count=len(rows), total=len(rows)))


@router.get("/ticker", operation_id="get_ticker", response_model=TickerDetail)
def get_ticker(ctx: ContextDep, ticker: Annotated[str, Query(description="e.g. ^GSPC or NOVA"), text(40)]) -> Response:
    """One ticker's details: name, source and origin of the data, sector, first/last
    session, bar count, last close, whether only closes exist, and whether this workspace
    tracks it. Symbols are case-insensitive. Unknown tickers give 404 listing the known ones."""
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
    start: Annotated[str | None, Query(description=START), text(10)] = None,
    end: OptDate = None,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY_ROWS, description=LIMIT)] = 60,
) -> Response:
    """Daily OHLCV bars of one ticker, oldest first. Trading sessions only: weekends and
    holidays have no bar, so ask in sessions rather than calendar days.
    - The last N sessions ending on date D: `end`=D and `limit`=N, no `start` (when D is not
      a session the window ends at the session before; the answer's `end` says which).
    - A date range: `start` and `end`, inclusive; when it holds more than `limit` bars, the
      latest `limit` are returned and `truncated` is true.
    Omitted `end` = the last session in the data. Errors: unknown ticker 404; a malformed
    date, start after end, or no bars in the range 422 (the message gives the data range)."""
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
        truncated = lo is not None and len(frame) > limit
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
    """Project a ticker from the close of `as_of_date` (omitted = the last session in the
    data; a non-trading day uses the session before and `packet.warnings` says so). For each
    horizon in trading sessions (`horizon`; default 1d, 5d and 21d; 1d is always included),
    `packet.horizons[]` holds:
    - `direction`: P(up), P(flat), P(down) of the log return (flat = within +-`flat_band_bps`)
      and `call`, the likeliest of the three (largest probability), so the call can be "up"
      with P(up) below 0.5;
    - `drift_bps`, `sigma_bps`: mean and standard deviation of the log return, in bps;
    - `cones`: the 50/75/90% intervals, one per `level`, as [`lower_bps`, `upper_bps`] of log
      return and [`lower_price`, `upper_price`].
    `packet.v1` is the legacy Phi-nance view: its p50/p75/p90_bps are HALF-widths of the
    1-session cones, not intervals. `summary` is one line about the 1-session projection.
    Next-session direction is barely predictable, for an index and a stock alike: read P(up)
    near 0.5 as a coin flip and rely on the cones. The run is logged: `run_id` is for
    get_projection_run and notes. Errors: unknown ticker 404; a malformed date, a date outside
    the data or with under 126 sessions of history before it, or a bad horizon 422."""
    from phinance_env.projection.engine import DEFAULT_HORIZONS, parse_horizon

    with ctx.call("get_projection", ticker=ticker, as_of_date=as_of_date, horizon=horizon, model=model) as call:
        horizons = (parse_horizon(horizon),) if horizon else DEFAULT_HORIZONS
        packet = ctx.projections(model).project(ticker, as_of_date, horizons)
        run_id = record_projection(call.db, packet)
    return answer(ProjectionResult(run_id=run_id, packet=packet, summary=packet.summary))


RankBy = Literal["p_up", "p_down", "drift_bps", "sigma_bps", "annualized_sigma"]


@router.get("/projections/compare", operation_id="compare_projections", response_model=ProjectionComparison)
def compare_projections(
    ctx: ContextDep,
    tickers: Annotated[str, Query(description="comma-separated, e.g. 'NOVA,QBIT,HELX' (1-10)"), text(400, min_len=0)],
    as_of_date: OptDate = None,
    horizon: Annotated[str, Query(description="1d, 5d or 21d ..."), text(8)] = "1d",
    rank_by: Annotated[RankBy, Query(description="field to rank by, highest first")] = "p_up",
) -> Response:
    """Project several tickers (1-10) at one date and rank them by `rank_by`, highest first:
    per ticker the direction call (the likeliest of up/flat/down, so it can be up with P(up)
    below 0.5), P(up), P(down), drift and sigma in bps of log return over the horizon,
    annualized sigma (fraction) and the 75% cone [lower, upper] in bps. Each projection is
    logged as a run (run_id). Errors as get_projection's, for the first ticker that fails."""
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
                             cone75_lower_bps=hp.cone(0.75).lower_bps, cone75_upper_bps=hp.cone(0.75).upper_bps,
                             run_id=run_id))
        rows.sort(key=lambda r: (-r[rank_by], r["ticker"]))
    data = [RankedProjection(rank=i + 1, **r) for i, r in enumerate(rows)]
    return answer(ProjectionComparison(horizon=f"{h}d", rank_by=rank_by, data=data, count=len(data)))


@router.post("/backtests", operation_id="run_backtest", response_model=BacktestResult)
def run_backtest(ctx: ContextDep, body: BacktestRequest) -> Response:
    """Walk-forward backtest of the projection model over [start, end] for 1-10 tickers:
    expanding training windows (>= 126 sessions, may reach before start), purge >= horizon,
    21-session test folds. Reports the direction AUC out of sample (0.5 = no skill): the mean
    over folds (`mean_oos_auc`) and pooled (`pooled_auc`) with its 95% CI (`auc_ci95`); the
    hit rate against always-up; the share of outcomes inside the 50/75/90% cones
    (`coverage_50/75/90`, nominal 0.50/0.75/0.90) with a Kupiec p-value; pinball loss in bps;
    the same per ticker; and the gate: PASS when pooled AUC >= threshold and its CI lower
    bound > 0.5. Expect FAIL: next-session direction is barely predictable, for an index and
    a stock alike. Logged as a run (run_id). Errors: unknown ticker 404; dates outside a
    ticker's data, too few sessions for one fold, or a garch run too large 422."""
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


add_examples(router, Path(__file__).with_name("examples.json"))
