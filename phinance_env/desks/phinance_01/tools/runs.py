"""Run-log tools: list and fetch past projection and backtest runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from phinance_env.app.context import ContextDep, answer
from phinance_env.app.wire import add_examples, ERROR_RESPONSES, text
from phinance_env.desks.phinance_01.schemas import (
    BacktestRunDetail, BacktestRunList, BacktestRunPublic, FoldPublic, ProjectionRunDetail, ProjectionRunFields, ProjectionRunList, ProjectionRunPublic,
)
from phinance_env.errors import NotFound
from phinance_env.desks.phinance_01.tables import BacktestRun, ProjectionRun

router = APIRouter(tags=["runs"], responses=ERROR_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=100, description="page size, 1-100")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]
RunId = Annotated[int, Query(ge=1, le=2**62, description="run id from a list or a previous call")]


def _public(row, cls):
    return cls(**{k: getattr(row, k) for k in cls.model_fields if hasattr(row, k)})


@router.get("/projection_runs", operation_id="list_projection_runs", response_model=ProjectionRunList)
def list_projection_runs(
    ctx: ContextDep,
    ticker: Annotated[str | None, Query(description="only this ticker"), text(40)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Response:
    """Past projection runs, newest first: ticker, requested and as-of dates, model, and the
    1-session numbers: direction call (the likeliest of up/flat/down), P(up/flat/down),
    drift and sigma in bps, the 75% cone [lower, upper] in bps, and the summary. Filter by
    ticker; page with limit (1-100) and offset; `total` counts every match."""
    from phinance_env.market.store import normalize_symbol

    with ctx.call("list_projection_runs", ticker=ticker, limit=limit, offset=offset) as call:
        query = select(ProjectionRun)
        if ticker:
            query = query.where(ProjectionRun.ticker == normalize_symbol(ticker))
        total = call.db.scalar(select(func.count()).select_from(query.subquery()))
        rows = call.db.scalars(query.order_by(ProjectionRun.id.desc()).limit(limit).offset(offset)).all()
        data = [_public(r, ProjectionRunPublic) for r in rows]
    return answer(ProjectionRunList(data=data, count=len(data), total=total))


@router.get("/projection_run", operation_id="get_projection_run", response_model=ProjectionRunDetail)
def get_projection_run(ctx: ContextDep, run_id: RunId) -> Response:
    """One projection run: every logged field (the 1-session numbers, the 50/75/90% cones'
    bounds in bps) and `packet`, the full projection exactly as get_projection returned it
    (every horizon; see get_projection for its fields). Unknown ids give 404."""
    with ctx.call("get_projection_run", run_id=run_id) as call:
        row = call.db.get(ProjectionRun, run_id)
        if row is None:
            raise NotFound(f"no projection run with id {run_id}; list_projection_runs shows the ids")
        fields = ProjectionRunFields(**{k: getattr(row, k) for k in ProjectionRunFields.model_fields})
    # The stored packet is spliced in as it is: parsing and validating it again would only
    # reproduce the same JSON (ProjectionRunDetail declares it for the schema).
    return Response(f'{fields.model_dump_json()[:-1]},"packet":{row.packet_json}}}', media_type="application/json")


@router.get("/backtest_runs", operation_id="list_backtest_runs", response_model=BacktestRunList)
def list_backtest_runs(ctx: ContextDep, limit: Limit = 20, offset: Offset = 0) -> Response:
    """Past backtest runs, newest first: tickers, period, horizon, model, folds, pooled and
    mean fold AUC (0.5 = no skill), 75% cone coverage (nominal 0.75), gate verdict and
    summary. Page with limit (1-100) and offset; `total` counts every run."""
    with ctx.call("list_backtest_runs", limit=limit, offset=offset) as call:
        total = call.db.scalar(select(func.count(BacktestRun.id)))
        rows = call.db.scalars(select(BacktestRun).order_by(BacktestRun.id.desc()).limit(limit).offset(offset)).all()
        data = [_public(r, BacktestRunPublic) for r in rows]
    return answer(BacktestRunList(data=data, count=len(data), total=total))


@router.get("/backtest_run", operation_id="get_backtest_run", response_model=BacktestRunDetail)
def get_backtest_run(
    ctx: ContextDep, run_id: RunId,
    include_folds: Annotated[bool, Query(description="include per-fold metrics")] = True,
) -> Response:
    """One backtest run: pooled AUC with its 95% CI, hit rate, 50/75/90% coverage, pinball
    loss in bps, the gate threshold and verdict, and (unless include_folds is false) every
    fold's train/test dates and metrics. Unknown ids give 404."""
    with ctx.call("get_backtest_run", run_id=run_id, include_folds=include_folds) as call:
        row = call.db.get(BacktestRun, run_id)
        if row is None:
            raise NotFound(f"no backtest run with id {run_id}; list_backtest_runs shows the ids")
        fields = {k: getattr(row, k) for k in BacktestRunDetail.model_fields if k != "folds"}
        folds = [_public(f, FoldPublic) for f in row.folds] if include_folds else []
        detail = BacktestRunDetail(**fields, folds=folds)
    return answer(detail)


add_examples(router, Path(__file__).with_name("examples.json"))
