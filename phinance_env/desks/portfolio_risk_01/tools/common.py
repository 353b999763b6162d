"""What the risk desk's tools share: finding a book, its fills, its holdings at a session,
and logging a report."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from phinance_env.desks.portfolio_risk_01.book import Book
from phinance_env.desks.portfolio_risk_01.ledger import Fill, book_as_of
from phinance_env.desks.portfolio_risk_01.tables import Portfolio, Report, Trade
from phinance_env.errors import NotFound, PhinanceError


def portfolio(db, name: str) -> Portfolio:
    book = db.scalar(select(Portfolio).where(Portfolio.name == name.strip()))
    if book is None:
        names = ", ".join(db.scalars(select(Portfolio.name).order_by(Portfolio.name))) or "none"
        raise NotFound(f"no portfolio named {name.strip()[:64]!r}; portfolios: {names}")
    return book


def fills(db, book: Portfolio) -> list[Fill]:
    rows = db.execute(select(Trade.session, Trade.ticker, Trade.side, Trade.shares, Trade.amount)
                      .where(Trade.portfolio_id == book.id, Trade.status == "filled")
                      .order_by(Trade.session, Trade.id)).all()
    return [Fill(s, t, n if side == "buy" else -n, a if side == "buy" else -a) for s, t, side, n, a in rows]


def holdings(db, book: Portfolio, session: str) -> Book:
    """The book as held at ``session``'s close; before its inception is a bad argument."""
    if session < book.inception_date:
        raise PhinanceError(f"portfolio {book.name!r} opened on {book.inception_date}; ask for a date on or after it")
    return book_as_of(book.starting_cash, fills(db, book), session)


def log_report(db, book: Portfolio, kind: str, session: str, params: dict[str, Any]) -> Report:
    """Start a report's log row; its id goes into the answer, then :func:`finish_report`
    stores the answer (without the id) in it, in the same transaction."""
    row = Report(portfolio_id=book.id, kind=kind, session=session, params=json.dumps(params, default=str),
                 result="{}")
    db.add(row)
    db.flush()
    return row


def finish_report(row: Report, result: BaseModel) -> None:
    row.result = result.model_dump_json(exclude={"report_id"})


__all__ = ["finish_report", "fills", "holdings", "log_report", "portfolio"]
