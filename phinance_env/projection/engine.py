"""The projection engine: a ``ProjectionPacket`` per (ticker, as-of session, model), cached."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from phinance_env.errors import NotEnoughData, PhinanceError
from phinance_env.market import BarStore, Series, parse_date
from phinance_env.market.calendar import xnys_days
from phinance_env.projection import model as fm
from phinance_env.projection.packet import (
    Cone, Direction, HorizonProjection, PhinanceV1, ProjectionPacket, direction_note,
)

DEFAULT_HORIZONS = (1, 5, 21)
MAX_HORIZON = 63
ANNUALIZATION = 252


def flat_band_bps(h: int) -> float:
    """Moves within +-5 bps per sqrt(session) count as flat."""
    return 5.0 * float(np.sqrt(h))


def parse_horizon(text: str | int) -> int:
    """``'5d'``, ``'5'`` or ``5`` -> 5 sessions (1..63)."""
    raw = str(text).strip().lower().removesuffix("d")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_HORIZON:
        raise PhinanceError(
            f"horizon {str(text)[:20]!r} is not valid: use 1d..{MAX_HORIZON}d sessions, e.g. 1d, 5d, 21d"
        )
    return int(raw)


@dataclass(frozen=True)
class TickerState:
    """Per-ticker arrays derived once: log returns (aligned to sessions[1:]), and the
    direction caveat for its kind (index or stock)."""

    series: Series
    log_close: np.ndarray
    returns: np.ndarray
    note: str


class ProjectionEngine:
    """Builds projections from the bar store; an LRU cache keeps repeated calls ~free."""

    def __init__(self, store: BarStore, scale: fm.ScaleName = "ewma", cache_size: int = 4096):
        self.store = store
        self.scale = scale
        self._cache: OrderedDict[tuple, ProjectionPacket] = OrderedDict()
        self._states: dict[str, TickerState] = {}
        self._lock = threading.Lock()
        self.cache_size = cache_size

    def state(self, ticker: str) -> TickerState:
        series = self.store.series(ticker)
        state = self._states.get(series.symbol)
        if state is None:
            info = self.store.ticker(series.symbol)
            log_close = np.log(series.close)
            state = TickerState(series, log_close, np.diff(log_close), direction_note(info.sector, info.source))
            self._states[series.symbol] = state
        return state

    def project(self, ticker: str, as_of: str | dt.date | None = None,
                horizons: tuple[int, ...] = DEFAULT_HORIZONS) -> ProjectionPacket:
        """Projection at the close of ``as_of`` (default: the last session in the data)."""
        state = self.state(ticker)
        sessions = state.series.sessions
        if as_of is None:
            idx, note, requested = len(sessions) - 1, None, str(sessions[-1])
        else:
            day = parse_date(as_of, "as_of_date")
            idx, note = state.series.index_of(day)
            requested = day.isoformat()
        horizons = tuple(sorted(set(horizons) | {1}))  # 1d always: the v1 view and summary use it
        key = (state.series.symbol, idx, horizons, self.scale)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is None:
            hit = self._build(state, idx, horizons)
            with self._lock:
                self._cache[key] = hit
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        if requested != hit.requested_date or note:
            warnings = ([note] if note else []) + hit.warnings
            hit = hit.model_copy(update={"requested_date": requested, "warnings": warnings})
        return hit

    def _build(self, state: TickerState, idx: int, horizons: tuple[int, ...]) -> ProjectionPacket:
        series = state.series
        if idx < fm.MIN_TRAIN:
            earliest = series.sessions[min(fm.MIN_TRAIN, len(series.sessions) - 1)]
            raise NotEnoughData(
                f"{series.symbol} needs {fm.MIN_TRAIN} sessions of history before as_of_date; "
                f"earliest accepted as_of_date is {earliest}"
            )
        fitted = fm.fit(state.returns[:idx], horizons, self.scale)
        v_next = fitted.v_next
        close = float(series.close[idx])
        calendar = xnys_days()
        pos = int(np.searchsorted(calendar, series.sessions[idx]))
        rows = []
        for h in horizons:
            pred = fitted.predict(v_next, h, flat_band_bps(h))
            target = pos + h
            rows.append(_horizon(pred, close, str(calendar[target]) if target < len(calendar) else None))
        one = rows[0]
        v1 = PhinanceV1(
            direction=one.direction.call,
            p50_bps=_half_width(one.cone(0.5)), p75_bps=_half_width(one.cone(0.75)),
            p90_bps=_half_width(one.cone(0.9)),
            annualized_sigma=one.annualized_sigma, confidence=one.confidence,
        )
        as_of = str(series.sessions[idx])
        notes = list(fitted.warnings) + [state.note]
        return ProjectionPacket(
            ticker=series.symbol, as_of=as_of, requested_date=as_of,
            data_end=str(series.sessions[-1]), last_close=round(close, 4),
            model=_model_name(fitted), horizons=rows, v1=v1,
            summary=_summary(series.symbol, as_of, one), warnings=notes,
        )


def _horizon(pred: fm.Predictive, close: float, target: str | None) -> HorizonProjection:
    q = pred.quantiles[0] * 1e4
    probs = {"up": float(pred.p_up[0]), "flat": float(pred.p_flat[0]), "down": float(pred.p_down[0])}
    cones = [
        Cone(level=level, lower_bps=round(float(q[2 * i]), 2), upper_bps=round(float(q[2 * i + 1]), 2),
             lower_price=round(close * float(np.exp(q[2 * i] / 1e4)), 4),
             upper_price=round(close * float(np.exp(q[2 * i + 1] / 1e4)), 4))
        for i, level in enumerate(fm.CONE_LEVELS)
    ]
    sigma = float(pred.sigma[0])
    return HorizonProjection(
        horizon=f"{pred.horizon}d", sessions=pred.horizon, target_session=target,
        direction=Direction(**probs, call=max(probs, key=probs.get)),
        flat_band_bps=round(pred.flat_band * 1e4, 2),
        drift_bps=round(float(pred.drift[0]) * 1e4, 2), sigma_bps=round(sigma * 1e4, 2),
        cones=cones,
        annualized_sigma=round(sigma * np.sqrt(ANNUALIZATION / pred.horizon), 4),
        confidence=round(abs(probs["up"] - probs["down"]), 4),
    )


def _half_width(cone: Cone) -> float:
    return round((cone.upper_bps - cone.lower_bps) / 2.0, 2)


def _model_name(fitted: fm.FittedModel) -> str:
    vol = "EWMA(0.94)" if fitted.scale == "ewma" else "GARCH(1,1)-t"
    return f"shrunk-mean drift + {vol} + FHS residuals (n_train={fitted.n_train})"


def _summary(symbol: str, as_of: str, one: HorizonProjection) -> str:
    """One line. The probabilities get as many decimals as it takes for the call's to print
    strictly largest (so no '0.49 / 0.49 -> up'), and the call rule is stated."""
    d, c75 = one.direction, one.cone(0.75)
    for digits in range(2, 7):
        shown = {k: f"{getattr(d, k):.{digits}f}" for k in ("up", "flat", "down")}
        if all(float(shown[d.call]) > float(v) for k, v in shown.items() if k != d.call):
            break
    return (
        f"{symbol} {as_of} next session: {d.call} (the likeliest outcome; P up {shown['up']} / "
        f"flat {shown['flat']} / down {shown['down']}), drift {one.drift_bps:+.1f} bps, 75% cone "
        f"[{c75.lower_bps:+.0f}, {c75.upper_bps:+.0f}] bps ({c75.lower_price:,.2f} to {c75.upper_price:,.2f})"
    )
