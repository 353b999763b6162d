"""Book-keeping tools: tradable tickers, books, the trade blotter, limits, the report log and
notes. Every write is one transaction; a refused call writes only its log line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from phinance_env.app.context import ContextDep, answer
from phinance_env.app.wire import ERROR_RESPONSES, add_examples, text
from phinance_env.desks.portfolio_risk_01 import analysis
from phinance_env.desks.portfolio_risk_01.ledger import Fill, cash_after, fill_amount, infeasible, positions_after
from phinance_env.desks.portfolio_risk_01.schemas import (
    Holding, LimitList, LimitPublic, LimitSet, NoteCreate, NoteList, NotePublic, PortfolioCreate, PortfolioList,
    PortfolioPublic, PositionValue, ReportList, ReportPublic, Tradable, TradableList, TradeCreate, TradeList,
    TradePublic, TradeResult, Valuation,
)
from phinance_env.desks.portfolio_risk_01.tables import Limit, Note, Portfolio, Position, Report, Trade
from phinance_env.desks.portfolio_risk_01.tools.common import fills, holdings, portfolio
from phinance_env.errors import Conflict, NotFound

router = APIRouter(tags=["books"], responses=ERROR_RESPONSES)
NameQuery = Annotated[str, Query(description="the portfolio's name, exactly as list_portfolios shows it"), text(64)]
OptDate = Annotated[str | None, Query(description="YYYY-MM-DD; omitted = the last session in the data"), text(10)]
PageLimit = Annotated[int, Query(ge=1, le=200, description="at most this many, 1-200")]
PageOffset = Annotated[int, Query(ge=0, le=1_000_000, description="skip this many first")]


@router.get("/tickers", operation_id="list_tickers", response_model=TradableList)
def list_tickers(ctx: ContextDep) -> Response:
    """The tickers the desk can trade, with name, sector, source and their first and last
    sessions: the real indices ^GSPC and ^IXIC (they trade like an index fund at the index
    level) and the synthetic stocks (simulated prices, not real companies). ^VIX is not
    tradable. All prices are daily closes; every fill is at its session's close."""
    with ctx.call("list_tickers"):
        rows = [Tradable(symbol=t.symbol, name=t.name, sector=t.sector, source=t.source,
                         first_session=t.first_session, last_session=t.last_session)
                for t in ctx.store.tickers() if not t.close_only]
    return answer(TradableList(data=rows, count=len(rows), total=len(rows)))


def _public(db, book: Portfolio, note: str | None = None) -> PortfolioPublic:
    counts = dict(db.execute(select(Trade.status, func.count()).where(Trade.portfolio_id == book.id)
                             .group_by(Trade.status)).all())
    return PortfolioPublic(id=book.id, name=book.name, starting_cash=book.starting_cash, cash=book.cash,
                           inception_date=book.inception_date,
                           positions=[Holding(ticker=p.ticker, shares=p.shares) for p in book.positions],
                           trades_filled=counts.get("filled", 0), trades_rejected=counts.get("rejected", 0), note=note)


@router.post("/portfolios", operation_id="create_portfolio", response_model=PortfolioPublic)
def create_portfolio(ctx: ContextDep, body: PortfolioCreate) -> Response:
    """Open a book: a unique name (1-64 characters), starting cash in USD (> 0) and an
    inception date (YYYY-MM-DD; a weekend or holiday resolves to the session before, with a
    note). The book is long-only, in USD, and holds only cash until you place_trade. A name
    in use gives 409; a date outside the data (1999-01-04..2018-12-31) 422."""
    with ctx.call("create_portfolio", **body.model_dump()) as call:
        session, note = analysis.session_of(ctx.store, body.inception_date, "inception_date")
        if call.db.scalar(select(Portfolio.id).where(Portfolio.name == body.name)) is not None:
            raise Conflict(f"a portfolio named {body.name!r} already exists; pick another name")
        book = Portfolio(name=body.name, starting_cash=round(body.cash, 2), cash=round(body.cash, 2),
                         inception_date=session)
        call.db.add(book)
        call.db.flush()
        result = _public(call.db, book, note)
    return answer(result)


