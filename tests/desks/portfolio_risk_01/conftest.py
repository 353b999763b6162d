"""Closes for the risk desk's tests, read straight from the session's real bar store."""

from __future__ import annotations

import pytest

TICKERS = ["^GSPC", "^IXIC", "NOVA", "BNKA", "PTRX", "MEDI"]


@pytest.fixture(scope="session")
def closes(store):
    from phinance_env.desks.portfolio_risk_01 import load_closes

    return load_closes(store, TICKERS)
