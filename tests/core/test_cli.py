"""The CLI: the real console script as a subprocess, and (for the many bad-input cases,
which would each pay seconds of imports in a new process) typer's in-process runner."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
