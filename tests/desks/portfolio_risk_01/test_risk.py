"""Marks and risk figures of portfolio_risk_01, each against an independent computation:
hand-worked numbers, numpy quantiles and explicit sorting, scipy.stats.norm, statsmodels OLS,
an explicit running maximum, and finite differences for the Euler contributions."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from phinance_env.desks.portfolio_risk_01 import Book, load_closes, mark_to_market, risk_report
from phinance_env.desks.portfolio_risk_01.risk import (
    annualised_volatility, beta, euler_contributions, historical_var_es, max_drawdown, parametric_var_es,
    window_returns,
)
from phinance_env.errors import BadDate, BadRange, NotEnoughData, UnknownTicker
from phinance_env.market.calendar import xnys_days

AS_OF = "2018-06-29"
SHARES = {"^IXIC": 10, "NOVA": 500, "BNKA": 300, "PTRX": 250}
CASH = 20_000.0


def hand_closes() -> pd.DataFrame:
    # Three XNYS sessions (Thu, Fri, Mon): 2018-06-30 and 07-01 are a weekend.
    days = pd.DatetimeIndex(["2018-06-28", "2018-06-29", "2018-07-02"])
    return pd.DataFrame({"AAA": [90.0, 100.0, 104.0], "BBB": [42.0, 40.0, 38.0]}, index=days)


# --- marking to market -----------------------------------------------------------------------
def test_mark_of_a_hand_checked_book():
    book = Book({"aaa": 10, "BBB": 5}, cash=500.0, capital=2_000.0)
    mark = mark_to_market(book, hand_closes(), "2018-06-29")
    # AAA 10 x 100 = 1000, BBB 5 x 40 = 200, cash 500: total 1700, P&L 1700 - 2000 = -300.
    assert mark.session == dt.date(2018, 6, 29) and mark.note is None
    assert mark.values == {"AAA": 1000.0, "BBB": 200.0}
    assert mark.positions_value == 1200.0 and mark.total_value == 1700.0
    assert mark.weights["AAA"] == pytest.approx(10 / 17) and mark.weights["BBB"] == pytest.approx(2 / 17)
    assert mark.cash_weight == pytest.approx(5 / 17)
    assert mark.pnl == -300.0 and mark.pnl_pct == pytest.approx(-0.15)


def test_a_weekend_marks_at_the_previous_session_with_a_note():
    book = Book({"AAA": 10, "BBB": 5}, cash=500.0)
    mark = mark_to_market(book, hand_closes(), "2018-07-01")  # Sunday -> Friday 06-29
    assert mark.session == dt.date(2018, 6, 29)
    assert "2018-07-01 is not a trading session (weekend)" in mark.note and "2018-06-29" in mark.note
    # capital defaults to the cash: 1700 - 500 = 1200 of P&L, 240%.
    assert mark.pnl == 1200.0 and mark.pnl_pct == pytest.approx(2.4)


def test_mark_on_real_bars_uses_the_stores_close(store, closes):
    book = Book(SHARES, cash=CASH)
    mark = mark_to_market(book, closes, AS_OF)
    for t, n in SHARES.items():
        s = store.series(t)
        close = s.close[int(np.searchsorted(s.sessions, np.datetime64(AS_OF)))]
        assert mark.values[t] == pytest.approx(n * close, rel=1e-15)
    assert math.fsum([*mark.weights.values(), mark.cash_weight]) == pytest.approx(1.0, abs=1e-15)


# --- one independent series: the book's returns from the raw store arrays --------------------
def book_returns(store, shares: dict[str, float], cash: float, as_of: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(book returns, ^GSPC returns), computed from Series arrays without the desk's code."""
    day = np.datetime64(as_of)
    prices, gspc, starts = {}, None, set()
    for t in [*shares, "^GSPC"]:
        s = store.series(t)
        i = int(np.flatnonzero(s.sessions == day)[0])
        p = s.close[i - window: i + 1]
        starts.add(s.sessions[i - window])  # every ticker's window starts on one session
        if t == "^GSPC":
            gspc = np.diff(p) / p[:-1]
        if t in shares:
            prices[t] = p
    assert len(starts) == 1
    values = {t: shares[t] * prices[t][-1] for t in shares}
    total = sum(values.values()) + cash
    rp = sum(values[t] / total * (np.diff(prices[t]) / prices[t][:-1]) for t in shares)
    return rp, gspc


