"""Quote tools: the synthetic chain, pricing with greeks, implied volatility, the implied move
against our projection, and a delta-hedge backtest. Each answer is logged as a run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from phinance_env.app.context import ContextDep, answer
from phinance_env.app.wire import ERROR_RESPONSES, add_examples, text
from phinance_env.desks.options_vol_01.pricing import bsm_greeks, check_vol, implied_vol
from phinance_env.desks.options_vol_01.schemas import (
    Chain, HedgeResult, ImpliedVol, PriceRequestResult, ProjectionComparison, Quote,
)
from phinance_env.desks.options_vol_01.surface import implied_move
from phinance_env.desks.options_vol_01.tools.common import (
    chain, check_ticker, finish_run, listed_expiry, listed_strike, log_run,
)

router = APIRouter(tags=["quotes"], responses=ERROR_RESPONSES)
TickerQ = Annotated[str, Query(description="underlying, e.g. ^GSPC, ^IXIC or NOVA"), text(40)]
DateQ = Annotated[str, Query(description="YYYY-MM-DD; a non-session date uses the session before"), text(10)]
ExpiryQ = Annotated[str, Query(description="a listed expiry, YYYY-MM-DD (get_option_chain lists them)"), text(10)]
KindQ = Annotated[Literal["call", "put"], Query()]
StrikeQ = Annotated[float, Query(gt=0, le=1e7, description="a strike on the chain's grid")]
RICH, CHEAP = 1.1, 0.9


def _quote(q) -> Quote:
    return Quote(expiry=q.expiry.isoformat(), days=q.days, strike=q.strike, kind=q.kind, iv=q.iv, mid=q.mid,
                 bid=q.bid, ask=q.ask, delta=q.delta, gamma=q.gamma, vega_per_point=q.vega / 100,
                 theta_per_day=q.theta / 365)


@router.get("/chain", operation_id="get_option_chain", response_model=Chain)
def get_option_chain(
    ctx: ContextDep, ticker: TickerQ, as_of_date: DateQ,
    expiry: Annotated[str | None, Query(description="a listed expiry; omitted = the nearest"), text(10)] = None,
    kind: Annotated[Literal["call", "put"] | None, Query(description="only calls or only puts")] = None,
) -> Response:
    """The SYNTHETIC option chain of a ticker at a session's close (no real chains ship with
    the data: quotes come from a Black-Scholes-Merton model on a volatility surface anchored
    to ^VIX for ^GSPC, otherwise to realised volatility plus 2 vol points, with a put skew).
    Lists the monthly expiries (third Fridays after the session) and the strike grid, and the
    quotes of one expiry: implied vol, mid, bid/ask, delta, gamma, vega per vol point, theta
    per calendar day. Prices are per unit of the underlying; r = 2%, q = 2% for indices, 0
    for stocks; T = calendar days / 365."""
    with ctx.call("get_option_chain", ticker=ticker, as_of_date=as_of_date, expiry=expiry, kind=kind) as call:
        ch = chain(ctx.store, check_ticker(ctx.store, ticker), as_of_date)
        exp = listed_expiry(ch, expiry) if expiry else ch.expiries[0].isoformat()
        quotes = [_quote(q) for q in ch.quotes if q.expiry.isoformat() == exp and (kind is None or q.kind == kind)]
        session = ch.session.isoformat()
        row = log_run(call.db, "get_option_chain", ch.ticker, session, dict(ticker=ticker, as_of_date=as_of_date,
                                                                         expiry=exp, kind=kind))
        result = Chain(run_id=row.id, ticker=ch.ticker, session=session, note=ch.note, spot=ch.spot, rate=ch.rate,
                       dividend_yield=ch.dividend_yield, expiries=[e.isoformat() for e in ch.expiries],
                       strikes=list(ch.strikes), expiry=exp, quotes=quotes)
        finish_run(row, result)
    return answer(result)


@router.get("/price", operation_id="price_option", response_model=PriceRequestResult)
def price_option(
    ctx: ContextDep, ticker: TickerQ, as_of_date: DateQ, expiry: ExpiryQ, strike: StrikeQ, kind: KindQ,
    volatility: Annotated[float | None, Query(gt=0, le=5, description="a volatility to price at instead of the surface's (0.2 = 20%)")] = None,
) -> Response:
    """Price a European option on the synthetic chain with Black-Scholes-Merton, with its
    greeks: delta, gamma, vega (per 1.00 of vol, and per vol point), theta (per year, and per
    calendar day), rho (per 1.00 of rate). At the surface's implied vol unless `volatility`
    is given. The expiry must be a listed one after the session and the strike on the grid
    (get_option_chain); otherwise 422 listing what is there."""
    args = dict(ticker=ticker, as_of_date=as_of_date, expiry=expiry, strike=strike, kind=kind, volatility=volatility)
    with ctx.call("price_option", **args) as call:
        ch = chain(ctx.store, check_ticker(ctx.store, ticker), as_of_date)
        exp, k = listed_expiry(ch, expiry), listed_strike(ch, strike)
        t = ch.surface.time_to(exp)
        vol = check_vol(volatility) if volatility is not None else ch.surface.vol(k, t)
        g = bsm_greeks(kind, ch.spot, k, t, vol, ch.rate, ch.dividend_yield)
        session = ch.session.isoformat()
        row = log_run(call.db, "price_option", ch.ticker, session, args)
        result = PriceRequestResult(
            run_id=row.id, ticker=ch.ticker, session=session, note=ch.note, spot=ch.spot, expiry=exp, years=t,
            strike=k, kind=kind, volatility=vol, volatility_source="given" if volatility is not None else "surface",
            rate=ch.rate, dividend_yield=ch.dividend_yield, price=g.price, delta=g.delta, gamma=g.gamma, vega=g.vega,
            vega_per_point=g.vega_per_point, theta=g.theta, theta_per_day=g.theta_per_day, rho=g.rho)
        finish_run(row, result)
    return answer(result)


@router.get("/implied_vol", operation_id="implied_volatility", response_model=ImpliedVol)
def implied_volatility(
    ctx: ContextDep, ticker: TickerQ, as_of_date: DateQ, expiry: ExpiryQ, strike: StrikeQ, kind: KindQ,
    price: Annotated[float, Query(gt=0, le=1e7, description="the option's price, USD per unit")],
) -> Response:
    """The Black-Scholes-Merton implied volatility of an option price, with the session's
    spot, r and q (as the chain states them), beside the synthetic surface's vol at that
    strike. A price outside the no-arbitrage bounds has no implied vol: 422 with the bounds."""
    args = dict(ticker=ticker, as_of_date=as_of_date, expiry=expiry, strike=strike, kind=kind, price=price)
    with ctx.call("implied_volatility", **args) as call:
        ch = chain(ctx.store, check_ticker(ctx.store, ticker), as_of_date)
        exp, k = listed_expiry(ch, expiry), listed_strike(ch, strike)
        t = ch.surface.time_to(exp)
        iv = implied_vol(price, kind, ch.spot, k, t, ch.rate, ch.dividend_yield)
        session = ch.session.isoformat()
        row = log_run(call.db, "implied_volatility", ch.ticker, session, args)
        result = ImpliedVol(run_id=row.id, ticker=ch.ticker, session=session, note=ch.note, spot=ch.spot, expiry=exp,
                            strike=k, kind=kind, price=price, implied_volatility=iv,
                            surface_volatility=ch.surface.vol(k, t), rate=ch.rate, dividend_yield=ch.dividend_yield)
        finish_run(row, result)
    return answer(result)


@router.get("/compare", operation_id="compare_to_projection", response_model=ProjectionComparison)
def compare_to_projection(ctx: ContextDep, ticker: TickerQ, as_of_date: DateQ, expiry: ExpiryQ) -> Response:
    """The move the options price to an expiry against our projection's for the same horizon:
    implied move = ATM-forward straddle / spot; projected move = the projection's sd of the
    log return over the sessions to expiry x sqrt(2/pi) (the expected absolute move of a
    normal). Verdict: rich when implied / projected > 1.1, cheap below 0.9, fair between.
    Next-day direction is barely predictable; the projection's scale is what this uses."""
    with ctx.call("compare_to_projection", ticker=ticker, as_of_date=as_of_date, expiry=expiry) as call:
        ch = chain(ctx.store, check_ticker(ctx.store, ticker), as_of_date)
        exp = listed_expiry(ch, expiry)
        cmp = projection_comparison(ch, exp, ctx.projections("ewma"))
        session = ch.session.isoformat()
        row = log_run(call.db, "compare_to_projection", ch.ticker, session, dict(ticker=ticker, as_of_date=as_of_date,
                                                                                expiry=expiry))
        result = ProjectionComparison(run_id=row.id, ticker=ch.ticker, session=session, note=ch.note, expiry=exp, **cmp)
        finish_run(row, result)
    return answer(result)


