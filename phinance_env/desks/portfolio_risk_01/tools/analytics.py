"""Risk tools: VaR/ES, volatility, beta and drawdown; performance; limit checks; rebalance
proposals; stress tests. Each answer is logged as a report (list_reports) in the same
transaction as its tool-call log line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from phinance_env.app.context import ContextDep, answer
from phinance_env.app.wire import ERROR_RESPONSES, add_examples, text, ticker_list
from phinance_env.desks.portfolio_risk_01 import analysis
from phinance_env.desks.portfolio_risk_01.performance import Trade as PerfTrade
from phinance_env.desks.portfolio_risk_01.performance import performance
from phinance_env.desks.portfolio_risk_01.risk import DEFAULT_WINDOW, check_confidence, window_returns
from phinance_env.desks.portfolio_risk_01.schemas import (
    LimitCheck, LimitStatus, Order, PerformanceResult, PositionPnl, RebalanceProposal, RebalanceRequest,
    RiskContribution, RiskResult, StressLine, StressResult, Tail, TargetWeight,
)
from phinance_env.desks.portfolio_risk_01.tables import Limit
from phinance_env.desks.portfolio_risk_01.tools.common import fills, finish_report, holdings, log_report, portfolio
from phinance_env.errors import BadRange, PhinanceError

router = APIRouter(tags=["risk"], responses=ERROR_RESPONSES)
NameQuery = Annotated[str, Query(description="the portfolio's name, exactly as list_portfolios shows it"), text(64)]
DateQuery = Annotated[str, Query(description="YYYY-MM-DD (a non-session date uses the session before)"), text(10)]
CONVENTIONS = (
    "1-session horizon; losses positive, as fractions of total value (and USD). Returns: simple daily "
    "returns of the positions held at the as-of close (cash earns 0) over the window's sessions. "
    "Historical: empirical quantile of losses (inverted CDF; at 250 sessions the 13th / 3rd largest loss at "
    "95% / 99%), ES the mean from that loss up. Parametric: normal with the window's mean and sample "
    "standard deviation. Volatility annualised by sqrt(252); beta: OLS slope on ^GSPC's daily returns; "
    "contributions: Euler shares of the parametric figures.")


@router.get("/risk", operation_id="compute_risk", response_model=RiskResult)
def compute_risk(
    ctx: ContextDep, portfolio_name: Annotated[str, Query(alias="portfolio", description="the portfolio's name"), text(64)],
    as_of_date: DateQuery,
    window: Annotated[int, Query(ge=20, le=2500, description="sessions of daily returns (default 250)")] = DEFAULT_WINDOW,
    confidence: Annotated[float | None, Query(gt=0, lt=1, description="an extra confidence level besides 0.95 and 0.99")] = None,
) -> Response:
    """Risk of a book as held at a session's close: 1-session value at risk and expected
    shortfall, historical and parametric (normal), at 95% and 99% (and `confidence` if
    given), as positive losses in fractions of total value and USD; annualised volatility;
    beta to ^GSPC; maximum drawdown over the window; each position's Euler contribution.
    The window is the `window` sessions of daily returns ending at the as-of session
    (default 250). A book with no positions then, or too little history, gives 422."""
    args = dict(portfolio=portfolio_name, as_of_date=as_of_date, window=window, confidence=confidence)
    with ctx.call("compute_risk", **args) as call:
        book = portfolio(call.db, portfolio_name)
        session, note = analysis.session_of(ctx.store, as_of_date, "as_of_date")
        levels = sorted({0.95, 0.99, *([check_confidence(confidence)] if confidence is not None else [])})
        rep = analysis.risk(ctx.store, holdings(call.db, book, session), session, window, levels)
        row = log_report(call.db, book, "risk", session, args)
        tails = [Tail(method=method, confidence=a, var=t.var, es=t.es, var_usd=round(t.var_usd, 2), es_usd=round(t.es_usd, 2))
                 for method, table in (("historical", rep.historical), ("parametric", rep.parametric))
                 for a, t in table.items()]
        result = RiskResult(
            report_id=row.id, portfolio=book.name, session=session, note=note, window=rep.window,
            first_session=str(rep.first_session), total_value=round(rep.mark.total_value, 2), tails=tails,
            mean_daily_return=rep.mean_daily_return, daily_volatility=rep.daily_volatility,
            annualised_volatility=rep.annualised_volatility, beta=rep.beta, max_drawdown=rep.max_drawdown,
            contributions=[RiskContribution(ticker=c.ticker, weight=c.weight, volatility=c.volatility,
                                            var={f"{a:g}": v for a, v in c.var.items()},
                                            es={f"{a:g}": v for a, v in c.es.items()}) for c in rep.contributions],
            conventions=CONVENTIONS)
        finish_report(row, result)
    return answer(result)


@router.get("/performance", operation_id="get_performance", response_model=PerformanceResult)
def get_performance(
    ctx: ContextDep, portfolio_name: Annotated[str, Query(alias="portfolio", description="the portfolio's name"), text(64)],
    start: DateQuery, end: DateQuery,
) -> Response:
    """Performance of a book from one session's close to a later one's: time-weighted return
    (daily returns of the book's value chained; trades fill at the close, so they are not
    performance), P&L in USD (end value - start value) and P&L by position. The book is
    taken as held at start's close; its filled trades in (start, end] apply at their
    sessions. start before the book's inception, or end not after start, gives 422."""
    with ctx.call("get_performance", portfolio=portfolio_name, start=start, end=end) as call:
        book = portfolio(call.db, portfolio_name)
        s0, note0 = analysis.session_of(ctx.store, start, "start")
        s1, note1 = analysis.session_of(ctx.store, end, "end")
        if s1 <= s0:
            raise BadRange(f"end ({s1}) must be a session after start ({s0})")
        held = holdings(call.db, book, s0)
        later = [f for f in fills(call.db, book) if s0 < f.session <= s1]
        # at the price the cash really moved by: the blotter's amount (the close x shares, to the cent)
        trades = [PerfTrade(f.session, f.ticker, f.shares, f.amount / f.shares) for f in later]
        tickers = sorted({*held.tickers, *(t.ticker for t in trades)})
        closes = analysis.closes_for(ctx.store, tickers, s1)
        perf = performance(held, closes, s0, s1, trades)
        row = log_report(call.db, book, "performance", s1, dict(portfolio=portfolio_name, start=start, end=end))
        result = PerformanceResult(
            report_id=row.id, portfolio=book.name, start=str(perf.start), end=str(perf.end),
            notes=[n for n in (note0, note1) if n], start_value=round(perf.start_value, 2),
            end_value=round(perf.end_value, 2), pnl=round(perf.pnl, 2), twr=perf.twr,
            pnl_by_position=[PositionPnl(ticker=t, pnl=round(v, 2)) for t, v in sorted(perf.pnl_by_position.items())],
            trades=len(later))
        finish_report(row, result)
    return answer(result)