@pytest.fixture(scope="module")
def report(closes):
    return risk_report(Book(SHARES, cash=CASH), closes, AS_OF)


@pytest.fixture(scope="module")
def rp(store):
    return book_returns(store, SHARES, CASH, AS_OF, 250)


def test_report_uses_250_returns_of_the_book_as_held(report, rp):
    assert report.window == 250 and report.returns.shape == (250,)
    np.testing.assert_allclose(report.returns, rp[0], rtol=0, atol=1e-15)
    assert report.session == dt.date(2018, 6, 29)
    # 250 returns end on 2018-06-29; the first ends on the XNYS session 249 before it.
    days = xnys_days()
    i = int(np.searchsorted(days, np.datetime64(AS_OF)))
    assert report.first_session == days[i - 249].astype(object)


def test_historical_var_es_match_numpy_quantile_and_explicit_sorting(report, rp):
    r = rp[0]
    value = report.mark.total_value
    ordered = np.sort(r)  # worst return first
    for a, k_worst in [(0.95, 13), (0.99, 3)]:  # ceil(250 a) = 238, 248 -> 13th, 3rd worst
        tail = report.historical[a]
        assert tail.var == pytest.approx(float(np.quantile(-r, a, method="inverted_cdf")), abs=1e-15)
        assert tail.var == pytest.approx(-ordered[k_worst - 1], abs=1e-15)
        assert tail.es == pytest.approx(-ordered[:k_worst].mean(), abs=1e-15)
        assert tail.var_usd == pytest.approx(tail.var * value) and tail.es_usd == pytest.approx(tail.es * value)
        assert tail.es >= tail.var > 0
    assert report.historical[0.99].var > report.historical[0.95].var


def test_historical_var_on_a_hand_worked_series():
    # 20 returns: losses sorted are ..., 0.03, 0.05, 0.08 at the top. At 95%, k = ceil(19) = 19:
    # VaR = the 19th smallest loss = 0.05 (the 2nd largest); ES = mean(0.05, 0.08) = 0.065.
    r = np.array([0.01, -0.02, 0.005, -0.05, 0.02, 0.0, -0.01, 0.015, -0.08, 0.01,
                  0.03, -0.03, 0.002, -0.004, 0.012, 0.007, -0.006, 0.009, 0.011, -0.015])
    var, es = historical_var_es(r, 0.95)
    assert var == pytest.approx(0.05) and es == pytest.approx(0.065)
    # At 90%, k = 18: VaR = 0.03 (3rd largest); ES = mean(0.03, 0.05, 0.08) = 0.0533...
    var, es = historical_var_es(r, 0.90)
    assert var == pytest.approx(0.03) and es == pytest.approx(0.16 / 3)
    # n = 100 at 95%: exactly k = 95 (not 96 from 95.00000000000001), the 6th largest loss.
    x = np.linspace(-0.05, 0.049, 100)
    assert historical_var_es(x, 0.95)[0] == pytest.approx(-np.sort(x)[5])
    assert historical_var_es(x, 0.95)[0] == pytest.approx(np.quantile(-x, 0.95, method="inverted_cdf"))


def test_a_var_of_gains_is_reported_negative_not_clipped():
    r = np.linspace(0.001, 0.02, 50)  # every day a gain
    var, es = historical_var_es(r, 0.99)
    assert var == pytest.approx(-0.001) and es == pytest.approx(-0.001)


def test_parametric_var_es_match_scipy_norm(report, rp):
    r = rp[0]
    mu, sd = r.mean(), r.std(ddof=1)
    for a in (0.95, 0.99):
        tail = report.parametric[a]
        # VaR: the a-quantile of the loss distribution N(-mu, sd).
        assert tail.var == pytest.approx(stats.norm.ppf(a, loc=-mu, scale=sd), rel=1e-12)
        # ES: the mean loss beyond VaR, by numerical integration of the normal tail.
        es = stats.norm.expect(lambda x: x, loc=-mu, scale=sd, lb=tail.var, conditional=True)
        assert tail.es == pytest.approx(es, rel=1e-7)


