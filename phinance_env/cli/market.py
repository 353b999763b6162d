"""``phinance-env project`` and ``phinance-env backtest``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from phinance_env.cli.common import echo_json, open_store, run_guarded

Scale = Literal["ewma", "garch"]


@run_guarded
def project(
    ticker: Annotated[str, typer.Argument(help="e.g. ^GSPC (case-insensitive)")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD; default: last session")] = None,
    horizon: Annotated[list[str] | None, typer.Option(help="1d, 5d, 21d ... (repeatable)")] = None,
    model: Annotated[Scale, typer.Option(help="volatility model")] = "ewma",
    json_out: Annotated[bool, typer.Option("--json", help="print the full ProjectionPacket")] = False,
    plot: Annotated[Path | None, typer.Option(help="write a fan chart PNG here")] = None,
) -> None:
    """Project TICKER at the close of --as-of: direction, drift and 50/75/90% cones."""
    from phinance_env.projection import DEFAULT_HORIZONS, ProjectionEngine, parse_horizon

    engine = ProjectionEngine(open_store(), model)
    horizons = tuple(parse_horizon(h) for h in horizon) if horizon else DEFAULT_HORIZONS
    packet = engine.project(ticker, as_of, horizons)
    if json_out:
        echo_json(packet)
    else:
        typer.echo(packet.summary)
        for h in packet.horizons:
            cones = "  ".join(f"{int(c.level * 100)}% [{c.lower_bps:+.0f}, {c.upper_bps:+.0f}]" for c in h.cones)
            typer.echo(f"  {h.horizon:>4}: {h.direction.call:<4} up {h.direction.up:.2f} "
                       f"down {h.direction.down:.2f}  drift {h.drift_bps:+.1f} bps  {cones} bps")
        for w in packet.warnings:
            typer.echo(f"  note: {w}")
    if plot:
        from phinance_env.plots import fan_chart

        fan_chart(engine, packet, plot)
        typer.echo(f"fan chart written to {plot}", err=True)


@run_guarded
def backtest(
    tickers: Annotated[str, typer.Argument(help="comma-separated, e.g. ^GSPC,^IXIC")],
    start: Annotated[str, typer.Option(help="first as-of date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="last date whose data may be used, YYYY-MM-DD")],
    horizon: Annotated[str, typer.Option(help="forecast horizon, e.g. 1d")] = "1d",
    model: Annotated[Scale, typer.Option(help="volatility model")] = "ewma",
    min_train: Annotated[int, typer.Option(help="minimum training sessions")] = 126,
    test: Annotated[int, typer.Option(help="sessions per test fold")] = 21,
    step: Annotated[int, typer.Option(help="sessions between folds")] = 21,
    purge: Annotated[int | None, typer.Option(help="purge sessions (default: horizon)")] = None,
    threshold: Annotated[float, typer.Option(help="AUC gate threshold")] = 0.52,
    json_out: Annotated[bool, typer.Option("--json", help="print the full BacktestReport")] = False,
    plot: Annotated[Path | None, typer.Option(help="write a coverage-by-fold PNG here")] = None,
) -> None:
    """Walk-forward backtest: direction AUC with CI and baselines, cone coverage, Kupiec, gate."""
    from pydantic import ValidationError

    from phinance_env.backtest import WalkForwardConfig, run_backtest
    from phinance_env.errors import PhinanceError
    from phinance_env.projection import parse_horizon

    if not 0.5 <= threshold <= 1.0:
        raise PhinanceError(f"threshold {threshold} is out of range: use 0.5..1.0")
    try:
        cfg = WalkForwardConfig(min_train=min_train, test=test, step=step,
                                horizon=parse_horizon(horizon), purge=purge)
    except ValidationError as exc:
        raise PhinanceError(_first_error(exc)) from None
    if json_out or not sys.stdout.isatty():  # nobody watches a bar: skip rich and its thread
        report = run_backtest(open_store(), tickers, start, end, model, cfg, threshold)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("walk-forward folds", total=None)
            report = run_backtest(open_store(), tickers, start, end, model, cfg, threshold,
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
    if json_out:
        echo_json(report)
    else:
        for r in report.results:
            m = r.metrics
            typer.echo(f"{r.ticker}: {len(r.folds)} folds, {m.n_obs} obs, AUC {m.auc}, "
                       f"coverage 50/75/90 = {m.coverage.c50}/{m.coverage.c75}/{m.coverage.c90}, "
                       f"pinball {m.pinball_bps} bps")
        p = report.pooled
        typer.echo(f"pooled: AUC {p.auc} CI {p.auc_ci95}, hit rate {p.hit_rate} "
                   f"(always-up {p.always_up_hit_rate}), Kupiec p 50/75/90 = "
                   f"{p.kupiec_p.c50}/{p.kupiec_p.c75}/{p.kupiec_p.c90}")
        typer.echo(f"gate: {report.gate.verdict} -- {report.gate.rule}")
        for w in report.warnings:
            typer.echo(f"note: {w}")
    if plot:
        from phinance_env.plots import coverage_chart

        coverage_chart(report, plot)
        typer.echo(f"coverage chart written to {plot}", err=True)


def _first_error(exc) -> str:
    err = exc.errors()[0]
    msg = err["msg"].removeprefix("Value error, ")
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {msg}" if where else msg


def register(app: typer.Typer) -> None:
    app.command("project")(project)
    app.command("backtest")(backtest)
