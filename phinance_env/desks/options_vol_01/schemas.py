"""Wire models of the options desk's tools. Every quote is synthetic: answers say so."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from phinance_env.app.wire import Body, DateText, Name, Page, TickerText, Title, Wire

Kind = Literal["call", "put"]
Instrument = Literal["call", "put", "stock"]
SOURCE_NOTE = Field("synthetic", description="quotes are synthesised from the bars (no option chains ship with the data)")
# Legs come as a JSON list, as text or a real list (fastapi-mcp flattens unions: say string).
Legs_ = Annotated[str | list[dict[str, Any]], WithJsonSchema({"type": "string"})]


class Quote(Wire):
    expiry: str
    days: int = Field(description="calendar days from the as-of session to expiry")
    strike: float
    kind: Kind
    iv: float = Field(description="implied volatility, a decimal per year (0.18 = 18 vol points)")
    mid: float = Field(description="Black-Scholes-Merton price at iv, USD per unit of the underlying")
    bid: float
    ask: float
    delta: float
    gamma: float
    vega_per_point: float = Field(description="price change per 1 vol point")
    theta_per_day: float = Field(description="price change per calendar day")


class Chain(Wire):
    run_id: int
    source: str = SOURCE_NOTE
    ticker: str
    session: str
    note: str | None = None
    spot: float
    rate: float = Field(description="flat continuously compounded rate, per year")
    dividend_yield: float = Field(description="continuous dividend yield, per year")
    expiries: list[str] = Field(description="the listed monthly expiries (third Fridays) after the session")
    strikes: list[float] = Field(description="the strike grid (the same for every expiry)")
    expiry: str = Field(description="the expiry whose quotes are listed")
    quotes: list[Quote]


class PriceRequestResult(Wire):
    run_id: int
    source: str = SOURCE_NOTE
    ticker: str
    session: str
    note: str | None = None
    spot: float
    expiry: str
    years: float = Field(description="time to expiry: calendar days / 365")
    strike: float
    kind: Kind
    volatility: float
    volatility_source: Literal["surface", "given"]
    rate: float
    dividend_yield: float
    price: float
    delta: float
    gamma: float
    vega: float = Field(description="per 1.00 of volatility")
    vega_per_point: float
    theta: float = Field(description="per year")
    theta_per_day: float
    rho: float = Field(description="per 1.00 of rate")


class ImpliedVol(Wire):
    run_id: int
    source: str = SOURCE_NOTE
    ticker: str
    session: str
    note: str | None = None
    spot: float
    expiry: str
    strike: float
    kind: Kind
    price: float
    implied_volatility: float = Field(description="a decimal per year")
    surface_volatility: float = Field(description="the synthetic surface's vol at this strike and expiry")
    rate: float
    dividend_yield: float


class LegIn(Wire):
    kind: Instrument
    strike: float | None = Field(None, gt=0, le=1e7)
    quantity: int = Field(ge=-1000, le=1000, description="signed units: > 0 long (buy), < 0 short (sell)")


class StrategyCreate(Wire):
    name: Name
    ticker: TickerText
    expiry: DateText
    legs: Legs_ = Field(description='JSON list, e.g. [{"kind": "call", "strike": 2700, "quantity": 1}, '
                                    '{"kind": "call", "strike": 2750, "quantity": -1}]; stock legs have no strike')


class LegPublic(Wire):
    kind: Instrument
    strike: float | None
    quantity: int


class StrategyPublic(Wire):
    id: int
    name: str
    ticker: str
    expiry: str
    legs: list[LegPublic]


class StrategyList(Page):
    data: list[StrategyPublic]


class PayoffPoint(Wire):
    underlying: float
    pnl: float


class LegValue(Wire):
    kind: Instrument
    strike: float | None
    quantity: int
    price: float = Field(description="mid (option) or close (stock) at the session, per unit")
    iv: float | None


class StrategyAnalysis(Wire):
    run_id: int
    source: str = SOURCE_NOTE
    name: str
    ticker: str
    session: str
    note: str | None = None
    spot: float
    expiry: str
    legs: list[LegValue]
    cost: float = Field(description="net premium at mids: > 0 a debit you pay, < 0 a credit you receive")
    max_gain: float | None = Field(description="P&L at expiry at its best; null = unlimited")
    max_loss: float | None = Field(description="P&L at expiry at its worst, as a positive loss; null = unlimited")
    breakevens: list[float] = Field(description="underlying prices at expiry where P&L is 0")
    payoff: list[PayoffPoint] = Field(description="P&L at expiry (payoff - cost) at 0, every strike and beyond")
    delta: float
    gamma: float
    vega_per_point: float
    theta_per_day: float


class ProjectionComparison(Wire):
    run_id: int
    source: str = SOURCE_NOTE
    ticker: str
    session: str
    note: str | None = None
    expiry: str
    sessions_to_expiry: int
    implied_move: float = Field(description="ATM straddle / spot: the move the options price (fraction)")
    atm_vol: float
    projected_sigma: float = Field(description="the projection's sd of the log return to expiry (fraction)")
    projected_move: float = Field(description="expected absolute move under the projection: sigma x sqrt(2/pi)")
    projected_cone75: list[float] = Field(description="the projection's 75% cone of the return to expiry (fractions)")
    ratio: float = Field(description="implied_move / projected_move")
    verdict: Literal["rich", "cheap", "fair"] = Field(description="rich above 1.1, cheap below 0.9")


class HedgeResult(Wire):
    run_id: int
    source: str = SOURCE_NOTE
    ticker: str
    kind: Kind
    strike: float
    position: Literal["short", "long"]
    start: str
    expiry: str
    note: str | None = None
    rebalance_every: int
    n_rebalances: int
    implied_vol: float
    realised_vol: float
    premium: float
    option_pnl: float
    hedge_pnl: float
    financing_pnl: float
    total_pnl: float


class BookCreate(Wire):
    name: Name


class PositionCreate(Wire):
    book: Name
    ticker: TickerText
    instrument: Instrument
    quantity: int = Field(ge=-100_000, le=100_000)
    as_of_date: DateText
    expiry: str | None = Field(None, description="options: a listed expiry, YYYY-MM-DD")
    strike: float | None = Field(None, gt=0, le=1e7)


class PositionPublic(Wire):
    id: int
    ticker: str
    instrument: Instrument
    expiry: str | None
    strike: float | None
    quantity: int
    price: float
    session: str


class BookPublic(Wire):
    id: int
    name: str
    positions: list[PositionPublic]


class BookGreeks(Wire):
    run_id: int
    source: str = SOURCE_NOTE
    book: str
    session: str
    note: str | None = None
    positions: int
    expired: int = Field(description="option positions expired by the session (left out)")
    value: float = Field(description="marked value of the live positions (quantity x price)")
    delta: float
    gamma: float
    vega_per_point: float
    theta_per_day: float


class RunPublic(Wire):
    id: int
    tool: str
    ticker: str
    session: str
    params: dict[str, Any]
    result: dict[str, Any]


class RunList(Page):
    data: list[RunPublic]


class NoteCreate(Wire):
    title: Title
    body: Body
    run_id: int | None = Field(None, ge=1, le=2**63 - 1)
    strategy: Name | None = None


class NotePublic(Wire):
    id: int
    title: str
    body: str
    run_id: int | None
    strategy: str | None


class NoteList(Page):
    data: list[NotePublic]
