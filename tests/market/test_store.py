import sqlite3

import numpy as np
import pytest

from phinance_env.errors import UnknownTicker
from phinance_env.market import xnys_sessions
from phinance_env.market.build import build_store
from phinance_env.market.sources import synthetic_frames


def test_universe_has_real_and_synthetic_tickers(store):
    tickers = {t.symbol: t for t in store.tickers()}
    real = {s for s, t in tickers.items() if t.source == "real"}
    synthetic = [t for t in tickers.values() if t.source == "synthetic"]
    assert real == {"^GSPC", "^IXIC", "^VIX"}
    assert len(synthetic) == 20 and len({t.sector for t in synthetic}) == 5
    gspc = tickers["^GSPC"]
    assert (gspc.first_session, gspc.last_session, gspc.n_bars) == ("1999-01-04", "2018-12-31", 5031)
    assert "arch" in gspc.origin


def test_all_bars_are_xnys_sessions_with_consistent_ohlc(store):
    sessions = set(xnys_sessions().values.astype("datetime64[D]"))
    for t in store.tickers():
        s = store.series(t.symbol)
        assert set(s.sessions) <= sessions
        assert np.all(np.diff(s.sessions.astype(int)) > 0)
        assert np.all(s.low > 0) and np.all(s.volume >= 0)
        assert np.all(s.high >= np.maximum(s.open, s.close))
        assert np.all(s.low <= np.minimum(s.open, s.close))


def test_synthetic_universe_is_deterministic_and_clusters_volatility():
    a, b = synthetic_frames(), synthetic_frames()
    assert a.keys() == b.keys()
    for sym in a:
        assert a[sym][1].equals(b[sym][1])
    r = np.diff(np.log(a["NOVA"][1]["close"].to_numpy()))
    kurtosis = np.mean((r - r.mean()) ** 4) / r.var() ** 2
    assert kurtosis > 4.0  # fat tails (a normal has 3)

    def abs_autocorr(x):  # mean autocorrelation of |r| over lags 1..5
        return np.mean([np.corrcoef(np.abs(x[k:]), np.abs(x[:-k]))[0, 1] for k in range(1, 6)])

    clustered = np.mean([abs_autocorr(np.diff(np.log(f["close"].to_numpy()))) for _, f in a.values()])
    shuffled = abs_autocorr(np.random.default_rng(0).permutation(r))
    assert clustered > shuffled + 0.04  # volatility clustering, absent once order is destroyed
    same_sector = np.corrcoef(r, np.diff(np.log(a["QBIT"][1]["close"].to_numpy())))[0, 1]
    other_sector = np.corrcoef(r, np.diff(np.log(a["PTRX"][1]["close"].to_numpy())))[0, 1]
    assert same_sector > other_sector


def test_rebuilt_store_has_the_same_fingerprint(store, tmp_path):
    build_store(tmp_path / "bars.db")
    with sqlite3.connect(tmp_path / "bars.db") as conn:
        fp = conn.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()[0]
    assert fp == store.meta("fingerprint")


def test_store_is_opened_read_only(store):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.connect().execute("DELETE FROM bars")


@pytest.mark.parametrize("text", ["nova", " NOVA ", "Nova"])
def test_tickers_are_normalized_to_uppercase(store, text):
    assert store.ticker(text).symbol == "NOVA"


@pytest.mark.parametrize("text", ["ZZZZ", "'; DROP TABLE bars;--", "", "A" * 40])
def test_unknown_or_invalid_tickers_are_rejected(store, text):
    with pytest.raises(UnknownTicker):
        store.ticker(text)