def test_annualised_volatility_and_beta(report, rp):
    r, gspc = rp
    assert report.daily_volatility == pytest.approx(pd.Series(r).std(), rel=1e-12)  # pandas: ddof 1
    assert report.annualised_volatility == pytest.approx(pd.Series(r).std() * 252**0.5, rel=1e-12)
    ols = sm.OLS(r, sm.add_constant(gspc)).fit()
    assert report.beta == pytest.approx(ols.params[1], rel=1e-10)


def test_beta_of_the_index_itself_is_one_and_of_the_nasdaq_its_ols_slope(store, closes):
    only_gspc = risk_report(Book({"^GSPC": 3}, cash=0.0), closes, AS_OF)
    assert only_gspc.beta == pytest.approx(1.0, rel=1e-12)
    r, gspc = book_returns(store, {"^IXIC": 2}, 0.0, AS_OF, 250)
    only_ixic = risk_report(Book({"^IXIC": 2}, cash=0.0), closes, AS_OF)
    assert only_ixic.beta == pytest.approx(sm.OLS(r, sm.add_constant(gspc)).fit().params[1], rel=1e-10)
    assert 1.0 < only_ixic.beta < 1.5  # the Nasdaq is the higher-beta index


def test_max_drawdown_against_an_explicit_running_max(report, rp):
    value, peak, worst = 1.0, 1.0, 0.0
    for x in rp[0]:
        value *= 1.0 + x
        peak = max(peak, value)
        worst = max(worst, (peak - value) / peak)
    assert report.max_drawdown == pytest.approx(worst, rel=1e-12) and worst > 0


def test_max_drawdown_hand_worked():
    # Path 1, 1.1, 0.88, 0.924, 0.8316, 1.2474: the peak 1.1 falls to 0.8316, 1 - 0.8316/1.1 = 0.244.
    assert max_drawdown(np.array([0.10, -0.20, 0.05, -0.10, 0.50])) == pytest.approx(0.244)
    # A first-day loss counts from the start value 1: 1 -> 0.9 -> 0.99.
    assert max_drawdown(np.array([-0.10, 0.10])) == pytest.approx(0.10)
    assert max_drawdown(np.array([0.01, 0.02, 0.0])) == 0.0


def _parametric_var_of_weights(asset: np.ndarray, w: np.ndarray, a: float) -> float:
    """Independent: the loss quantile of the weighted series' normal, via scipy."""
    r = asset @ w
    return float(stats.norm.ppf(a, loc=-r.mean(), scale=r.std(ddof=1)))


def test_euler_contributions_sum_to_the_totals_and_are_w_times_the_gradient(report, closes):
    contributions = {c.ticker: c for c in report.contributions}
    assert list(contributions) == sorted(SHARES)
    for a in (0.95, 0.99):
        assert math.fsum(c.var[a] for c in report.contributions) == pytest.approx(report.parametric[a].var, rel=1e-12)
        assert math.fsum(c.es[a] for c in report.contributions) == pytest.approx(report.parametric[a].es, rel=1e-12)
    assert math.fsum(c.volatility for c in report.contributions) == pytest.approx(report.daily_volatility, rel=1e-12)

    rets, _ = window_returns(closes, sorted(SHARES), AS_OF)
    asset = rets.to_numpy()
    w = np.array([report.mark.weights[t] for t in sorted(SHARES)])
    h = 1e-6
    for i, t in enumerate(sorted(SHARES)):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        grad = (_parametric_var_of_weights(asset, up, 0.99) - _parametric_var_of_weights(asset, down, 0.99)) / (2 * h)
        assert contributions[t].var[0.99] == pytest.approx(w[i] * grad, rel=1e-6)
        assert contributions[t].weight == pytest.approx(w[i])


def test_single_position_takes_the_whole_contribution():
    rng = np.random.default_rng(7)
    r = rng.normal(0.0, 0.01, (100, 1))
    (c,) = euler_contributions(r, np.array([0.8]), ["AAA"])
    var, _ = parametric_var_es(r[:, 0] * 0.8, 0.99)
    assert c.var[0.99] == pytest.approx(var, rel=1e-12)


