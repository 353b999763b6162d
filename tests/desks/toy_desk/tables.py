from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The toy desk's tables."""


class CloseLog(Base):
    """Closes the agent has recorded."""

    __tablename__ = "close_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(String(16))
    session: Mapped[str] = mapped_column(String(10))
    close: Mapped[float]
