"""Errors a caller can act on. Each message says what was wrong and what is accepted.

The app maps them to HTTP status codes (and so to MCP ``isError: true``) and begins every
4xx answer with "invalid argument: " (``app.wire.refusal``), so that harnesses sorting errors
by their words class them as the caller's; a 5xx (:class:`StoreUnavailable`) is never so
worded. The CLI prints them as they are and exits non-zero. Anything else escaping is a bug.
"""

from __future__ import annotations


class PhinanceError(ValueError):
    """Base class: bad input or a request the data cannot answer."""

    status_code = 422


class UnknownTicker(PhinanceError):
    status_code = 404


class NotFound(PhinanceError):
    status_code = 404


class UnknownScenario(NotFound):
    """No registered desk has this scenario name."""


class BadDate(PhinanceError):
    pass


class BadRange(PhinanceError):
    pass


class NotEnoughData(PhinanceError):
    pass


class BadBars(PhinanceError):
    """An import file was rejected; nothing was written."""


class Conflict(PhinanceError):
    status_code = 409


class StoreUnavailable(PhinanceError):
    """The bar store cannot be read (corrupted or unreadable file)."""

    status_code = 503