@router.get("/portfolios", operation_id="list_portfolios", response_model=PortfolioList)
def list_portfolios(ctx: ContextDep) -> Response:
    """Every book by name: starting cash, cash and positions after all filled trades,
    inception session, and how many orders were filled and rejected. For values at a
    date use get_portfolio."""
    with ctx.call("list_portfolios") as call:
        books = call.db.scalars(select(Portfolio).order_by(Portfolio.name)).all()
        data = [_public(call.db, b) for b in books]
    return answer(PortfolioList(data=data, count=len(data), total=len(data)))


@router.get("/portfolio", operation_id="get_portfolio", response_model=Valuation)
def get_portfolio(ctx: ContextDep, name: NameQuery, as_of_date: OptDate = None) -> Response:
    """A book marked to market at a session's closes: each position (shares held after the
    filled trades dated on or before it, close, value, weight), cash, total value, and P&L
    since inception (total value - starting cash, in USD and as a fraction). A date before
    the book's inception or outside the data gives 422; a non-session date resolves to the
    session before, with a note."""
    with ctx.call("get_portfolio", name=name, as_of_date=as_of_date) as call:
        book = portfolio(call.db, name)
        session, note = analysis.session_of(ctx.store, as_of_date or _last(ctx), "as_of_date")
        mark = analysis.valuation(ctx.store, holdings(call.db, book, session), session)
        result = valuation_model(book.name, mark, note)
    return answer(result)


def valuation_model(name: str, mark, note: str | None) -> Valuation:
    shares = {t: int(round(v / mark.prices[t])) for t, v in mark.values.items()}
    return Valuation(
        portfolio=name, session=str(mark.session), note=note,
        positions=[PositionValue(ticker=t, shares=shares[t], price=mark.prices[t], value=round(mark.values[t], 2),
                                 weight=mark.weights[t]) for t in sorted(mark.values)],
        cash=round(mark.cash, 2), cash_weight=mark.cash_weight, positions_value=round(mark.positions_value, 2),
        total_value=round(mark.total_value, 2), starting_cash=mark.capital, pnl=round(mark.pnl, 2),
        pnl_pct=mark.pnl_pct)


def _last(ctx) -> str:
    return str(ctx.store.series(analysis.CALENDAR).sessions[-1])


def _trade_public(t: Trade, name: str) -> TradePublic:
    return TradePublic(id=t.id, portfolio=name, ticker=t.ticker, side=t.side, shares=t.shares,
                       requested_date=t.requested_date, session=t.session, fill_price=t.fill_price,
                       amount=t.amount, status=t.status, reason=t.reason, note=t.note)


@router.post("/trades", operation_id="place_trade", response_model=TradeResult)
def place_trade(ctx: ContextDep, body: TradeCreate) -> Response:
    """Buy or sell whole shares of a ticker for a book at a session's close. The order is
    recorded on the blotter either way: status `filled` (at that session's close; cash and
    position move by shares x close, rounded to the cent) or `rejected` with one reason,
    nothing else changing: not enough cash, not enough shares (the book is long-only), or a
    limit of the book it would breach (set_limit; an order that does not make an already
    breached metric worse passes). A weekend or holiday date fills at the session before,
    with a note. Orders may be back-dated to any session from the book's inception, as long
    as cash and shares stay >= 0 from then on. Bad arguments (unknown book or ticker, a
    date before inception or outside the ticker's data, shares < 1) give 4xx and record
    nothing."""
    with ctx.call("place_trade", **body.model_dump()) as call:
        book = portfolio(call.db, body.portfolio)
        symbol = analysis.tradable(ctx.store, body.ticker)
        session, note = analysis.session_of(ctx.store, body.date, "date")
        before = holdings(call.db, book, session)
        price = analysis.close_on(ctx.store, symbol, session)
        sign = 1 if body.side == "buy" else -1
        amount = fill_amount(body.shares, price)
        order = Fill(session, symbol, sign * body.shares, sign * amount)
        past = fills(call.db, book)
        reason = infeasible(book.starting_cash, past, order)
        if reason is None:
            limits = dict(call.db.execute(select(Limit.metric, Limit.threshold)
                                          .where(Limit.portfolio_id == book.id)).all())
            if limits:
                from phinance_env.desks.portfolio_risk_01.ledger import book_as_of

                after = book_as_of(book.starting_cash, [*past, order], session)
                reason = analysis.breach_reason(ctx.store, before, after, session, limits)
        trade = Trade(portfolio_id=book.id, ticker=symbol, side=body.side, shares=body.shares,
                      requested_date=body.date, session=session, status="rejected" if reason else "filled",
                      fill_price=None if reason else price, amount=None if reason else amount,
                      reason=reason, note=note)
        call.db.add(trade)
        if reason is None:
            _apply(call.db, book, [*past, order])
        call.db.flush()
        held = next((p.shares for p in book.positions if p.ticker == symbol), 0)
        result = TradeResult(trade=_trade_public(trade, book.name), cash=book.cash, shares_held=held)
    return answer(result)


