"""Strategy and book tools: named strategies and their analysis, option books with their
aggregate greeks, the run log and notes. Writes are one transaction; a refused call writes
only its log line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select

from phinance_env.app.context import ContextDep, answer
from phinance_env.app.wire import ERROR_RESPONSES, add_examples, text
from phinance_env.desks.options_vol_01.pricing import intrinsic_value
from phinance_env.desks.options_vol_01.schemas import (
    BookCreate, BookGreeks, BookPublic, LegIn, LegPublic, LegValue, NoteCreate, NoteList, NotePublic, PayoffPoint,
    PositionCreate, PositionPublic, RunList, RunPublic, StrategyAnalysis, StrategyCreate, StrategyList, StrategyPublic,
)
from phinance_env.desks.options_vol_01.tables import BookPosition, Note, OptionBook, Run, Strategy, StrategyLeg
from phinance_env.desks.options_vol_01.tools.common import (
    chain, check_ticker, finish_run, listed_expiry, listed_strike, log_run,
)
from phinance_env.errors import BadDate, Conflict, NotFound, PhinanceError
from phinance_env.market.calendar import parse_date

router = APIRouter(tags=["strategies"], responses=ERROR_RESPONSES)
NameQ = Annotated[str, Query(description="the name, exactly as listed"), text(64)]
DateQ = Annotated[str, Query(description="YYYY-MM-DD; a non-session date uses the session before"), text(10)]
MAX_LEGS = 6
LEGS = TypeAdapter(list[LegIn])


def _legs(raw) -> list[LegIn]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):  # nested past Python's limit: not legs either
            raise PhinanceError('legs must be a JSON list, e.g. [{"kind": "call", "strike": 2700, "quantity": 1}]') from None
    try:
        legs = LEGS.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PhinanceError(f"legs[{where}]: {first['msg']}") from None
    if not 1 <= len(legs) <= MAX_LEGS:
        raise PhinanceError(f"a strategy has 1 to {MAX_LEGS} legs, got {len(legs)}")
    keys = set()
    for leg in legs:
        if leg.quantity == 0:
            raise PhinanceError("a leg's quantity must not be 0 (> 0 buys, < 0 sells)")
        if (leg.kind == "stock") != (leg.strike is None):
            raise PhinanceError("an option leg needs a strike; a stock leg has none")
        key = (leg.kind, leg.strike)
        if key in keys:
            raise PhinanceError(f"two legs are the same {leg.kind} {leg.strike or ''}: combine their quantities")
        keys.add(key)
    return legs


def _strategy_public(s: Strategy) -> StrategyPublic:
    return StrategyPublic(id=s.id, name=s.name, ticker=s.ticker, expiry=s.expiry,
                          legs=[LegPublic(kind=leg.kind, strike=leg.strike, quantity=leg.quantity) for leg in s.legs])


@router.post("/strategies", operation_id="build_strategy", response_model=StrategyPublic)
def build_strategy(ctx: ContextDep, body: StrategyCreate) -> Response:
    """Save a named strategy on one underlying and one expiry: 1-6 legs given as a JSON list
    of {kind: call|put|stock, strike (options), quantity: signed units, > 0 buy, < 0 sell},
    e.g. a bull call spread [{"kind": "call", "strike": 2700, "quantity": 1}, {"kind":
    "call", "strike": 2750, "quantity": -1}]. Nothing is priced or traded: analyze_strategy
    prices it at a date (which checks the expiry is listed and strikes are on the grid). A
    name in use gives 409."""
    with ctx.call("build_strategy", **body.model_dump()) as call:
        symbol = check_ticker(ctx.store, body.ticker)
        expiry = parse_date(body.expiry, "expiry").isoformat()
        if not "1999-01-04" < expiry <= "2019-12-31":
            raise BadDate(f"expiry {expiry} can never be listed: chains exist for sessions 1999-01-04..2018-12-31, "
                          "with expiries up to 2019")
        legs = _legs(body.legs)
        if call.db.scalar(select(Strategy.id).where(Strategy.name == body.name)) is not None:
            raise Conflict(f"a strategy named {body.name!r} already exists; pick another name")
        row = Strategy(name=body.name, ticker=symbol, expiry=expiry,
                       legs=[StrategyLeg(kind=leg.kind, strike=leg.strike, quantity=leg.quantity) for leg in legs])
        call.db.add(row)
        call.db.flush()
        result = _strategy_public(row)
    return answer(result)


@router.get("/strategies", operation_id="list_strategies", response_model=StrategyList)
def list_strategies(ctx: ContextDep) -> Response:
    """Every saved strategy by name, with its underlying, expiry and legs."""
    with ctx.call("list_strategies") as call:
        data = [_strategy_public(s) for s in call.db.scalars(select(Strategy).order_by(Strategy.name))]
    return answer(StrategyList(data=data, count=len(data), total=len(data)))


def _strategy(db, name: str) -> Strategy:
    s = db.scalar(select(Strategy).where(Strategy.name == name.strip()))
    if s is None:
        names = ", ".join(db.scalars(select(Strategy.name).order_by(Strategy.name))) or "none"
        raise NotFound(f"no strategy named {name.strip()[:64]!r}; strategies: {names}")
    return s


def payoff_profile(legs: list[tuple[str, float | None, int]], cost: float) -> tuple[list[PayoffPoint], list[float], float | None, float | None]:
    """P&L at expiry of the legs (kind, strike, quantity) less ``cost``: points at 0, every
    strike and 1.5x the largest, breakevens, max gain and max loss (None when unbounded).
    The P&L is piecewise linear in the underlying with kinks at the strikes."""
    strikes = sorted({k for _, k, _ in legs if k is not None})
    top = 1.5 * (strikes[-1] if strikes else 1.0) or 1.0

    def pnl(s: float) -> float:
        total = 0.0
        for kind, k, q in legs:
            total += q * (s if kind == "stock" else intrinsic_value(kind, s, k))
        return total - cost

    xs = [0.0, *strikes, top]
    ys = [pnl(x) for x in xs]
    slope = sum(q for kind, _, q in legs if kind in ("call", "stock"))  # beyond the largest strike
    breakevens = []
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if y0 == 0 and x0 not in breakevens:
            breakevens.append(x0)
        if y0 * y1 < 0:
            breakevens.append(x0 + (x1 - x0) * (-y0) / (y1 - y0))
    if ys[-1] == 0 and slope == 0 and xs[-1] not in breakevens:
        breakevens.append(xs[-1])
    if slope != 0 and ys[-1] * slope < 0:  # crosses zero beyond the last point
        breakevens.append(xs[-1] - ys[-1] / slope)
    max_gain = None if slope > 0 else max(ys)
    max_loss = None if slope < 0 else max(0.0, -min(ys))
    return ([PayoffPoint(underlying=round(x, 6), pnl=y) for x, y in zip(xs, ys)], [round(b, 4) for b in breakevens],
            max_gain, max_loss)


@router.get("/strategies/analysis", operation_id="analyze_strategy", response_model=StrategyAnalysis)
def analyze_strategy(ctx: ContextDep, name: NameQ, as_of_date: DateQ) -> Response:
    """Price a saved strategy on the synthetic chain at a session's close: each leg's mid
    (options) or close (stock), the net cost (> 0 a debit, < 0 a credit), the P&L at expiry
    (payoff - cost) at 0, every strike and beyond, breakevens, maximum gain and loss (null
    when unlimited), and the aggregate greeks (delta, gamma, vega per vol point, theta per
    calendar day), all per unit of the underlying. The expiry must be listed after the
    session and every strike on the grid: 422 otherwise."""
    with ctx.call("analyze_strategy", name=name, as_of_date=as_of_date) as call:
        s = _strategy(call.db, name)
        ch = chain(ctx.store, s.ticker, as_of_date)
        exp = listed_expiry(ch, s.expiry)
        values, greeks = [], dict(delta=0.0, gamma=0.0, vega=0.0, theta=0.0)
        for leg in s.legs:
            if leg.kind == "stock":
                values.append(LegValue(kind="stock", strike=None, quantity=leg.quantity, price=ch.spot, iv=None))
                greeks["delta"] += leg.quantity
                continue
            q = ch.quote(exp, listed_strike(ch, leg.strike), leg.kind)
            values.append(LegValue(kind=leg.kind, strike=q.strike, quantity=leg.quantity, price=q.mid, iv=q.iv))
            for g in greeks:
                greeks[g] += leg.quantity * getattr(q, g)
        cost = math.fsum(v.quantity * v.price for v in values)
        points, breakevens, gain, loss = payoff_profile([(v.kind, v.strike, v.quantity) for v in values], cost)
        session = ch.session.isoformat()
        row = log_run(call.db, "analyze_strategy", s.ticker, session, dict(name=s.name, as_of_date=as_of_date))
        result = StrategyAnalysis(
            run_id=row.id, name=s.name, ticker=s.ticker, session=session, note=ch.note, spot=ch.spot, expiry=exp,
            legs=values, cost=cost, max_gain=gain, max_loss=loss, breakevens=breakevens, payoff=points,
            delta=greeks["delta"], gamma=greeks["gamma"], vega_per_point=greeks["vega"] / 100,
            theta_per_day=greeks["theta"] / 365)
        finish_run(row, result)
    return answer(result)


def _book(db, name: str) -> OptionBook:
    b = db.scalar(select(OptionBook).where(OptionBook.name == name.strip()))
    if b is None:
        names = ", ".join(db.scalars(select(OptionBook.name).order_by(OptionBook.name))) or "none"
        raise NotFound(f"no book named {name.strip()[:64]!r}; books: {names}")
    return b


def _book_public(b: OptionBook) -> BookPublic:
    return BookPublic(id=b.id, name=b.name, positions=[PositionPublic(
        id=p.id, ticker=p.ticker, instrument=p.instrument, expiry=p.expiry, strike=p.strike, quantity=p.quantity,
        price=p.price, session=p.session) for p in b.positions])


@router.post("/books", operation_id="open_book", response_model=BookPublic)
def open_book(ctx: ContextDep, body: BookCreate) -> Response:
    """Open an empty options book (a unique name, 1-64 characters); add_position fills it."""
    with ctx.call("open_book", **body.model_dump()) as call:
        if call.db.scalar(select(OptionBook.id).where(OptionBook.name == body.name)) is not None:
            raise Conflict(f"a book named {body.name!r} already exists; pick another name")
        b = OptionBook(name=body.name)
        call.db.add(b)
        call.db.flush()
        result = _book_public(b)
    return answer(result)


@router.post("/books/positions", operation_id="add_position", response_model=BookPublic)
def add_position(ctx: ContextDep, body: PositionCreate) -> Response:
    """Add a position to a book at a session's synthetic mid (an option: a listed expiry and a
    strike on the grid) or close (stock): signed quantity, > 0 long, < 0 short, in units of
    the underlying. Answers with the book."""
    with ctx.call("add_position", **body.model_dump()) as call:
        b = _book(call.db, body.book)
        ch = chain(ctx.store, check_ticker(ctx.store, body.ticker), body.as_of_date)
        if body.quantity == 0:
            raise PhinanceError("quantity must not be 0 (> 0 long, < 0 short)")
        if body.instrument == "stock":
            if body.expiry is not None or body.strike is not None:
                raise PhinanceError("a stock position has no expiry or strike")
            expiry, strike, price = None, None, ch.spot
        else:
            if body.expiry is None or body.strike is None:
                raise PhinanceError("an option position needs expiry and strike (get_option_chain lists them)")
            expiry, strike = listed_expiry(ch, body.expiry), listed_strike(ch, body.strike)
            price = ch.quote(expiry, strike, body.instrument).mid
        b.positions.append(BookPosition(ticker=ch.ticker, instrument=body.instrument, expiry=expiry, strike=strike,
                                        quantity=body.quantity, price=price, session=ch.session.isoformat()))
        call.db.flush()
        result = _book_public(b)
    return answer(result)


@router.get("/books", operation_id="list_book", response_model=BookPublic)
def list_book(ctx: ContextDep, name: NameQ) -> Response:
    """A book's positions: instrument, expiry, strike, signed quantity, entry price and session."""
    with ctx.call("list_book", name=name) as call:
        result = _book_public(_book(call.db, name))
    return answer(result)


