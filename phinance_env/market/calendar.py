"""XNYS trading sessions (exchange_calendars) and the mapping of dates to sessions.

Horizons, windows and purges are all counted in sessions, never calendar days.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from phinance_env.errors import BadDate

if TYPE_CHECKING:
    import pandas as pd

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# exchange_calendars defaults to a start ~20 years back; our real data begins in 1999.
CALENDAR_START = "1990-01-02"
CALENDAR_END = "2030-12-31"


@lru_cache(maxsize=1)
def xnys_days() -> np.ndarray:
    """All XNYS sessions 1990..2030 as a sorted ``datetime64[D]`` array (fast searching).

    exchange_calendars (and the pandas it needs) costs about a second to import, so its
    sessions are cached as a small ``.npy`` next to the bar store, keyed by its version:
    an upgrade that changes a holiday writes a new file rather than reading a stale one.
    """
    from importlib.metadata import version

    from phinance_env.settings import get_settings

    path = get_settings().cache_dir / (
        f"xnys-{CALENDAR_START}-{CALENDAR_END}-exchange_calendars-{version('exchange_calendars')}.npy")
    try:
        return np.load(path)
    except (OSError, ValueError, EOFError):  # missing or unreadable: compute it again
        pass
    days = _exchange_calendars_days()
    try:  # atomic (temp file, then rename), so a concurrent reader never sees half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, days)
        os.replace(tmp, path)
    except OSError:  # a read-only cache only costs the import next time
        pass
    return days


def _exchange_calendars_days() -> np.ndarray:
    import warnings

    import exchange_calendars as xcals

    with warnings.catch_warnings():  # its own pandas-3 deprecation noise, not ours to fix
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END)
    sessions = cal.sessions.tz_localize(None) if cal.sessions.tz else cal.sessions
    return sessions.values.astype("datetime64[D]")


@lru_cache(maxsize=1)
def xnys_sessions() -> "pd.DatetimeIndex":
    """The same sessions as naive midnight timestamps (for the pandas build and import paths)."""
    import pandas as pd

    return pd.DatetimeIndex(xnys_days().astype("datetime64[ns]"))


def parse_date(value: str | dt.date, field: str = "date") -> dt.date:
    """Parse ``YYYY-MM-DD`` strictly; anything else is a :class:`BadDate` naming the field."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if not ISO_DAY.fullmatch(text):  # fromisoformat also takes '20180720xx' and week dates
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadDate(
            f"{field} {str(value)[:40]!r} is not a date; use YYYY-MM-DD, e.g. 2018-06-29"
        ) from None


def sessions_between(sessions: np.ndarray, start: dt.date, end: dt.date) -> np.ndarray:
    """Indices of ``sessions`` (sorted datetime64[D]) within [start, end] inclusive."""
    lo = np.searchsorted(sessions, np.datetime64(start, "D"), side="left")
    hi = np.searchsorted(sessions, np.datetime64(end, "D"), side="right")
    return np.arange(lo, hi)


def resolve_session(
    sessions: np.ndarray, day: dt.date, field: str = "as_of_date"
) -> tuple[int, str | None]:
    """Map ``day`` to the index of its session in ``sessions`` (datetime64[D], sorted).

    A non-session day resolves to the previous session and returns a note saying so;
    a day before the first or after the last session is a :class:`BadDate`.
    """
    first, last = sessions[0], sessions[-1]
    target = np.datetime64(day, "D")
    if target < first or target > last:
        raise BadDate(
            f"{field} {day.isoformat()} is outside the data: accepted "
            f"{_iso(first)}..{_iso(last)}"
        )
    idx = int(np.searchsorted(sessions, target, side="right")) - 1
    if sessions[idx] == target:
        return idx, None
    return idx, (
        f"{day.isoformat()} is not a trading session ({_why_closed(day)}); "
        f"used the previous session {_iso(sessions[idx])}"
    )


def _why_closed(day: dt.date) -> str:
    if day.weekday() >= 5:
        return "weekend"
    return "exchange holiday or closure"


def _iso(value: np.datetime64) -> str:
    return str(value.astype("datetime64[D]"))
