"""Wire models of the tools: one request and one result model per tool (extra forbidden)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from phinance_env.app.wire import (
    Body, DateText, Model, Name, Page, ShortText, TickerList_, TickerText, Title, Wire,
)
from phinance_env.projection.packet import ProjectionPacket

AlertMetric = Literal["p_up", "p_down", "drift_bps", "sigma_bps", "annualized_sigma", "cone75_width_bps"]
Operator = Literal[">", ">=", "<", "<="]


# --- market ----------------------------------------------------------------------------
Direction = Literal["up", "flat", "down"]
CALL = "the 1-session call: the likeliest of up/flat/down, so it can be up with p_up < 0.5"


class TickerPublic(Wire):
    symbol: str
    name: str
    source: Literal["real", "synthetic", "imported"] = Field(
        description="real: index data (^GSPC, ^IXIC, ^VIX); synthetic: simulated stocks; imported: a user's file")
    sector: str = Field(description="Index, Volatility, or a stock sector such as Technology (list_tickers filters on it)")
    first_session: str = Field(description="first trading session with a bar, YYYY-MM-DD")
    last_session: str = Field(description="last trading session with a bar, YYYY-MM-DD")
    bar_count: int = Field(description="number of daily bars (trading sessions)")
    tracked: bool = Field(description="whether this workspace tracks the ticker")


class TickerList(Page):
    data: list[TickerPublic]


class TickerDetail(TickerPublic):
    origin: str = Field(description="where the bars come from")
    last_close: float = Field(description="close of last_session")
    close_only: bool = Field(description="true when only closes exist (open/high/low = close)")


class Bar(Wire):
    session: str = Field(description="trading session, YYYY-MM-DD")
    open: float
    high: float
    low: float
    close: float
    volume: float


class PriceHistory(Wire):
    ticker: str
    start: str = Field(description="session of the first bar returned")
    end: str = Field(description="session of the last bar returned")
    data: list[Bar] = Field(description="bars, oldest first")
    count: int
    truncated: bool = Field(description="true when start was given and [start, end] held more than limit bars "
                                        "(the latest limit are returned)")


class ProjectionResult(Wire):
    run_id: int = Field(description="id of the logged projection run (see get_projection_run)")
    packet: ProjectionPacket = Field(description="the full projection: every horizon's direction, drift, sigma and cones")
    summary: str = Field(description="one line: the 1-session call, P(up/flat/down), drift and 75% cone (= packet.summary)")


class RankedProjection(Wire):
    rank: int = Field(description="1 = highest rank_by value")
    ticker: str
    as_of: str
    direction: Direction = Field(description="the likeliest of up/flat/down at this horizon (can be up with p_up < 0.5)")
    p_up: float
    p_down: float
    drift_bps: float = Field(description="expected log return over the horizon, bps")
    sigma_bps: float = Field(description="standard deviation of the log return over the horizon, bps")
    annualized_sigma: float = Field(description="fraction, e.g. 0.18 = 18% a year")
    cone75_lower_bps: float = Field(description="lower bound of the 75% cone of the log return, bps")
    cone75_upper_bps: float = Field(description="upper bound of the 75% cone of the log return, bps")
    run_id: int = Field(description="the logged projection run of this ticker")


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


AUC = "direction AUC out of sample (rank AUC of P(up) - P(down) against up moves; 0.5 = no skill)"
COVERAGE = "share of test returns inside the {}% cone (nominal {})"


class TickerMetrics(Wire):
    ticker: str
    n_folds: int
    n_obs: int
    auc: float | None = Field(description="pooled " + AUC)
    mean_fold_auc: float | None
    coverage_50: float | None = Field(description=COVERAGE.format(50, 0.5))
    coverage_75: float | None = Field(description=COVERAGE.format(75, 0.75))
    coverage_90: float | None = Field(description=COVERAGE.format(90, 0.9))


class BacktestResult(Wire):
    run_id: int = Field(description="id of the logged backtest run (see get_backtest_run)")
    tickers: list[str]
    start: str
    end: str
    horizon: str
    model: str
    n_folds: int = Field(description="21-session test folds, summed over tickers")
    n_obs: int = Field(description="out-of-sample forecasts scored")
    mean_oos_auc: float | None = Field(description="mean of per-fold out-of-sample AUCs")
    pooled_auc: float | None = Field(description="pooled " + AUC)
    auc_ci95: list[float] | None = Field(description="95% confidence interval [low, high] of pooled_auc")
    hit_rate: float | None = Field(description="share of test sessions whose return had the sign of P(up) - P(down)")
    always_up_hit_rate: float | None = Field(description="the same for always calling up: the baseline")
    coverage_50: float | None = Field(description=COVERAGE.format(50, 0.5))
    coverage_75: float | None = Field(description=COVERAGE.format(75, 0.75))
    coverage_90: float | None = Field(description=COVERAGE.format(90, 0.9))
    kupiec_p_90: float | None = Field(description="Kupiec test p-value of the 90% coverage (small = miscalibrated)")
    pinball_bps: float | None = Field(description="mean pinball loss of the cone quantiles, bps (lower is better)")
    gate_passed: bool
    gate_verdict: Literal["PASS", "FAIL"]
    gate_rule: str
    per_ticker: list[TickerMetrics]
    summary: str
    warnings: list[str]


# --- run logs ----------------------------------------------------------------------------
class ProjectionRunPublic(Wire):
    id: int = Field(description="run id")
    ticker: str
    requested_date: str
    as_of: str = Field(description="the session projected from")
    model: str = Field(description="drift + volatility model of the projection")
    horizons: str = Field(description="horizons projected, e.g. '1,5,21' sessions")
    last_close: float
    direction: Direction = Field(description=CALL)
    p_up: float = Field(description="1-session P(up)")
    p_flat: float = Field(description="1-session P(flat)")
    p_down: float = Field(description="1-session P(down)")
    drift_bps: float = Field(description="1-session drift, bps")
    sigma_bps: float = Field(description="1-session sigma, bps")
    cone75_lower_bps: float = Field(description="1-session 75% cone lower bound, bps")
    cone75_upper_bps: float = Field(description="1-session 75% cone upper bound, bps")
    annualized_sigma: float
    confidence: float = Field(description="|p_up - p_down|")
    summary: str


class ProjectionRunFields(ProjectionRunPublic):
    data_end: str
    cone50_lower_bps: float
    cone50_upper_bps: float
    cone90_lower_bps: float
    cone90_upper_bps: float


class ProjectionRunDetail(ProjectionRunFields):
    packet: ProjectionPacket = Field(description="the full projection as get_projection returned it")


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
    auc: float | None = Field(description=AUC + " within this fold")
    hit_rate: float | None
    coverage_50: float | None
    coverage_75: float | None
    coverage_90: float | None


class BacktestRunPublic(Wire):
    id: int = Field(description="run id")
    tickers: str = Field(description="comma-separated")
    start: str
    end: str
    horizon: str
    model: str
    n_folds: int
    n_obs: int
    auc: float | None = Field(description="pooled " + AUC)
    mean_fold_auc: float | None
    coverage_75: float | None = Field(description=COVERAGE.format(75, 0.75))
    gate_verdict: Literal["PASS", "FAIL"]
    summary: str


class BacktestRunDetail(BacktestRunPublic):
    auc_ci_low: float | None
    auc_ci_high: float | None
    hit_rate: float | None
    coverage_50: float | None
    coverage_90: float | None
    pinball_bps: float | None
    threshold: float = Field(description="the AUC gate threshold used")
    gate_passed: bool
    folds: list[FoldPublic] = Field(description="per-fold metrics (empty when include_folds is false)")


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


class AlertsDeleted(Deleted):
    alert_ids: list[int] = Field(description="ids of the deleted alerts")
    count: int


class Untracked(Deleted):
    ticker: str
    alerts_remaining: int = Field(description="alerts on this ticker still in the workspace: untracking keeps "
                                              "them; delete_alert(ticker=...) removes them")