def _apply(db, book: Portfolio, all_fills: list[Fill]) -> None:
    """Set the book's cash and positions to what its filled trades make them."""
    book.cash = cash_after(book.starting_cash, all_fills)
    target = positions_after(all_fills)
    for p in list(book.positions):
        if p.ticker not in target:
            book.positions.remove(p)
        else:
            p.shares = target.pop(p.ticker)
    db.flush()
    for ticker, shares in target.items():
        book.positions.append(Position(ticker=ticker, shares=shares))


@router.get("/trades", operation_id="list_trades", response_model=TradeList)
def list_trades(
    ctx: ContextDep, portfolio_name: Annotated[str, Query(alias="portfolio", description="the portfolio's name"), text(64)],
    status: Annotated[Literal["filled", "rejected"] | None, Query(description="only this status")] = None,
    limit: PageLimit = 100, offset: PageOffset = 0,
) -> Response:
    """A book's blotter, oldest session first: every order with side, shares, requested date,
    session, fill price, amount, status (filled or rejected) and the reason of a rejection."""
    with ctx.call("list_trades", portfolio=portfolio_name, status=status, limit=limit, offset=offset) as call:
        book = portfolio(call.db, portfolio_name)
        query = select(Trade).where(Trade.portfolio_id == book.id)
        if status:
            query = query.where(Trade.status == status)
        total = call.db.scalar(select(func.count()).select_from(query.subquery()))
        rows = call.db.scalars(query.order_by(Trade.session, Trade.id).limit(limit).offset(offset)).all()
        data = [_trade_public(t, book.name) for t in rows]
    return answer(TradeList(data=data, count=len(data), total=total))


@router.post("/limits", operation_id="set_limit", response_model=LimitPublic)
def set_limit(ctx: ContextDep, body: LimitSet) -> Response:
    """Set (or replace) a risk limit of a book; place_trade then refuses orders that would
    breach it. Metrics, each a fraction in (0, 1]: max_position_weight (largest position's
    value / total value), max_var_99 (1-session 99% historical VaR over 250 sessions, as a
    fraction of value), max_drawdown (largest peak-to-trough fall of the book's returns over
    250 sessions). E.g. metric=max_position_weight, threshold=0.25."""
    with ctx.call("set_limit", **body.model_dump()) as call:
        book = portfolio(call.db, body.portfolio)
        row = call.db.scalar(select(Limit).where(Limit.portfolio_id == book.id, Limit.metric == body.metric))
        replaced = None
        if row is None:
            row = Limit(portfolio_id=book.id, metric=body.metric, threshold=body.threshold)
            call.db.add(row)
        else:
            replaced, row.threshold = row.threshold, body.threshold
        call.db.flush()
        result = LimitPublic(id=row.id, portfolio=book.name, metric=row.metric, threshold=row.threshold, replaced=replaced)
    return answer(result)