def projection_comparison(ch, expiry: str, projections) -> dict:
    """The implied move to ``expiry`` against the projection's (see compare_to_projection)."""
    import numpy as np

    from phinance_env.market.calendar import xnys_days

    days = xnys_days()
    h = int(np.searchsorted(days, np.datetime64(expiry, "D"), side="right")
            - np.searchsorted(days, np.datetime64(ch.session, "D"), side="right"))
    packet = projections.project(ch.ticker, ch.session.isoformat(), horizons=(h,))
    hp = next(x for x in packet.horizons if x.sessions == h)
    sigma = hp.sigma_bps / 1e4
    projected = sigma * math.sqrt(2 / math.pi)
    move = implied_move(ch.surface, expiry)
    ratio = move / projected
    cone = hp.cone(0.75)
    return dict(sessions_to_expiry=h, implied_move=move, atm_vol=ch.surface.atm_vol(ch.surface.time_to(expiry)),
                projected_sigma=sigma, projected_move=projected,
                projected_cone75=[cone.lower_bps / 1e4, cone.upper_bps / 1e4], ratio=ratio,
                verdict="rich" if ratio > RICH else "cheap" if ratio < CHEAP else "fair")


@router.get("/hedge", operation_id="hedge_backtest", response_model=HedgeResult)
def hedge_backtest(
    ctx: ContextDep, ticker: TickerQ,
    start: Annotated[str, Query(description="the session the option is traded at its synthetic mid"), text(10)],
    expiry: Annotated[str, Query(description="a session on or before 2018-12-31 (a listed expiry of start's chain)"), text(10)],
    strike: StrikeQ, kind: KindQ,
    rebalance: Annotated[int, Query(ge=1, le=63, description="re-hedge every this many sessions (1 = daily)")] = 1,
    position: Annotated[Literal["short", "long"], Query(description="the option sold (default) or bought")] = "short",
) -> Response:
    """Delta-hedge one option over real closes: trade it at start's synthetic mid, hold
    -delta (short option) units of the underlying at the inception implied vol, re-hedged at
    the close every `rebalance` sessions, settle at intrinsic value at expiry's close. P&L in
    USD per unit: option + hedge + financing (cash at r, dividends at q) = total; no costs.
    The strike must be on start's grid and the expiry a listed one within the data."""
    from phinance_env.desks.options_vol_01.hedging import delta_hedge_backtest

    args = dict(ticker=ticker, start=start, expiry=expiry, strike=strike, kind=kind, rebalance=rebalance, position=position)
    with ctx.call("hedge_backtest", **args) as call:
        ch = chain(ctx.store, check_ticker(ctx.store, ticker), start)
        exp, k = listed_expiry(ch, expiry), listed_strike(ch, strike)
        bt = delta_hedge_backtest(ctx.store, ch.ticker, start, exp, k, kind, rebalance, position=position)
        row = log_run(call.db, "hedge_backtest", ch.ticker, bt.start.isoformat(), args)
        result = HedgeResult(
            run_id=row.id, ticker=ch.ticker, kind=kind, strike=k, position=position, start=bt.start.isoformat(),
            expiry=bt.expiry.isoformat(), note=bt.note, rebalance_every=bt.rebalance_every,
            n_rebalances=bt.n_rebalances, implied_vol=bt.implied_vol, realised_vol=bt.realised_vol, premium=bt.premium,
            option_pnl=bt.option_pnl, hedge_pnl=bt.hedge_pnl, financing_pnl=bt.financing_pnl, total_pnl=bt.total_pnl)
        finish_run(row, result)
    return answer(result)


add_examples(router, Path(__file__).with_name("examples.json"))