@router.get("/limits/check", operation_id="check_limits", response_model=LimitCheck)
def check_limits(
    ctx: ContextDep, portfolio_name: Annotated[str, Query(alias="portfolio", description="the portfolio's name"), text(64)],
    date: DateQuery,
) -> Response:
    """Evaluate every limit of a book as held at a session's close: each metric's value
    (max_position_weight, max_var_99 = 1-session 99% historical VaR over 250 sessions,
    max_drawdown over 250 sessions; fractions), ok or breach, and the overall status."""
    with ctx.call("check_limits", portfolio=portfolio_name, date=date) as call:
        book = portfolio(call.db, portfolio_name)
        session, note = analysis.session_of(ctx.store, date, "date")
        held = holdings(call.db, book, session)
        lines = []
        for lim in call.db.scalars(select(Limit).where(Limit.portfolio_id == book.id).order_by(Limit.metric)):
            v = analysis.limit_value(ctx.store, held, session, lim.metric)
            status = "unavailable" if v.value is None else ("breach" if v.value > lim.threshold + 1e-12 else "ok")
            lines.append(LimitStatus(metric=lim.metric, threshold=lim.threshold, value=v.value, status=status, detail=v.detail))
        states = {line.status for line in lines}
        overall = ("no limits" if not lines else "breach" if "breach" in states
                   else "unavailable" if "unavailable" in states else "ok")
        row = log_report(call.db, book, "limits", session, dict(portfolio=portfolio_name, date=date))
        result = LimitCheck(report_id=row.id, portfolio=book.name, session=session, note=note, status=overall, limits=lines)
        finish_report(row, result)
    return answer(result)


