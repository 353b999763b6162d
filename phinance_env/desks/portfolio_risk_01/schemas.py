"""Wire models of the risk desk's tools: one request and one result model per tool."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from phinance_env.app.wire import Body, DateText, Name, Page, TickerList_, TickerText, Title, Wire

Side = Literal["buy", "sell"]
LimitMetric = Literal["max_position_weight", "max_var_99", "max_drawdown"]
Objective = Literal["min_volatility", "max_sharpe"]
ReportKind = Literal["risk", "performance", "limits", "rebalance", "stress"]
Money = Annotated[float, Field(description="USD")]
PortfolioName = Annotated[str, Field(description="the book's name, exactly as list_portfolios shows it")]
# A weights map may come as a JSON object or as text ("NOVA:0.4, ^GSPC:0.5"); the schema says
# string because fastapi-mcp turns a union into its first type anyway (see wire.TickerList_).
Weights_ = Annotated[str | dict[str, float], WithJsonSchema({"type": "string"})]


# --- tickers -------------------------------------------------------------------------------
class Tradable(Wire):
    symbol: str
    name: str
    sector: str
    source: Literal["real", "synthetic", "imported"] = Field(
        description="real: index data (trades like an index fund at the index level); synthetic: simulated stocks")
    first_session: str
    last_session: str


class TradableList(Page):
    data: list[Tradable]


# --- books ---------------------------------------------------------------------------------
class PortfolioCreate(Wire):
    name: Name
    cash: float = Field(ge=0.01, le=1e12, description="starting cash, USD (at least 0.01)")
    inception_date: DateText


class Holding(Wire):
    ticker: str
    shares: int


class PortfolioPublic(Wire):
    id: int
    name: str
    base_currency: Literal["USD"] = "USD"
    starting_cash: Money
    cash: Money = Field(description="cash after every filled trade (the book's latest state)")
    inception_date: str = Field(description="the session the book opened on")
    positions: list[Holding] = Field(description="shares after every filled trade")
    trades_filled: int
    trades_rejected: int
    note: str | None = Field(None, description="set when inception_date was not a session")


class PortfolioList(Page):
    data: list[PortfolioPublic]


class PositionValue(Wire):
    ticker: str
    shares: int
    price: float = Field(description="close of the session, USD")
    value: Money
    weight: float = Field(description="value / total value (fraction)")


class Valuation(Wire):
    portfolio: str
    session: str = Field(description="the session the book is marked at")
    note: str | None = Field(None, description="set when the date asked was not a session")
    positions: list[PositionValue] = Field(description="holdings after every filled trade dated on or before session")
    cash: Money
    cash_weight: float
    positions_value: Money
    total_value: Money
    starting_cash: Money
    pnl: Money = Field(description="P&L since inception: total value - starting cash")
    pnl_pct: float = Field(description="pnl / starting cash (fraction, e.g. 0.05 = +5%)")


# --- trades --------------------------------------------------------------------------------
class TradeCreate(Wire):
    portfolio: Name
    ticker: TickerText
    side: Side
    shares: int = Field(ge=1, le=1_000_000_000, description="whole shares (>= 1)")
    date: DateText


class TradePublic(Wire):
    id: int
    portfolio: str
    ticker: str
    side: Side
    shares: int
    requested_date: str
    session: str = Field(description="the session it fills (or was refused) at")
    fill_price: float | None = Field(description="that session's close, USD; null when rejected")
    amount: Money | None = Field(description="shares x fill price, rounded to the cent; null when rejected")
    status: Literal["filled", "rejected"]
    reason: str | None = Field(description="why it was rejected (one reason); null when filled")
    note: str | None = Field(description="set when the date asked was not a session")


class TradeResult(Wire):
    trade: TradePublic
    cash: Money = Field(description="the book's cash after every filled trade")
    shares_held: int = Field(description="shares of this ticker after every filled trade")


class TradeList(Page):
    data: list[TradePublic]


# --- risk and performance ------------------------------------------------------------------
class Tail(Wire):
    method: Literal["historical", "parametric"]
    confidence: float
    var: float = Field(description="1-session value at risk, a positive loss as a fraction of total value")
    es: float = Field(description="1-session expected shortfall, a positive loss as a fraction of total value")
    var_usd: Money
    es_usd: Money


class RiskContribution(Wire):
    ticker: str
    weight: float
    volatility: float = Field(description="Euler share of the daily volatility (fraction of total value)")
    var: dict[str, float] = Field(description="Euler share of the parametric VaR by confidence ('0.95', '0.99')")
    es: dict[str, float] = Field(description="Euler share of the parametric ES by confidence")


class RiskResult(Wire):
    report_id: int
    portfolio: str
    session: str
    note: str | None = None
    window: int = Field(description="daily returns used, in sessions")
    first_session: str = Field(description="session of the window's first return")
    total_value: Money
    tails: list[Tail] = Field(description="historical and parametric VaR/ES at each confidence")
    mean_daily_return: float
    daily_volatility: float
    annualised_volatility: float = Field(description="daily volatility x sqrt(252), a fraction")
    beta: float = Field(description="OLS beta of the book's daily returns to ^GSPC's over the window")
    max_drawdown: float = Field(description="largest peak-to-trough fall over the window, a positive fraction")
    contributions: list[RiskContribution]
    conventions: str


class PositionPnl(Wire):
    ticker: str
    pnl: Money


class PerformanceResult(Wire):
    report_id: int
    portfolio: str
    start: str
    end: str
    notes: list[str]
    start_value: Money
    end_value: Money
    pnl: Money = Field(description="end value - start value (no external flows on this desk)")
    twr: float = Field(description="time-weighted return, a fraction (0.05 = +5%)")
    pnl_by_position: list[PositionPnl]
    trades: int = Field(description="filled trades in (start, end]")


# --- limits --------------------------------------------------------------------------------
class LimitSet(Wire):
    portfolio: Name
    metric: LimitMetric
    threshold: float = Field(gt=0, le=1, description="a fraction, e.g. 0.25 for 25%")


class LimitPublic(Wire):
    id: int
    portfolio: str
    metric: LimitMetric
    threshold: float
    replaced: float | None = Field(None, description="the previous threshold, when this replaced one")


class LimitList(Page):
    data: list[LimitPublic]


class LimitStatus(Wire):
    metric: LimitMetric
    threshold: float
    value: float | None = Field(description="the metric now; null when it cannot be computed (see detail)")
    status: Literal["ok", "breach", "unavailable"]
    detail: str


class LimitCheck(Wire):
    report_id: int
    portfolio: str
    session: str
    note: str | None = None
    status: Literal["ok", "breach", "unavailable", "no limits"] = Field(
        description="breach if any limit is breached; unavailable if none is but one cannot be computed")
    limits: list[LimitStatus]


# --- rebalancing and stress ----------------------------------------------------------------
class RebalanceRequest(Wire):
    portfolio: Name
    date: DateText
    target: Weights_ | None = Field(None, description=(
        "target weights of total value, e.g. 'NOVA:0.4, ^GSPC:0.5' or a JSON object; each in [0, 1], "
        "summing to at most 1 (the rest stays cash); a held ticker left out is sold"))
    objective: Objective | None = Field(None, description="instead of target: the optimiser's weights")
    tickers: TickerList_ | None = Field(None, description="with objective: the universe (default: the book's holdings)")
    min_weight: float = Field(0.0, ge=0, le=1)
    max_weight: float = Field(1.0, ge=0, le=1)
    window: int = Field(250, ge=20, le=2500, description="sessions of daily returns the optimiser uses")
    risk_free_rate: float = Field(0.0, ge=-0.05, le=0.2, description="annual, for max_sharpe")


class Order(Wire):
    ticker: str
    side: Side
    shares: int
    price: float
    amount: Money


class TargetWeight(Wire):
    ticker: str
    weight: float


class RebalanceProposal(Wire):
    report_id: int
    portfolio: str
    session: str
    note: str | None = None
    method: Literal["target", "min_volatility", "max_sharpe"]
    target_weights: list[TargetWeight]
    orders: list[Order] = Field(description="whole-share orders, sells first; NOT executed (place_trade each)")
    positions_after: list[PositionValue]
    cash_after: Money
    total_value: Money
    expected_return: float | None = Field(None, description="optimiser: annualised mean return of the weights")
    volatility: float | None = Field(None, description="optimiser: annualised volatility of the weights")
    sharpe: float | None = None
    executed: bool = False


class StressLine(Wire):
    ticker: str
    value: Money = Field(description="position value at the as-of session")
    window_return: float = Field(description="the ticker's return over the scenario window (fraction)")
    pnl: Money


class StressResult(Wire):
    report_id: int
    portfolio: str
    scenario: str
    description: str
    window_start: str
    window_end: str
    session: str = Field(description="the as-of session the book is taken and marked at")
    note: str | None = None
    total_value: Money
    pnl: Money = Field(description="the book's P&L had the window's returns happened to it (cash unchanged)")
    pnl_pct: float = Field(description="pnl / total value (fraction)")
    positions: list[StressLine]


# --- the log and notes -------------------------------------------------------------------
class ReportPublic(Wire):
    id: int
    portfolio: str
    kind: ReportKind
    session: str
    params: dict[str, Any]
    result: dict[str, Any]


class ReportList(Page):
    data: list[ReportPublic]


class NoteCreate(Wire):
    title: Title
    body: Body
    portfolio: Name | None = None
    report_id: int | None = Field(None, ge=1, le=2**63 - 1)


class NotePublic(Wire):
    id: int
    title: str
    body: str
    portfolio: str | None
    report_id: int | None


class NoteList(Page):
    data: list[NotePublic]
