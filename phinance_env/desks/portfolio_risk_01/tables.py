"""portfolio_risk_01's tables: books, their positions, the trade blotter, risk limits, the
log of risk and performance reports, and notes. Wire models live in ``schemas``.

No wall-clock columns: an episode's DB must be reproducible from its calls. Ids order events.
Invariant (kept by ``ledger`` in one transaction per trade): a book's ``cash`` and
``positions`` are its starting cash and nothing else changed by its *filled* trades.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

LIMIT_METRICS = ("max_position_weight", "max_var_99", "max_drawdown")
REPORT_KINDS = ("risk", "performance", "limits", "rebalance", "stress")


class Base(DeclarativeBase):
    """This desk's metadata: its DB holds these tables besides the core ones."""


class Portfolio(Base):
    """A long-only USD book: opened with cash at an inception session."""

    __tablename__ = "portfolios"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    base_currency: Mapped[str] = mapped_column(String(3), CheckConstraint("base_currency = 'USD'"), default="USD")
    starting_cash: Mapped[float] = mapped_column(CheckConstraint("starting_cash > 0"))
    cash: Mapped[float] = mapped_column(CheckConstraint("cash >= -0.005"))
    """Cash after every filled trade (the book's latest state)."""
    inception_date: Mapped[str] = mapped_column(String(10))
    """The session the book opened on (a non-session date resolves to the one before)."""
    positions: Mapped[list[Position]] = relationship(
        back_populates="portfolio", cascade="all, delete-orphan", order_by="Position.ticker")


class Position(Base):
    """Shares held after every filled trade (a position sold out is deleted)."""

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("portfolio_id", "ticker"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), index=True)
    ticker: Mapped[str] = mapped_column(String(16))
    shares: Mapped[int] = mapped_column(CheckConstraint("shares > 0"))
    portfolio: Mapped[Portfolio] = relationship(back_populates="positions")


class Trade(Base):
    """Every order: filled at its session's close, or rejected with the reason (nothing else
    changes then)."""

    __tablename__ = "trades"
    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), index=True)
    ticker: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(4), CheckConstraint("side IN ('buy', 'sell')"))
    shares: Mapped[int] = mapped_column(CheckConstraint("shares > 0"))
    requested_date: Mapped[str] = mapped_column(String(10))
    session: Mapped[str] = mapped_column(String(10))
    fill_price: Mapped[float | None]
    amount: Mapped[float | None]
    """USD moved: shares x fill price, rounded to the cent (None when rejected)."""
    status: Mapped[str] = mapped_column(String(8), CheckConstraint("status IN ('filled', 'rejected')"))
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class Limit(Base):
    """A risk limit of a book: the metric may not exceed the threshold (a fraction)."""

    __tablename__ = "limits"
    __table_args__ = (UniqueConstraint("portfolio_id", "metric"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(
        String(24), CheckConstraint("metric IN ('max_position_weight', 'max_var_99', 'max_drawdown')"))
    threshold: Mapped[float] = mapped_column(CheckConstraint("threshold > 0 AND threshold <= 1"))


class Report(Base):
    """One risk, performance, limit check, rebalance proposal or stress test as answered."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(
        String(12), CheckConstraint("kind IN ('risk', 'performance', 'limits', 'rebalance', 'stress')"))
    session: Mapped[str] = mapped_column(String(10))
    """The as-of session (for a performance report: its end)."""
    params: Mapped[str] = mapped_column(Text)  # JSON of the request
    result: Mapped[str] = mapped_column(Text)  # JSON of the answer


class Note(Base):
    """A desk note, optionally about a book and a report."""

    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int | None] = mapped_column(ForeignKey("portfolios.id", ondelete="SET NULL"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


__all__ = ["Base", "LIMIT_METRICS", "Limit", "Note", "Portfolio", "Position", "REPORT_KINDS", "Report", "Trade"]
