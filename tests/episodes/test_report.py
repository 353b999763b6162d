"""Evaluation statistics against independent computations, and the HTML report as a real
headless browser renders it (Debian's chromium)."""

import json
import math
import shutil
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest

from phinance_env.episodes.stats import evaluate, pass_at_k, pass_hat_k, wilson

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def approx(value):
    return pytest.approx(value, abs=1e-4)  # summaries round to 4 decimals


def test_wilson_matches_the_closed_form_and_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(0, 12), (12, 12), (7, 12), (530, 1000), (1, 3)]:
        ours = wilson(k, n)
        theirs = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert ours == pytest.approx(theirs, abs=1e-9), (k, n)


def test_pass_at_k_and_pass_hat_k_by_enumeration():
    """Against brute force: every k-subset of n tries, c of them successes."""
    for n in range(1, 7):
        for c in range(n + 1):
            tries = [1] * c + [0] * (n - c)
            for k in range(1, n + 1):
                subsets = list(combinations(tries, k))
                assert pass_at_k(n, c, k) == pytest.approx(sum(any(s) for s in subsets) / len(subsets))
                assert pass_hat_k(n, c, k) == pytest.approx(sum(all(s) for s in subsets) / len(subsets))


def _rows(outcomes: dict[int, list[int]]) -> list[dict]:
    return [{"scenario": "phinance_01", "task_id": t, "repeat": r, "policy": "x", "reward": float(v),
             "turns": 3 + r, "error_kind": None if v else ("verifier_error" if t == 2 else None)}
            for t, vs in outcomes.items() for r, v in enumerate(vs)]


def test_evaluate_groups_by_tier_and_template():
    meta = {0: {"tier": 1, "template": "a"}, 1: {"tier": 1, "template": "b"}, 2: {"tier": 3, "template": "c"}}
    summary = evaluate(_rows({0: [1, 1, 1], 1: [1, 0, 0], 2: [0, 0, 0]}), meta)
    assert summary["overall"]["success"] == approx(4 / 9)
    assert summary["by_tier"]["1"]["n"] == 6 and summary["by_tier"]["1"]["success"] == approx(4 / 6)
    assert summary["by_tier"]["3"]["success"] == 0.0 and summary["by_tier"]["3"]["ci95"][0] == 0.0
    assert summary["by_template"]["b"]["success"] == approx(1 / 3)
    assert summary["failures"] == {"ok": 4, "wrong": 2, "verifier_error": 3}
    # task 0: always; task 1: one of three; task 2: never
    assert summary["pass_at_k"]["1"] == approx((1 + 1 / 3 + 0) / 3)
    assert summary["pass_at_k"]["3"] == approx((1 + 1 + 0) / 3)
    assert summary["pass_hat_k"]["3"] == approx(1 / 3)
    assert summary["pass_hat_k"]["2"] == approx((1 + 0 + 0) / 3)


def _browser() -> str | None:
    return next((b for b in BROWSERS if shutil.which(b)), None)


def test_report_renders_in_a_headless_browser(tmp_path):
    from phinance_env.episodes.report import write_report

    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser: install Debian's chromium (apt-get install chromium) to run this test")
    run = tmp_path / "run"
    run.mkdir()
    rows = _rows({0: [1, 1], 1: [1, 0], 2: [0, 0]})
    (run / "rollouts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = {0: {"tier": 1, "template": "alpha"}, 1: {"tier": 2, "template": "beta"}, 2: {"tier": 3, "template": "gamma"}}
    out = subprocess.run([str(Path(sys.executable).parent / "phinance-env"), "report", str(run)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and (run / "report.html").is_file(), out.stderr
    page = write_report(run, meta, tmp_path / "with_meta.html")
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<img") == 4 and "data:image/png;base64," in dom.stdout
    assert "success <b>0.500</b>" in dom.stdout and "gamma" in dom.stdout and "pass^k" in dom.stdout
    shot = tmp_path / "shot.png"
    subprocess.run([*args, f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
                   capture_output=True, text=True, timeout=120)
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.std() > 0.05, "the page rendered as a blank image"
    assert not math.isnan(float(pixels.mean()))
