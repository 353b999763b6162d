"""The tables every scenario's state DB has: how the DB was made and the tool-call log.

A desk adds its own tables on its own metadata (see ``phinance_env.desks``); no wall-clock
columns anywhere: an episode's DB must be reproducible from its calls. Ids order events.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class CoreBase(DeclarativeBase):
    """The shared tables' metadata (desks declare theirs on a base of their own)."""


class EnvMeta(CoreBase):
    """Facts about how this state DB was made, e.g. the bar data it was exported against."""

    __tablename__ = "env_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ToolCall(CoreBase):
    """Every tool call, successful or not (a failed call writes only this row)."""

    __tablename__ = "tool_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    tool: Mapped[str] = mapped_column(String(64), index=True)
    arguments: Mapped[str] = mapped_column(Text)  # JSON, long strings truncated
    status: Mapped[str] = mapped_column(String(8), CheckConstraint("status IN ('ok', 'error')"))
    http_status: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