@router.get("/limits", operation_id="list_limits", response_model=LimitList)
def list_limits(ctx: ContextDep, portfolio_name: Annotated[str, Query(alias="portfolio", description="the portfolio's name"), text(64)]) -> Response:
    """A book's risk limits (metric and threshold). check_limits evaluates them at a date."""
    with ctx.call("list_limits", portfolio=portfolio_name) as call:
        book = portfolio(call.db, portfolio_name)
        rows = call.db.scalars(select(Limit).where(Limit.portfolio_id == book.id).order_by(Limit.metric)).all()
        data = [LimitPublic(id=r.id, portfolio=book.name, metric=r.metric, threshold=r.threshold) for r in rows]
    return answer(LimitList(data=data, count=len(data), total=len(data)))


@router.get("/reports", operation_id="list_reports", response_model=ReportList)
def list_reports(
    ctx: ContextDep,
    portfolio_name: Annotated[str | None, Query(alias="portfolio", description="only this book"), text(64)] = None,
    kind: Annotated[Literal["risk", "performance", "limits", "rebalance", "stress"] | None, Query()] = None,
    limit: PageLimit = 50, offset: PageOffset = 0,
) -> Response:
    """The log of risk, performance, limit-check, rebalance and stress reports, newest first,
    each with its request and its answer as given."""
    with ctx.call("list_reports", portfolio=portfolio_name, kind=kind, limit=limit, offset=offset) as call:
        query = select(Report, Portfolio.name).join(Portfolio, Portfolio.id == Report.portfolio_id)
        if portfolio_name is not None:
            query = query.where(Report.portfolio_id == portfolio(call.db, portfolio_name).id)
        if kind:
            query = query.where(Report.kind == kind)
        total = call.db.scalar(select(func.count()).select_from(query.subquery()))
        rows = call.db.execute(query.order_by(Report.id.desc()).limit(limit).offset(offset)).all()
        data = [ReportPublic(id=r.id, portfolio=name, kind=r.kind, session=r.session, params=json.loads(r.params),
                             result=json.loads(r.result)) for r, name in rows]
    return answer(ReportList(data=data, count=len(data), total=total))


@router.post("/notes", operation_id="create_note", response_model=NotePublic)
def create_note(ctx: ContextDep, body: NoteCreate) -> Response:
    """Write a desk note: a title (1-200 characters), a body (up to 10,000), optionally about
    a portfolio (by name) and a report (its report_id from a risk, performance, limit,
    rebalance or stress answer). An unknown portfolio or report gives 404."""
    with ctx.call("create_note", **body.model_dump()) as call:
        book = portfolio(call.db, body.portfolio) if body.portfolio else None
        if body.report_id is not None and call.db.get(Report, body.report_id) is None:
            raise NotFound(f"no report {body.report_id}; list_reports shows the logged ones")
        row = Note(title=body.title, body=body.body, portfolio_id=book.id if book else None, report_id=body.report_id)
        call.db.add(row)
        call.db.flush()
        result = NotePublic(id=row.id, title=row.title, body=row.body, portfolio=book.name if book else None,
                            report_id=row.report_id)
    return answer(result)


@router.get("/notes", operation_id="list_notes", response_model=NoteList)
def list_notes(
    ctx: ContextDep,
    portfolio_name: Annotated[str | None, Query(alias="portfolio", description="only notes about this book"), text(64)] = None,
) -> Response:
    """Desk notes, oldest first, optionally only those about one portfolio."""
    with ctx.call("list_notes", portfolio=portfolio_name) as call:
        query = select(Note, Portfolio.name).outerjoin(Portfolio, Portfolio.id == Note.portfolio_id)
        if portfolio_name is not None:
            query = query.where(Note.portfolio_id == portfolio(call.db, portfolio_name).id)
        rows = call.db.execute(query.order_by(Note.id)).all()
        data = [NotePublic(id=n.id, title=n.title, body=n.body, portfolio=name, report_id=n.report_id)
                for n, name in rows]
    return answer(NoteList(data=data, count=len(data), total=len(data)))


add_examples(router, Path(__file__).with_name("examples.json"))
