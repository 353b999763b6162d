"""phinance_01's tables: tracked tickers, projection and backtest run logs, and the
research workspace (watchlists, alerts, notes). Wire models live in ``schemas``.

No wall-clock columns: an episode's DB must be reproducible from its calls. Ids order events.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """This desk's metadata: its DB holds these tables besides the core ones."""


class TrackedTicker(Base):
    """A ticker of the bar store that this workspace tracks."""

    __tablename__ = "tracked_tickers"
    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(16))
    sector: Mapped[str] = mapped_column(String(40))
    first_session: Mapped[str] = mapped_column(String(10))
    last_session: Mapped[str] = mapped_column(String(10))
    bar_count: Mapped[int]


class ProjectionRun(Base):
    __tablename__ = "projection_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(String(16), index=True)
    requested_date: Mapped[str] = mapped_column(String(10))
    as_of: Mapped[str] = mapped_column(String(10))
    data_end: Mapped[str] = mapped_column(String(10))
    model: Mapped[str] = mapped_column(String(120))
    horizons: Mapped[str] = mapped_column(String(60))  # e.g. "1d,5d,21d"
    last_close: Mapped[float]
    direction: Mapped[str] = mapped_column(String(4))  # 1-session call
    p_up: Mapped[float]
    p_flat: Mapped[float]
    p_down: Mapped[float]
    drift_bps: Mapped[float]
    sigma_bps: Mapped[float]
    cone50_lower_bps: Mapped[float]
    cone50_upper_bps: Mapped[float]
    cone75_lower_bps: Mapped[float]
    cone75_upper_bps: Mapped[float]
    cone90_lower_bps: Mapped[float]
    cone90_upper_bps: Mapped[float]
    annualized_sigma: Mapped[float]
    confidence: Mapped[float]
    summary: Mapped[str] = mapped_column(Text)
    packet_json: Mapped[str] = mapped_column(Text)  # every horizon, every field


class BacktestRun(Base):
    __tablename__ = "backtest_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    tickers: Mapped[str] = mapped_column(String(200))  # comma-separated, as normalized
    start: Mapped[str] = mapped_column(String(10))
    end: Mapped[str] = mapped_column(String(10))
    horizon: Mapped[str] = mapped_column(String(4))
    model: Mapped[str] = mapped_column(String(8))
    n_folds: Mapped[int]
    n_obs: Mapped[int]
    auc: Mapped[float | None]
    auc_ci_low: Mapped[float | None]
    auc_ci_high: Mapped[float | None]
    mean_fold_auc: Mapped[float | None]
    hit_rate: Mapped[float | None]
    coverage_50: Mapped[float | None]
    coverage_75: Mapped[float | None]
    coverage_90: Mapped[float | None]
    pinball_bps: Mapped[float | None]
    threshold: Mapped[float]
    gate_passed: Mapped[bool]
    gate_verdict: Mapped[str] = mapped_column(String(4))
    summary: Mapped[str] = mapped_column(Text)
    folds: Mapped[list[BacktestFold]] = relationship(cascade="all, delete-orphan", back_populates="run")


class BacktestFold(Base):
    __tablename__ = "backtest_folds"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("backtest_runs.id", ondelete="CASCADE"), index=True)
    ticker: Mapped[str] = mapped_column(String(16))
    fold: Mapped[int]
    train_start: Mapped[str] = mapped_column(String(10))
    train_end: Mapped[str] = mapped_column(String(10))
    test_start: Mapped[str] = mapped_column(String(10))
    test_end: Mapped[str] = mapped_column(String(10))
    n_obs: Mapped[int]
    auc: Mapped[float | None]
    hit_rate: Mapped[float | None]
    coverage_50: Mapped[float | None]
    coverage_75: Mapped[float | None]
    coverage_90: Mapped[float | None]
    run: Mapped[BacktestRun] = relationship(back_populates="folds")


class Watchlist(Base):
    __tablename__ = "watchlists"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    items: Mapped[list[WatchlistItem]] = relationship(
        cascade="all, delete-orphan", back_populates="watchlist", order_by="WatchlistItem.id")


class WatchlistItem(Base):
    __tablename__ = "watchlist_items"
    __table_args__ = (UniqueConstraint("watchlist_id", "ticker"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id", ondelete="CASCADE"))
    ticker: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    watchlist: Mapped[Watchlist] = relationship(back_populates="items")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("operator IN ('>', '>=', '<', '<=')"),
        Index("ix_alerts_ticker", "ticker"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float]
    horizon: Mapped[str] = mapped_column(String(4))
    active: Mapped[bool] = mapped_column(default=True)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    ticker: Mapped[str | None] = mapped_column(String(16))
    projection_run_id: Mapped[int | None] = mapped_column(ForeignKey("projection_runs.id", ondelete="SET NULL"))
    backtest_run_id: Mapped[int | None] = mapped_column(ForeignKey("backtest_runs.id", ondelete="SET NULL"))