def parse_weights(target) -> dict[str, float]:
    """'NOVA:0.4, ^GSPC:0.5', a JSON object as text, or a dict -> {ticker: weight}."""
    if isinstance(target, str):
        raw = target.strip()
        if raw.startswith("{"):
            try:
                target = json.loads(raw)
            except (json.JSONDecodeError, RecursionError):  # nested past Python's limit
                raise PhinanceError("target looks like a JSON object but does not parse; use 'NOVA:0.4, ^GSPC:0.5'") from None
        else:
            target = []  # pairs, so that a ticker given twice is seen
            for part in filter(None, (p.strip() for p in raw.split(","))):
                ticker, sep, weight = part.rpartition(":") if ":" in part else part.rpartition("=")
                if not sep or not ticker.strip():
                    raise PhinanceError(f"target entry {part[:40]!r} is not TICKER:WEIGHT, e.g. 'NOVA:0.4, ^GSPC:0.5'")
                target.append((ticker.strip(), weight))
    if not isinstance(target, (dict, list)) or not target:
        raise PhinanceError("target must name at least one TICKER:WEIGHT, e.g. 'NOVA:0.4, ^GSPC:0.5'")
    from phinance_env.market.store import normalize_symbol

    out: dict[str, float] = {}
    for ticker, weight in (target.items() if isinstance(target, dict) else target):
        try:
            w = float(str(weight).strip().rstrip("%")) / (100 if str(weight).strip().endswith("%") else 1)
        except ValueError:
            raise PhinanceError(f"weight of {ticker} is not a number: {str(weight)[:20]!r}") from None
        if not (math.isfinite(w) and 0 <= w <= 1):
            raise BadRange(f"weight of {ticker} must be in [0, 1] (a fraction of total value), got {weight!r}")
        symbol = normalize_symbol(str(ticker))
        if symbol in out:
            raise PhinanceError(f"{symbol} appears twice in target: give each ticker one weight")
        out[symbol] = w
    if sum(out.values()) > 1 + 1e-9:
        raise BadRange(f"target weights sum to {sum(out.values()):.4f}; they may sum to at most 1 (the rest is cash)")
    return out


@router.post("/rebalance", operation_id="propose_rebalance", response_model=RebalanceProposal)
def propose_rebalance(ctx: ContextDep, body: RebalanceRequest) -> Response:
    """Propose the whole-share orders that take a book, as held at a session's close, to
    target weights of its total value - either `target` (e.g. 'NOVA:0.4, ^GSPC:0.5'; the
    rest stays cash; a held ticker left out is sold) or `objective` (min_volatility or
    max_sharpe: skfolio's mean-variance optimiser over `window` sessions of daily returns of
    `tickers`, fully invested, each weight within [min_weight, max_weight]). New shares =
    floor(weight x total value / close), so cash never goes negative. Nothing is executed:
    place each order with place_trade (sells first) at the same date."""
    with ctx.call("propose_rebalance", **body.model_dump()) as call:
        book = portfolio(call.db, body.portfolio)
        session, note = analysis.session_of(ctx.store, body.date, "date")
        held = holdings(call.db, book, session)
        stats: dict[str, float | None] = {}
        if (body.target is None) == (body.objective is None):
            raise PhinanceError("give exactly one of target (weights) or objective (min_volatility or max_sharpe)")
        if body.target is not None:
            targets = {analysis.tradable(ctx.store, t): w for t, w in parse_weights(body.target).items()}
            method = "target"
        else:
            targets, stats = _optimised(ctx, body, held, session)
            method = body.objective
        prices = {t: analysis.close_on(ctx.store, t, session) for t in sorted({*targets, *held.tickers})}
        mark = analysis.valuation(ctx.store, held, session)
        orders, after, cash = analysis.rebalance_orders(held, mark, targets, prices)
        total = mark.total_value
        positions = [dict(ticker=t, shares=s, price=prices[t], value=round(s * prices[t], 2),
                          weight=s * prices[t] / total) for t, s in after.items()]
        row = log_report(call.db, book, "rebalance", session, body.model_dump())
        result = RebalanceProposal(
            report_id=row.id, portfolio=book.name, session=session, note=note, method=method,
            target_weights=[TargetWeight(ticker=t, weight=w) for t, w in sorted(targets.items())],
            orders=[Order(ticker=o.ticker, side=o.side, shares=o.shares, price=o.price, amount=o.amount) for o in orders],
            positions_after=positions, cash_after=cash, total_value=round(total, 2), **stats)
        finish_report(row, result)
    return answer(result)


