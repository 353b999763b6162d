"""Where bars come from: real indices shipped with ``arch``, and a synthetic universe.

Every frame returned here has a naive ``DatetimeIndex`` of XNYS sessions and the columns
``open, high, low, close, volume`` (float).
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from phinance_env.market.calendar import xnys_sessions

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["open", "high", "low", "close", "volume"]


@dataclass(frozen=True)
class TickerSpec:
    symbol: str
    name: str
    source: str  # "real" | "synthetic" | "imported"
    origin: str
    sector: str
    close_only: bool = False


REAL_TICKERS = [
    TickerSpec("^GSPC", "S&P 500 index", "real", "arch.data.sp500 (Yahoo Finance daily bars)", "Index"),
    TickerSpec("^IXIC", "Nasdaq Composite index", "real", "arch.data.nasdaq (Yahoo Finance daily bars)", "Index"),
    TickerSpec("^VIX", "CBOE Volatility Index (closes only)", "real", "arch.data.vix (daily closes)", "Volatility", close_only=True),
]


def real_frames() -> dict[str, tuple[TickerSpec, pd.DataFrame]]:
    """The real daily bars bundled in ``arch`` (1999-01-04..2018-12-31; VIX 2014-2019)."""
    import pandas as pd
    from arch.data import nasdaq, sp500, vix

    out: dict[str, tuple[TickerSpec, pd.DataFrame]] = {}
    for spec, module in zip(REAL_TICKERS, (sp500, nasdaq, vix)):
        raw = module.load()
        if spec.close_only:
            close = raw["vix"].astype(float)
            frame = pd.DataFrame({c: close for c in ("open", "high", "low", "close")})
            frame["volume"] = 0.0
        else:
            frame = raw.rename(columns=str.lower)[COLUMNS].astype(float)
        frame.index = pd.DatetimeIndex(frame.index).normalize()
        # Keep exactly the XNYS sessions (the vendor file may carry a stray non-session row).
        frame = frame[frame.index.isin(xnys_sessions())]
        out[spec.symbol] = (spec, frame)
    return out


# --- synthetic universe -------------------------------------------------------------------
SYNTHETIC_SEED = 20_050_103
SYNTHETIC_START, SYNTHETIC_END = "2005-01-03", "2018-12-31"
# Daily GARCH(1,1) with unit-variance Student-t(5) shocks: (long-run daily vol, alpha, beta).
MARKET_GARCH = (0.0105, 0.10, 0.88)
SECTOR_GARCH = (0.0060, 0.08, 0.90)
IDIO_GARCH = (0.0110, 0.08, 0.90)
T_DOF = 5.0
SECTORS = {
    "Technology": [("NOVA", "Nova Systems"), ("QBIT", "Qubit Labs"), ("HELX", "Helix Semiconductor"), ("CLDR", "Cloudridge Software")],
    "Energy": [("PTRX", "Petrox Energy"), ("SOLR", "Solaris Power"), ("GRDL", "Gridline Utilities"), ("OFSH", "Offshore Drilling Co")],
    "Financials": [("BNKA", "Bank of Avalon"), ("LDGR", "Ledger Capital"), ("INSR", "Insurant Group"), ("PAYS", "Paysphere Payments")],
    "Healthcare": [("MEDI", "Medisyn Therapeutics"), ("GENO", "Genome Works"), ("CARE", "Careline Health"), ("BIOS", "Biosphere Pharma")],
    "Consumer": [("RETL", "Retailia Stores"), ("BRWS", "Brewster Beverages"), ("AUTM", "Autonomo Motors"), ("HOMR", "Homer Furnishings")],
}


def _garch_paths(rng: np.random.Generator, n: int, k: int, params: tuple[float, float, float]) -> np.ndarray:
    """k independent GARCH(1,1)-t paths of length n (volatility clustering and fat tails)."""
    vol, alpha, beta = params
    omega = vol**2 * (1.0 - alpha - beta)
    shocks = rng.standard_t(T_DOF, size=(n, k)) / np.sqrt(T_DOF / (T_DOF - 2.0))
    out = np.empty((n, k))
    var = np.full(k, vol**2)
    for t in range(n):
        out[t] = np.sqrt(var) * shocks[t]
        var = omega + alpha * out[t] ** 2 + beta * var
    return out


def synthetic_frames() -> dict[str, tuple[TickerSpec, pd.DataFrame]]:
    """A fixed universe of 20 fictional stocks in 5 sectors (seed ``SYNTHETIC_SEED``).

    Return of stock i in sector s: ``mu_i + beta_i * market + 0.8 * sector_s + idio_i``; each
    factor is its own GARCH(1,1)-t path, so returns cluster in volatility, have fat tails and
    correlate within sectors. Opens gap from the prior close, highs/lows extend the body by
    a half-normal multiple of the day's volatility. Same seed, same bars, on every machine.
    """
    import pandas as pd

    rng = np.random.default_rng(SYNTHETIC_SEED)
    sessions = xnys_sessions()
    sessions = sessions[(sessions >= SYNTHETIC_START) & (sessions <= SYNTHETIC_END)]
    n = len(sessions)
    symbols = [(sector, sym, name) for sector, items in SECTORS.items() for sym, name in items]
    market = _garch_paths(rng, n, 1, MARKET_GARCH)[:, 0]
    sector_paths = _garch_paths(rng, n, len(SECTORS), SECTOR_GARCH)
    idio = _garch_paths(rng, n, len(symbols), IDIO_GARCH)
    betas = rng.uniform(0.7, 1.4, len(symbols))
    drifts = rng.uniform(-0.02, 0.12, len(symbols)) / 252.0
    start_prices = rng.uniform(20.0, 200.0, len(symbols))
    sector_index = {s: i for i, s in enumerate(SECTORS)}
    out: dict[str, tuple[TickerSpec, pd.DataFrame]] = {}
    for i, (sector, sym, name) in enumerate(symbols):
        r = drifts[i] + betas[i] * market + 0.8 * sector_paths[:, sector_index[sector]] + idio[:, i]
        close = start_prices[i] * np.exp(np.cumsum(r))
        prev = np.concatenate([[start_prices[i]], close[:-1]])
        day_vol = np.abs(r).mean()
        open_ = prev * np.exp(rng.normal(0.0, 0.25 * day_vol, n))
        body_hi, body_lo = np.maximum(open_, close), np.minimum(open_, close)
        high = body_hi * np.exp(np.abs(rng.normal(0.0, 0.5 * day_vol, n)))
        low = body_lo * np.exp(-np.abs(rng.normal(0.0, 0.5 * day_vol, n)))
        volume = np.round(rng.lognormal(13.5, 0.4, n) * (1.0 + 25.0 * np.abs(r)))
        frame = pd.DataFrame(
            {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
            index=sessions,
        ).round({"open": 4, "high": 4, "low": 4, "close": 4})
        # Rounding may nudge a body past its wick; restore the OHLC invariant exactly.
        frame["high"] = frame[["open", "high", "close"]].max(axis=1)
        frame["low"] = frame[["open", "low", "close"]].min(axis=1)
        spec = TickerSpec(sym, f"{name} (synthetic)", "synthetic",
                          f"phinance synthetic universe, seed {SYNTHETIC_SEED}", sector)
        out[sym] = (spec, frame)
    return out