@router.get("/books/greeks", operation_id="book_greeks", response_model=BookGreeks)
def book_greeks(ctx: ContextDep, name: NameQ, as_of_date: DateQ) -> Response:
    """A book's aggregate greeks and value at a session, repriced on that session's synthetic
    surface: delta (units of the underlying; stock counts 1 per unit), gamma, vega per vol
    point, theta per calendar day, and the marked value (quantity x price). Positions added
    after the session are left out, and so are options expired by then (counted)."""
    with ctx.call("book_greeks", name=name, as_of_date=as_of_date) as call:
        b = _book(call.db, name)
        totals = dict(value=0.0, delta=0.0, gamma=0.0, vega=0.0, theta=0.0)
        live = expired = 0
        calendar = ctx.store.series("^GSPC")
        session = str(calendar.sessions[calendar.index_of(parse_date(as_of_date, "as_of_date"))[0]])
        for p in b.positions:
            if p.session > session:
                continue  # added after the date: not held then
            ch = chain(ctx.store, p.ticker, session)
            if p.instrument == "stock":
                totals["value"] += p.quantity * ch.spot
                totals["delta"] += p.quantity
                live += 1
                continue
            if p.expiry <= session:
                expired += 1
                continue
            t = ch.surface.time_to(p.expiry)
            g = ch.surface.greeks(p.instrument, p.strike, t)
            totals["value"] += p.quantity * g.price
            for k in ("delta", "gamma", "vega", "theta"):
                totals[k] += p.quantity * getattr(g, k)
            live += 1
        row = log_run(call.db, "book_greeks", b.name, session, dict(name=name, as_of_date=as_of_date))
        result = BookGreeks(run_id=row.id, book=b.name, session=session, positions=live, expired=expired,
                            value=totals["value"], delta=totals["delta"], gamma=totals["gamma"],
                            vega_per_point=totals["vega"] / 100, theta_per_day=totals["theta"] / 365)
        finish_run(row, result)
    return answer(result)


