"""Charts a person would rather look at: a projection fan and backtest coverage by fold."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fan_chart(engine, packet, path: Path, history: int = 120, ahead: int = 21) -> None:
    """Recent closes and the 50/75/90% cones for each of the next ``ahead`` sessions."""
    plt = _pyplot()
    series = engine.store.series(packet.ticker)
    idx = int(np.searchsorted(series.sessions, np.datetime64(packet.as_of)))
    lo = max(0, idx - history + 1)
    fan = engine.project(packet.ticker, packet.as_of, tuple(range(1, ahead + 1)))
    steps = np.arange(1, ahead + 1)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(np.arange(lo - idx, 1), series.close[lo: idx + 1], color="black", lw=1, label="close")
    for level, alpha in zip((0.9, 0.75, 0.5), (0.15, 0.25, 0.4)):
        lower = [h.cone(level).lower_price for h in fan.horizons]
        upper = [h.cone(level).upper_price for h in fan.horizons]
        ax.fill_between(steps, lower, upper, color="tab:blue", alpha=alpha, lw=0, label=f"{int(level * 100)}% cone")
    ax.axvline(0, color="grey", lw=0.5)
    ax.set(title=f"{packet.ticker} as of {packet.as_of}: {fan.model}", xlabel="sessions from as-of", ylabel="price")
    ax.title.set_fontsize(8)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def coverage_chart(report, path: Path) -> None:
    """Cone coverage per fold (each ticker) against the nominal 50/75/90% lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for level, color in zip(("c50", "c75", "c90"), ("tab:green", "tab:orange", "tab:blue")):
        for r in report.results:
            xs = [np.datetime64(f.test_start) for f in r.folds if f.n_obs]
            ys = [getattr(f.coverage, level) for f in r.folds if f.n_obs]
            ax.plot(xs, ys, ".", ms=3, color=color, alpha=0.6)
        nominal = int(level[1:]) / 100
        ax.axhline(nominal, color=color, lw=1, label=f"{level[1:]}% nominal / pooled {getattr(report.pooled.coverage, level)}")
    ax.set(title=f"Cone coverage by fold: {', '.join(report.tickers)} {report.start}..{report.end}",
           ylabel="share inside cone", ylim=(0, 1.05))
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
