"""What the options desk's tools share: the chain of a ticker at a session (cached: it is
deterministic in its inputs), a listed contract, and the run log."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from phinance_env.desks.options_vol_01.surface import OptionChain, option_chain
from phinance_env.desks.options_vol_01.tables import Run
from phinance_env.errors import BadDate, BadRange, PhinanceError
from phinance_env.market.calendar import parse_date

_CHAINS: OrderedDict[tuple, OptionChain] = OrderedDict()
_LOCK = threading.Lock()


def chain(store, ticker: str, as_of: str) -> OptionChain:
    """The synthetic chain of ``ticker`` at the session of ``as_of`` (a small LRU cache)."""
    info = store.ticker(ticker)
    day = parse_date(as_of, "as_of_date")
    key = (str(store.path), info.symbol, day)
    with _LOCK:
        if key in _CHAINS:
            _CHAINS.move_to_end(key)
            return _CHAINS[key]
    built = option_chain(store, info.symbol, day)
    with _LOCK:
        _CHAINS[key] = built
        while len(_CHAINS) > 256:
            _CHAINS.popitem(last=False)
    return built


def listed_expiry(ch: OptionChain, expiry: str) -> str:
    """``expiry`` when it is one of the chain's listed expiries, else a bad argument naming them."""
    day = parse_date(expiry, "expiry")
    listed = [e.isoformat() for e in ch.expiries]
    if day <= ch.session:
        raise BadDate(f"expiry {day} is not after the as-of session {ch.session}: the option has expired; "
                      f"listed expiries: {', '.join(listed)}")
    if day.isoformat() not in listed:
        raise BadDate(f"no listed expiry on {day}; listed expiries after {ch.session}: {', '.join(listed)}")
    return day.isoformat()


def listed_strike(ch: OptionChain, strike: float) -> float:
    for k in ch.strikes:
        if abs(k - strike) < 1e-6:
            return k
    raise BadRange(f"strike {strike:g} is not on the grid of {ch.ticker} at {ch.session}: strikes run "
                   f"{ch.strikes[0]:g}..{ch.strikes[-1]:g} (spot {ch.spot:.2f}), e.g. {_near(ch, strike)}")


def _near(ch: OptionChain, strike: float) -> str:
    nearest = sorted(ch.strikes, key=lambda k: abs(k - strike))[:3]
    return ", ".join(f"{k:g}" for k in sorted(nearest))


def log_run(db, tool: str, ticker: str, session: str, params: dict[str, Any]) -> Run:
    row = Run(tool=tool, ticker=ticker, session=session, params=json.dumps(params, default=str), result="{}")
    db.add(row)
    db.flush()
    return row


def finish_run(row: Run, result) -> None:
    row.result = result.model_dump_json(exclude={"run_id"})


def check_ticker(store, ticker: str) -> str:
    symbol = store.ticker(ticker).symbol
    if symbol == "^VIX":
        raise PhinanceError("^VIX has no options here (VIX options settle on VIX futures); use ^GSPC, ^IXIC or a stock")
    return symbol


__all__ = ["chain", "check_ticker", "finish_run", "listed_expiry", "listed_strike", "log_run"]
