import itertools

import numpy as np
import pytest

from phinance_env.backtest import WalkForwardConfig, run_backtest, walk_forward
from phinance_env.backtest.metrics import kupiec_pof, pinball, rank_auc
from phinance_env.errors import BadRange, NotEnoughData, PhinanceError, UnknownTicker


def brute_force_auc(labels, scores):
    pos = scores[labels]
    neg = scores[~labels]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(5))
def test_rank_auc_equals_brute_force_pair_count_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 300
    scores = rng.integers(0, 12, n).astype(float)  # many ties
    labels = rng.random(n) < 1 / (1 + np.exp(-(scores - 6) / 4))
    auc = rank_auc(labels, scores)
    assert auc.value == pytest.approx(brute_force_auc(labels, scores), abs=1e-12)
    assert auc.ci_low < auc.value < auc.ci_high


def test_rank_auc_edge_cases():
    assert rank_auc(np.array([True, True]), np.array([0.1, 0.2])).value is None
    assert rank_auc(np.array([True, False]), np.array([0.3, 0.3])).value == 0.5
    perfect = rank_auc(np.array([True] * 50 + [False] * 50), np.r_[np.ones(50), np.zeros(50)])
    assert perfect.value == 1.0


def test_auc_ci_covers_half_for_pure_noise_most_of_the_time():
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(200):
        auc = rank_auc(rng.random(400) < 0.5, rng.normal(size=400))
        covered += auc.ci_low <= 0.5 <= auc.ci_high
    assert 0.90 <= covered / 200 <= 0.99


def test_kupiec_and_pinball():
    assert kupiec_pof(1000, 100, 0.90) == pytest.approx(1.0)
    assert kupiec_pof(1000, 200, 0.90) < 1e-6
    assert kupiec_pof(0, 0, 0.9) is None
    realized = np.array([0.0, 1.0])
    q = np.array([[0.0], [0.0]])
    assert pinball(realized, q, (0.5,)) == pytest.approx(0.25)


def test_walk_forward_windows_are_purged_and_tile_the_range():
    cfg = WalkForwardConfig(horizon=5)
    folds = walk_forward(300, 500, cfg)
    assert folds[0].test_lo == 300 and folds[-1].test_hi == 500
    for a, b in zip(folds, folds[1:]):
        assert b.test_lo == a.test_hi + 1
    for f in folds:
        assert f.train_lo == 0 and f.train_hi <= f.test_lo - 5
    assert walk_forward(100, 200, WalkForwardConfig())[0].test_lo == 142  # skips blocks w/o training
    with pytest.raises(ValueError, match="purge"):
        WalkForwardConfig(horizon=5, purge=2)


def test_cone_coverage_on_sp500_2004_2018_out_of_sample(store):
    report = run_backtest(store, "^GSPC", "2004-01-01", "2018-12-31")
    cov = report.pooled.coverage
    assert report.pooled.n_obs > 3700
    assert abs(cov.c50 - 0.50) <= 0.05
    assert abs(cov.c75 - 0.75) <= 0.04
    assert abs(cov.c90 - 0.90) <= 0.03
    # Honest direction: an index's next-day AUC is near a coin flip; the gate says so.
    assert 0.44 < report.pooled.auc < 0.56
    assert report.gate.verdict == ("PASS" if report.gate.passed else "FAIL")


def test_gate_and_report_structure(store):
    report = run_backtest(store, "^gspc, ^ixic", "2016-01-01", "2018-12-31", scale="garch")
    assert report.tickers == ["^GSPC", "^IXIC"]
    assert sum(r.metrics.n_obs for r in report.results) == report.pooled.n_obs
    p = report.pooled
    expected = p.auc >= 0.52 and p.auc_ci95[0] > 0.5
    assert report.gate.passed is expected
    assert "0.52" in report.gate.rule and report.gate.verdict in report.summary
    for r in report.results:
        for f in r.folds:
            assert f.train_end < f.test_start
    assert 0 < p.always_up_hit_rate < 1 and p.constant_auc == 0.5


def test_folds_without_observations_are_reported_and_left_out(store):
    # The last fold's as-of sessions all lack a 5-session outcome inside the range.
    cfg = WalkForwardConfig(horizon=5, test=5, step=5)
    report = run_backtest(store, "^GSPC", "2018-11-01", "2018-12-31", config=cfg)
    result = report.results[0]
    assert result.empty_folds and all(result.folds[i].n_obs == 0 for i in result.empty_folds)
    assert result.metrics.n_obs == sum(f.n_obs for f in result.folds)
    assert all(f.auc is None for f in result.folds if f.n_obs == 0)


@pytest.mark.parametrize("tickers, start, end, error, message", [
    ("", "2010-01-01", "2011-01-01", PhinanceError, "empty"),
    ("^GSPC,^gspc", "2010-01-01", "2011-01-01", PhinanceError, "duplicate"),
    (",".join(f"T{i}" for i in range(11)), "2010-01-01", "2011-01-01", PhinanceError, "at most 10"),
    ("NOPE", "2010-01-01", "2011-01-01", UnknownTicker, "known tickers"),
    ("^GSPC", "2011-01-01", "2010-01-01", BadRange, "after end"),
    ("^GSPC", "2010-13-01", "2011-01-01", PhinanceError, "YYYY-MM-DD"),
    ("^GSPC", "2021-01-01", "2022-01-01", BadRange, "outside"),
    ("^GSPC", "1999-01-04", "1999-05-01", NotEnoughData, "too few sessions"),
    ("^GSPC", "2010-01-04", "2010-01-04", NotEnoughData, "at least 2"),
])
def test_bad_backtest_input(store, tickers, start, end, error, message):
    with pytest.raises(error, match=message):
        run_backtest(store, tickers, start, end)
