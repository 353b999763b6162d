"""Wire models of the tools: one request and one result model per tool (extra forbidden)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field

from phinance_env.app.wire import (
    Body, DateText, ERROR_RESPONSES, Model, Name, Page, Problem, ShortText, TickerList_, TickerText, Title, Wire,
    ticker_list, text,
)

AlertMetric = Literal["p_up", "p_down", "drift_bps", "sigma_bps", "annualized_sigma", "cone75_width_bps"]
Operator = Literal[">", ">=", "<", "<="]


# --- market ----------------------------------------------------------------------------
class TickerPublic(Wire):
    symbol: str
    name: str
    source: Literal["real", "synthetic", "imported"]
    sector: str
    first_session: str
    last_session: str
    bar_count: int
    tracked: bool = Field(description="whether this workspace tracks the ticker")


class TickerList(Page):
    data: list[TickerPublic]


class TickerDetail(TickerPublic):
    origin: str
    last_close: float
    close_only: bool = Field(description="true when only closes exist (open/high/low = close)")


class Bar(Wire):
    session: str
    open: float
    high: float
    low: float
    close: float
    volume: float


class PriceHistory(Wire):
    ticker: str
    start: str
    end: str
    data: list[Bar]
    count: int
    truncated: bool = Field(description="true when the range held more bars than limit (the latest are returned)")


class ProjectionResult(Wire):
    run_id: int = Field(description="id of the logged projection run (see get_projection_run)")
    packet: dict[str, Any] = Field(description="the full ProjectionPacket: every horizon, cones, direction")
    summary: str


class RankedProjection(Wire):
    rank: int
    ticker: str
    as_of: str
    direction: str
    p_up: float
    p_down: float
    drift_bps: float
    sigma_bps: float
    annualized_sigma: float
    cone75_lower_bps: float
    cone75_upper_bps: float
    run_id: int


class ProjectionComparison(Wire):
    horizon: str
    rank_by: str
    data: list[RankedProjection]
    count: int


class BacktestRequest(Wire):
    tickers: TickerList_ = Field(
        description="comma-separated symbols, e.g. '^GSPC,^IXIC', or a JSON list as a string, e.g. '[\"^GSPC\", \"^IXIC\"]'; 1 to 10, no duplicates")
    start: DateText = Field(description="first as-of date of the test period, YYYY-MM-DD (inclusive)")
    end: DateText = Field(description="last date whose data may be used, YYYY-MM-DD (inclusive)")
    horizon: str = Field("1d", description="forecast horizon in sessions: 1d..63d")
    model: Model = Field("ewma", description="volatility model: ewma (fast) or garch (GARCH(1,1)-t)")
    threshold: float = Field(0.52, ge=0.5, le=1.0, description="AUC gate threshold, 0.5..1.0")


class TickerMetrics(Wire):
    ticker: str
    n_folds: int
    n_obs: int
    auc: float | None
    mean_fold_auc: float | None
    coverage_50: float | None
    coverage_75: float | None
    coverage_90: float | None


class BacktestResult(Wire):
    run_id: int
    tickers: list[str]
    start: str
    end: str
    horizon: str
    model: str
    n_folds: int
    n_obs: int
    mean_oos_auc: float | None = Field(description="mean of per-fold out-of-sample AUCs")
    pooled_auc: float | None
    auc_ci95: list[float] | None
    hit_rate: float | None
    always_up_hit_rate: float | None
    coverage_50: float | None
    coverage_75: float | None
    coverage_90: float | None
    kupiec_p_90: float | None
    pinball_bps: float | None
    gate_passed: bool
    gate_verdict: Literal["PASS", "FAIL"]
    gate_rule: str
    per_ticker: list[TickerMetrics]
    summary: str
    warnings: list[str]


# --- run logs ----------------------------------------------------------------------------
class ProjectionRunPublic(Wire):
    id: int
    ticker: str
    requested_date: str
    as_of: str
    model: str
    horizons: str
    last_close: float
    direction: str
    p_up: float
    p_flat: float
    p_down: float
    drift_bps: float
    sigma_bps: float
    cone75_lower_bps: float
    cone75_upper_bps: float
    annualized_sigma: float
    confidence: float
    summary: str


class ProjectionRunDetail(ProjectionRunPublic):
    data_end: str
    cone50_lower_bps: float
    cone50_upper_bps: float
    cone90_lower_bps: float
    cone90_upper_bps: float
    packet: dict[str, Any]


class ProjectionRunList(Page):
    data: list[ProjectionRunPublic]


class FoldPublic(Wire):
    ticker: str
    fold: int
    train_start: str
    train_end: str
    test_start: str
    test_end: str
    n_obs: int
    auc: float | None
    hit_rate: float | None
    coverage_50: float | None
    coverage_75: float | None
    coverage_90: float | None


class BacktestRunPublic(Wire):
    id: int
    tickers: str
    start: str
    end: str
    horizon: str
    model: str
    n_folds: int
    n_obs: int
    auc: float | None
    mean_fold_auc: float | None
    coverage_75: float | None
    gate_verdict: str
    summary: str


class BacktestRunDetail(BacktestRunPublic):
    auc_ci_low: float | None
    auc_ci_high: float | None
    hit_rate: float | None
    coverage_50: float | None
    coverage_90: float | None
    pinball_bps: float | None
    threshold: float
    gate_passed: bool
    folds: list[FoldPublic]


class BacktestRunList(Page):
    data: list[BacktestRunPublic]


# --- workspace ---------------------------------------------------------------------------
class WatchlistCreate(Wire):
    name: Name = Field(description="unique name, 1-64 characters")
    description: ShortText = Field("", description="up to 500 characters")
    tickers: TickerList_ = Field(default_factory=list, description="optional initial tickers, comma-separated, e.g. 'NOVA,QBIT'")


class WatchlistItemPublic(Wire):
    ticker: str
    note: str


class WatchlistPublic(Wire):
    id: int
    name: str
    description: str
    items: list[WatchlistItemPublic]


class WatchlistList(Page):
    data: list[WatchlistPublic]


class WatchlistItemCreate(Wire):
    watchlist: Name = Field(description="name of an existing watchlist")
    ticker: TickerText
    note: ShortText = Field("", description="up to 500 characters")


class AlertCreate(Wire):
    ticker: TickerText
    metric: AlertMetric = Field(description="projection field watched: p_up, p_down (0-1), drift_bps, sigma_bps, cone75_width_bps (bps), annualized_sigma (fraction)")
    operator: Operator
    threshold: float = Field(allow_inf_nan=False, description="value compared with the metric: p_up/p_down in (0, 1); drift_bps in [-5000, 5000]; sigma_bps and cone75_width_bps in (0, 20000]; annualized_sigma in (0, 5]")
    horizon: str = Field("1d", description="projection horizon: 1d, 5d or 21d")


class AlertPublic(Wire):
    id: int
    ticker: str
    metric: str
    operator: str
    threshold: float
    horizon: str
    active: bool


class AlertList(Page):
    data: list[AlertPublic]


class NoteCreate(Wire):
    title: Title = Field(description="1-200 characters")
    body: Body = Field(description="1-10,000 characters")
    ticker: TickerText | None = Field(None, description="optional ticker the note is about")
    projection_run_id: int | None = Field(None, ge=1, description="optional projection run to link")
    backtest_run_id: int | None = Field(None, ge=1, description="optional backtest run to link")


class NotePublic(Wire):
    id: int
    title: str
    body: str
    ticker: str | None
    projection_run_id: int | None
    backtest_run_id: int | None


class NoteList(Page):
    data: list[NotePublic]


class TrackRequest(Wire):
    ticker: TickerText


class Deleted(Wire):
    deleted: str = Field(description="what was removed")
