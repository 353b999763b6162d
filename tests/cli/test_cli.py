"""The CLI: the real console script as a subprocess, and (for the many bad-input cases,
which would each pay a new process's start-up) typer's in-process runner."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from phinance_env.backtest import WalkForwardConfig, run_backtest, walk_forward

CLI = str(Path(sys.executable).parent / "phinance-env")


def run(cli_env, *args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=cli_env, timeout=120)


def test_project_prints_summary_and_json(cli_env, tmp_path):
    out = run(cli_env, "project", "^gspc", "--as-of", "2018-06-29", "--plot", str(tmp_path / "fan.png"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("^GSPC 2018-06-29 next session:") and "75% cone" in out.stdout
    assert (tmp_path / "fan.png").stat().st_size > 10_000
    packet = json.loads(run(cli_env, "project", "NOVA", "--as-of", "2018-06-29", "--json", "--horizon", "1d").stdout)
    assert packet["ticker"] == "NOVA" and [h["horizon"] for h in packet["horizons"]] == ["1d"]


def test_backtest_json_and_plot(cli_env, tmp_path):
    out = run(cli_env, "backtest", "^GSPC,^IXIC", "--start", "2017-01-01", "--end", "2018-12-31",
              "--json", "--plot", str(tmp_path / "cov.png"))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["gate"]["verdict"] in ("PASS", "FAIL") and report["pooled"]["n_obs"] > 900
    assert (tmp_path / "cov.png").stat().st_size > 10_000


def test_bars_list_show_and_import(cli_env, tmp_path):
    assert "^GSPC" in run(cli_env, "bars", "list").stdout
    shown = run(cli_env, "bars", "show", "nova", "--start", "2018-12-24", "--end", "2018-12-28", "--csv")
    assert shown.stdout.splitlines()[0] == "session,open,high,low,close,volume"
    assert len(shown.stdout.splitlines()) == 5  # header + 4 sessions (25th is a holiday)


@pytest.mark.parametrize("args, message", [
    (["project", "NOPE"], "unknown ticker"),
    (["project", "^GSPC", "--as-of", "2018-02-30"], "YYYY-MM-DD"),
    (["project", "^GSPC", "--as-of", "2030-01-02"], "outside the data"),
    (["project", "^GSPC", "--horizon", "99d"], "1d..63d"),
    (["backtest", "", "--start", "2010-01-01", "--end", "2011-01-01"], "empty"),
    (["backtest", "^GSPC", "--start", "2011-01-01", "--end", "2010-01-01"], "after end"),
    (["backtest", "^GSPC", "--start", "1999-01-04", "--end", "1999-03-01"], "too few sessions"),
    (["backtest", "^GSPC", "--start", "2010-01-01", "--end", "2011-01-01", "--horizon", "5d", "--purge", "1"], "purge"),
    (["bars", "show", "^GSPC", "--start", "2030-01-01"], "no bars"),
    (["bars", "import", "/nonexistent.csv", "--ticker", "X"], "does not exist"),
])
def test_bad_input_exits_2_with_one_clear_line(cache_dir, args, message):
    from typer.testing import CliRunner

    from phinance_env.cli import app

    out = CliRunner().invoke(app, ["--cache-dir", str(cache_dir), *args])
    assert out.exit_code == 2, out.output
    assert out.stderr.startswith("error: ") and message in out.stderr
    assert out.exception is None or isinstance(out.exception, SystemExit)


def test_console_script_exit_code_on_bad_input(cli_env):
    out = run(cli_env, "project", "NOPE")
    assert out.returncode == 2 and out.stderr.startswith("error: unknown ticker 'NOPE'")


# --- Fast start-up: the commands import no heavy library, and the numpy that stands in for
# --- one is checked against it on real data.

HEAVY = ("pandas", "scipy", "statsmodels", "arch", "exchange_calendars", "pydantic_settings", "rich")
PROBE = """
import sys
from phinance_env.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(" ".join(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [
    ["backtest", "^GSPC,^IXIC", "--start", "2017-01-01", "--end", "2018-12-31"],
    ["backtest", "^GSPC", "--start", "2017-01-01", "--end", "2018-12-31", "--json"],
    ["project", "^GSPC", "--as-of", "2018-06-29", "--json"],
])
def test_commands_start_without_heavy_imports(cli_env, args):
    probe = [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args]
    for _ in range(2):  # the first run may fill the session cache (exchange_calendars)
        out = subprocess.run(probe, capture_output=True, text=True, env=cli_env, timeout=120)
    assert out.returncode == 0 and out.stdout, out.stderr
    assert out.stderr.splitlines()[-1] == ""


@pytest.fixture(scope="module")
def real_returns(store):
    return {t: np.diff(np.log(store.series(t).close)) for t in ("^GSPC", "^IXIC", "NOVA")}


def test_hac_mean_is_statsmodels_ols_with_hac_errors(real_returns):
    import statsmodels.api as sm

    from phinance_env.projection.model import hac_mean

    for r in real_returns.values():
        for lo, hi in [(0, 126), (0, 2000), (37, 3001), (0, len(r))]:
            x = r[lo:hi]
            lags = int(np.floor(4 * (len(x) / 100) ** (2 / 9)))
            ref = sm.OLS(x, np.ones(len(x))).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
            mean, se = hac_mean(x)
            assert mean == pytest.approx(ref.params[0], rel=1e-10)
            assert se == pytest.approx(ref.bse[0], rel=1e-10)
            assert mean / se == pytest.approx(ref.tvalues[0], rel=1e-10)


GARCH = [(0.0, 0.06, 0.94), (2e-6, 0.09, 0.89), (1e-5, 0.3, 0.0)]


@pytest.mark.parametrize("params", GARCH)
def test_variance_path_is_the_garch_recursion_and_pandas_ewm(real_returns, params):
    import pandas as pd

    from phinance_env.projection.model import VolParams, variance_path

    omega, alpha, beta = params
    resid = real_returns["^GSPC"][:3000] - 2e-4
    got = variance_path(resid, VolParams(*params))
    e2 = resid**2
    v = [e2[:20].mean()]  # the plain recursion, step by step
    for e in e2:
        v.append(omega + alpha * e + beta * v[-1])
    np.testing.assert_allclose(got, v, rtol=1e-12, atol=0)
    x = np.concatenate([[e2[:20].mean()], (omega + alpha * e2) / (1 - beta)])  # the former pandas code
    np.testing.assert_allclose(got, pd.Series(x).ewm(alpha=1 - beta, adjust=False).mean(), rtol=1e-10, atol=0)


def test_variance_paths_of_many_folds_equal_each_single_path_exactly(real_returns):
    from phinance_env.projection.model import VolParams, variance_path, variance_paths

    r = real_returns["^IXIC"][:2500]
    mus = [0.0, 3e-4, -1e-4]
    vols = [VolParams(*p) for p in GARCH]
    paths = variance_paths(r, mus, vols)
    assert paths.shape == (3, len(r) + 1)
    for mu, vol, path in zip(mus, vols, paths):
        assert np.array_equal(path, variance_path(r - mu, vol))  # to the last bit


def test_rankdata_gives_midranks_as_scipy_and_pandas(real_returns):
    import pandas as pd
    from scipy.stats import rankdata as scipy_rankdata

    from phinance_env.backtest.metrics import rankdata

    rng = np.random.default_rng(3)
    for x in (np.round(real_returns["NOVA"][:3000], 3), rng.integers(0, 9, 500).astype(float),
              real_returns["^GSPC"], np.array([1.0]), np.array([])):
        assert np.array_equal(rankdata(x), scipy_rankdata(x))
        assert np.array_equal(rankdata(x), pd.Series(x).rank().to_numpy())


@pytest.mark.parametrize("scale, max_train", [("ewma", None), ("ewma", 400), ("garch", None)])
def test_backtest_folds_equal_a_fold_by_fold_fit(store, scale, max_train):
    """The runner fits all folds' variance paths in one pass; each fold must come out as a
    plain fit of that fold alone would make it."""
    from phinance_env.backtest import runner
    from phinance_env.projection import model as fm

    cfg = WalkForwardConfig(max_train=max_train)
    report = run_backtest(store, "^GSPC", "2017-06-01", "2018-12-31", scale, cfg)
    series = store.series("^GSPC")
    log_close = np.log(series.close)
    returns = np.diff(log_close)
    last = int(series.between(dt.date(2017, 6, 1), dt.date(2018, 12, 31))[-1])
    folds = walk_forward(int(series.between(dt.date(2017, 6, 1), dt.date(2018, 12, 31))[0]), last, cfg)
    prev, refit_at, expected = None, -cfg.garch_refit, []
    for fold in folds:
        refit = fold.train_hi - refit_at >= cfg.garch_refit
        fitted = fm.fit(returns[fold.train_lo:fold.train_hi], (1,), scale, prev, refit)
        if fitted.scale == "garch" and refit:
            prev, refit_at = fitted.vol, fold.train_hi
        v = fm.variance_path(returns[:fold.test_hi] - fitted.mu, fitted.vol)
        expected.append(runner._fold_result(fold, series.sessions,
                                            runner._evaluate(fitted, fold, v, log_close, last, 1)))
    assert report.results[0].folds == expected


def test_xnys_sessions_are_cached_next_to_the_store(tmp_path, monkeypatch):
    import warnings

    import exchange_calendars as xcals

    from phinance_env.market import calendar
    from phinance_env.settings import get_settings

    monkeypatch.setenv("PHINANCE_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sessions = xcals.get_calendar("XNYS", start=calendar.CALENDAR_START, end=calendar.CALENDAR_END).sessions
        expected = sessions.tz_localize(None).values.astype("datetime64[D]") if sessions.tz else \
            sessions.values.astype("datetime64[D]")
        days = calendar.xnys_days.__wrapped__()  # computed, then written
        (cached,) = tmp_path.glob("xnys-*.npy")
        assert np.array_equal(days, expected) and np.array_equal(np.load(cached), expected)
        cached.write_bytes(b"not an array")  # a damaged cache is computed again, not trusted
        assert np.array_equal(calendar.xnys_days.__wrapped__(), expected)
        assert np.array_equal(np.load(cached), expected)
    finally:
        get_settings.cache_clear()


def test_settings_read_the_environment_like_pydantic_settings(monkeypatch):
    from pydantic import ValidationError

    from phinance_env.settings import get_settings

    monkeypatch.setenv("phinance_cache_dir", "/tmp/somewhere")  # names are case-insensitive
    monkeypatch.setenv("PHINANCE_GENERATE_SCALE", "0.25")
    monkeypatch.setenv("PHINANCE_NOT_A_FIELD", "ignored")
    get_settings.cache_clear()
    try:
        s = get_settings()
        assert s.bar_store_path == Path("/tmp/somewhere/bars.db") and s.generate_scale == 0.25
        monkeypatch.setenv("PHINANCE_GENERATE_SCALE", "lots")
        get_settings.cache_clear()
        with pytest.raises(ValidationError, match="generate_scale"):
            get_settings()
    finally:
        get_settings.cache_clear()
