"""options_vol_01's tables: option books and their positions, strategies saved by name with
their legs, a log of every pricing and analysis run, and notes. Wire models live in
``schemas``. No wall-clock columns; ids order events.

Units: one option is on one unit of the underlying (no x100 contract multiplier); a
quantity is signed (> 0 long, < 0 short); prices and values are USD per unit.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

INSTRUMENTS = ("call", "put", "stock")


class Base(DeclarativeBase):
    """This desk's metadata: its DB holds these tables besides the core ones."""


class OptionBook(Base):
    __tablename__ = "option_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    positions: Mapped[list[BookPosition]] = relationship(back_populates="book", cascade="all, delete-orphan",
                                                          order_by="BookPosition.id")


class BookPosition(Base):
    """A position added to a book at a session's synthetic mid (options) or close (stock)."""

    __tablename__ = "book_positions"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("option_books.id", ondelete="CASCADE"), index=True)
    ticker: Mapped[str] = mapped_column(String(16))
    instrument: Mapped[str] = mapped_column(String(5), CheckConstraint("instrument IN ('call', 'put', 'stock')"))
    expiry: Mapped[str | None] = mapped_column(String(10))
    strike: Mapped[float | None]
    quantity: Mapped[int] = mapped_column(CheckConstraint("quantity != 0"))
    price: Mapped[float]
    session: Mapped[str] = mapped_column(String(10))
    book: Mapped[OptionBook] = relationship(back_populates="positions")


class Strategy(Base):
    """A named option strategy on one underlying and one expiry."""

    __tablename__ = "strategies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    ticker: Mapped[str] = mapped_column(String(16))
    expiry: Mapped[str] = mapped_column(String(10))
    legs: Mapped[list[StrategyLeg]] = relationship(back_populates="strategy", cascade="all, delete-orphan",
                                                   order_by="StrategyLeg.id")


class StrategyLeg(Base):
    __tablename__ = "strategy_legs"
    __table_args__ = (UniqueConstraint("strategy_id", "kind", "strike"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(5), CheckConstraint("kind IN ('call', 'put', 'stock')"))
    strike: Mapped[float | None]
    quantity: Mapped[int] = mapped_column(CheckConstraint("quantity != 0"))
    strategy: Mapped[Strategy] = relationship(back_populates="legs")


class Run(Base):
    """One pricing or analysis answer as given (chain, price, iv, analysis, compare, hedge, greeks)."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    tool: Mapped[str] = mapped_column(String(32), index=True)
    ticker: Mapped[str] = mapped_column(String(16))
    session: Mapped[str] = mapped_column(String(10))
    params: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    strategy_id: Mapped[int | None] = mapped_column(ForeignKey("strategies.id", ondelete="SET NULL"))


__all__ = ["Base", "BookPosition", "INSTRUMENTS", "Note", "OptionBook", "Run", "Strategy", "StrategyLeg"]