def test_shorter_windows_and_stated_confidences(store, closes):
    rep = risk_report(Book(SHARES, cash=CASH), closes, AS_OF, window=60, confidences=(0.9,))
    r, _ = book_returns(store, SHARES, CASH, AS_OF, 60)
    assert list(rep.historical) == [0.9] and rep.returns.shape == (60,)
    # k = ceil(60 x 0.9) = 54: the 54th smallest loss = the 7th largest = the 7th worst return;
    # ES = the mean of the 7 worst.
    assert rep.historical[0.9].var == pytest.approx(-np.sort(r)[6], abs=1e-15)
    assert rep.historical[0.9].es == pytest.approx(-np.sort(r)[:7].mean(), abs=1e-15)


# --- bad input -------------------------------------------------------------------------------
def test_cash_only_book_has_no_risk_to_measure(closes):
    with pytest.raises(NotEnoughData, match="no positions"):
        risk_report(Book({}, cash=1_000.0), closes, AS_OF)
    with pytest.raises(NotEnoughData, match="positive total value"):
        mark_to_market(Book({}, cash=0.0), closes, AS_OF)


def test_window_longer_than_the_data(closes):
    # The synthetic stocks begin 2005-01-03: 2005-06-01 is only ~100 sessions later.
    with pytest.raises(NotEnoughData, match=r"needs 251 closes, but the data has \d+ from 2005-01-03"):
        risk_report(Book({"NOVA": 1}, cash=0.0), closes, "2005-06-01")
    with pytest.raises(NotEnoughData, match="at most"):
        risk_report(Book({"NOVA": 1}, cash=0.0), closes, AS_OF, window=10_000)


def test_unknown_tickers(store, closes):
    with pytest.raises(UnknownTicker, match="unknown ticker 'ZZZZ'"):
        load_closes(store, ["^GSPC", "zzzz"])
    with pytest.raises(UnknownTicker, match="no closes for HELX"):
        risk_report(Book({"HELX": 1}, cash=0.0), closes, AS_OF)
    with pytest.raises(UnknownTicker, match="not a valid symbol"):
        Book({"not a ticker": 1}, cash=0.0)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1, 95, float("nan"), "high"])
def test_confidence_outside_the_open_unit_interval(closes, confidence):
    with pytest.raises(BadRange, match="strictly between 0 and 1"):
        risk_report(Book(SHARES, cash=CASH), closes, AS_OF, confidences=(0.95, confidence))
    with pytest.raises(BadRange, match="strictly between 0 and 1"):
        historical_var_es(np.zeros(10), confidence)


@pytest.mark.parametrize("window", [0, 1, 2.5, True, -250])
def test_bad_windows(closes, window):
    with pytest.raises(BadRange, match="window must be a whole number of sessions >= 2"):
        risk_report(Book(SHARES, cash=CASH), closes, AS_OF, window=window)


def test_bad_books_and_dates(closes):
    with pytest.raises(BadRange, match="long-only"):
        Book({"NOVA": -5}, cash=0.0)
    with pytest.raises(BadRange, match="finite"):
        Book({"NOVA": 5}, cash=float("inf"))
    with pytest.raises(BadDate, match="outside the data"):
        risk_report(Book(SHARES, cash=CASH), closes, "2030-01-02")
    with pytest.raises(BadDate, match="YYYY-MM-DD"):
        mark_to_market(Book(SHARES, cash=CASH), closes, "29/06/2018")


def test_series_helpers_refuse_degenerate_input():
    with pytest.raises(NotEnoughData, match="at least 2 returns"):
        annualised_volatility(np.array([0.01]))
    with pytest.raises(NotEnoughData, match="NaN"):
        max_drawdown(np.array([0.01, np.nan]))
    with pytest.raises(NotEnoughData, match="do not vary"):
        beta(np.array([0.01, 0.02, 0.03]), np.zeros(3))
    with pytest.raises(BadRange, match="one length"):
        beta(np.zeros(3), np.zeros(4))
