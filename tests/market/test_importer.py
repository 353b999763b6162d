import shutil

import pandas as pd
import pytest

from phinance_env.errors import BadBars, Conflict
from phinance_env.market import BarStore
from phinance_env.market.importer import import_bars


@pytest.fixture
def own_store(cache_dir, tmp_path):
    """A private copy of the bar store that a test may write to."""
    shutil.copy(cache_dir / "bars.db", tmp_path / "bars.db")
    return BarStore(tmp_path / "bars.db")


def good_bars() -> pd.DataFrame:
    return pd.DataFrame({
        "Date": ["2018-12-24", "2018-12-26", "2018-12-27", "2018-12-28"],
        "Open": [10.0, 10.5, 10.2, 10.9],
        "High": [10.8, 10.9, 11.0, 11.2],
        "Low": [9.9, 10.1, 10.0, 10.7],
        "Close": [10.4, 10.3, 10.8, 11.0],
        "Volume": [1000, 1200, 900, 1500],
    })


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_import_csv_and_parquet(own_store, tmp_path, suffix):
    path = tmp_path / f"bars{suffix}"
    frame = good_bars()
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    result = import_bars(own_store, path, "spy")
    assert result == {"ticker": "SPY", "rows": 4, "first_session": "2018-12-24", "last_session": "2018-12-28"}
    fresh = BarStore(own_store.path)
    info = fresh.ticker("SPY")
    assert info.source == "imported" and info.n_bars == 4
    assert list(fresh.series("SPY").close) == [10.4, 10.3, 10.8, 11.0]


def _mutate(frame, row, col, value):
    frame = frame.astype(object)
    frame.loc[row, col] = value
    return frame


@pytest.mark.parametrize("make_bad, message", [
    (lambda f: f.drop(columns=["Low"]), "missing column"),
    (lambda f: _mutate(f, 2, "Close", -1.0), "row 3: close must be > 0"),
    (lambda f: _mutate(f, 1, "High", 10.0), "row 2: high is below max"),
    (lambda f: _mutate(f, 3, "Low", 11.1), "row 4: low is above min"),
    (lambda f: _mutate(f, 1, "Date", "2018-12-25"), "row 2: date is not an XNYS trading session"),
    (lambda f: _mutate(f, 2, "Date", "2018-12-24"), "row 3: dates must be strictly increasing"),
    (lambda f: _mutate(f, 3, "Date", "2018-12-26"), "row 4: dates must be strictly increasing"),
    (lambda f: _mutate(f, 0, "Date", "24/12/2018"), "row 1: date is not YYYY-MM-DD"),
    (lambda f: _mutate(f, 1, "Open", "abc"), "row 2: open is not a finite number"),
    (lambda f: _mutate(f, 2, "Volume", -5), "row 3: volume must be >= 0"),
    (lambda f: f.iloc[:1], "at least 2 rows"),
])
def test_rejected_files_name_the_problem_and_write_nothing(own_store, tmp_path, make_bad, message):
    before = own_store.meta("fingerprint")
    path = tmp_path / "bad.csv"
    make_bad(good_bars()).to_csv(path, index=False)
    with pytest.raises(BadBars, match=message):
        import_bars(own_store, path, "SPY")
    fresh = BarStore(own_store.path)
    assert "SPY" not in {t.symbol for t in fresh.tickers()}
    assert fresh.meta("fingerprint") == before


def test_import_never_overwrites_builtin_tickers_or_silently_replaces(own_store, tmp_path):
    path = tmp_path / "bars.csv"
    good_bars().to_csv(path, index=False)
    with pytest.raises(Conflict, match="built-in"):
        import_bars(own_store, path, "^GSPC")
    import_bars(own_store, path, "SPY")
    with pytest.raises(Conflict, match="--replace"):
        import_bars(own_store, path, "SPY")
    assert import_bars(own_store, path, "SPY", replace=True)["rows"] == 4


def test_unsupported_and_missing_files(own_store, tmp_path):
    (tmp_path / "bars.txt").write_text("x")
    with pytest.raises(BadBars, match="unsupported"):
        import_bars(own_store, tmp_path / "bars.txt", "SPY")
    with pytest.raises(BadBars, match="does not exist"):
        import_bars(own_store, tmp_path / "nope.csv", "SPY")