@router.get("/runs", operation_id="list_runs", response_model=RunList)
def list_runs(
    ctx: ContextDep,
    tool: Annotated[str | None, Query(description="only runs of this tool, e.g. analyze_strategy"), text(40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The log of pricing and analysis runs, newest first, each with its request and answer."""
    with ctx.call("list_runs", of_tool=tool, limit=limit, offset=offset) as call:
        query = select(Run)
        if tool:
            query = query.where(Run.tool == tool)
        total = call.db.scalar(select(func.count()).select_from(query.subquery()))
        rows = call.db.scalars(query.order_by(Run.id.desc()).limit(limit).offset(offset)).all()
        data = [RunPublic(id=r.id, tool=r.tool, ticker=r.ticker, session=r.session, params=json.loads(r.params),
                          result=json.loads(r.result)) for r in rows]
    return answer(RunList(data=data, count=len(data), total=total))


@router.post("/notes", operation_id="create_note", response_model=NotePublic)
def create_note(ctx: ContextDep, body: NoteCreate) -> Response:
    """Write a desk note: a title (1-200 characters), a body (up to 10,000), optionally about
    a run (its run_id) and a saved strategy (by name). Unknown ones give 404."""
    with ctx.call("create_note", **body.model_dump()) as call:
        s = _strategy(call.db, body.strategy) if body.strategy else None
        if body.run_id is not None and call.db.get(Run, body.run_id) is None:
            raise NotFound(f"no run {body.run_id}; list_runs shows the logged ones")
        row = Note(title=body.title, body=body.body, run_id=body.run_id, strategy_id=s.id if s else None)
        call.db.add(row)
        call.db.flush()
        result = NotePublic(id=row.id, title=row.title, body=row.body, run_id=row.run_id, strategy=s.name if s else None)
    return answer(result)


@router.get("/notes", operation_id="list_notes", response_model=NoteList)
def list_notes(ctx: ContextDep) -> Response:
    """Every desk note, oldest first."""
    with ctx.call("list_notes") as call:
        rows = call.db.execute(select(Note, Strategy.name).outerjoin(Strategy, Strategy.id == Note.strategy_id)
                               .order_by(Note.id)).all()
        data = [NotePublic(id=n.id, title=n.title, body=n.body, run_id=n.run_id, strategy=s) for n, s in rows]
    return answer(NoteList(data=data, count=len(data), total=len(data)))


add_examples(router, Path(__file__).with_name("examples.json"))