def _optimised(ctx, body: RebalanceRequest, held, session: str):
    from phinance_env.desks.portfolio_risk_01.optimise import optimise_weights

    if body.tickers is not None:
        parsed = ticker_list(body.tickers)
        raw = parsed.split(",") if isinstance(parsed, str) else parsed
        universe = list(dict.fromkeys(analysis.tradable(ctx.store, t) for t in raw if str(t).strip()))
    else:
        universe = list(held.tickers)
    if not universe:
        raise PhinanceError("the book holds nothing on that date: name the tickers to optimise over")
    if len(universe) > 30:
        raise PhinanceError(f"{len(universe)} tickers given; the optimiser takes at most 30")
    closes = analysis.closes_for(ctx.store, universe, session)
    returns, _ = window_returns(closes, universe, session, body.window)
    opt = optimise_weights(returns, body.objective, body.min_weight, body.max_weight, body.risk_free_rate)
    stats = dict(expected_return=opt.expected_return, volatility=opt.volatility,
                 sharpe=None if math.isnan(opt.sharpe) else opt.sharpe)
    return opt.weights, stats


@router.get("/stress", operation_id="stress_test", response_model=StressResult)
def stress_test(
    ctx: ContextDep, portfolio_name: Annotated[str, Query(alias="portfolio", description="the portfolio's name"), text(64)],
    scenario: Annotated[str | None, Query(description="a named historical window, e.g. lehman_2008"), text(40)] = None,
    as_of_date: Annotated[str | None, Query(description="the book as held and marked at this date; default the last session in the data"), text(10)] = None,
    start: Annotated[str | None, Query(description="custom window: first session, YYYY-MM-DD"), text(10)] = None,
    end: Annotated[str | None, Query(description="custom window: last session, YYYY-MM-DD"), text(10)] = None,
) -> Response:
    """Revalue a book, as held and marked at a session, under a historical window's returns:
    each position moves by its ticker's return from the close before the window's first
    session to the close of its last (cash does not move). Named windows: dotcom_2000,
    sept11_2001, lehman_2008 (2008-09-15..2008-10-15), recovery_2009, euro_crisis_2010,
    us_downgrade_2011, china_deval_2015, volmageddon_2018, q4_selloff_2018; or give start
    and end. A ticker without data in the window (the synthetic stocks start in 2005) gives
    422."""
    args = dict(portfolio=portfolio_name, scenario=scenario, as_of_date=as_of_date, start=start, end=end)
    with ctx.call("stress_test", **args) as call:
        book = portfolio(call.db, portfolio_name)
        name, first, last = analysis.stress_window(ctx.store, scenario, start, end)
        session, note = analysis.session_of(ctx.store, as_of_date or str(ctx.store.series(analysis.CALENDAR).sessions[-1]),
                                            "as_of_date")
        held = holdings(call.db, book, session)
        mark, lines = analysis.stress(ctx.store, held, session, first, last)
        pnl = math.fsum(line.pnl for line in lines)
        row = log_report(call.db, book, "stress", session, args)
        described = analysis.STRESS_SCENARIOS.get(name, (first, last, "a custom window"))[2]
        result = StressResult(
            report_id=row.id, portfolio=book.name, scenario=name, description=described, window_start=first,
            window_end=last, session=session, note=note, total_value=round(mark.total_value, 2), pnl=round(pnl, 2),
            pnl_pct=pnl / mark.total_value,
            positions=[StressLine(ticker=s.ticker, value=round(s.value, 2), window_return=s.ret, pnl=round(s.pnl, 2))
                       for s in lines])
        finish_report(row, result)
    return answer(result)


add_examples(router, Path(__file__).with_name("examples.json"))
__all__ = ["parse_weights", "router"]
