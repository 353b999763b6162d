"""Wire types of a projection: ``ProjectionPacket`` and its parts (pydantic, extra forbidden).

The field descriptions reach the agent (OpenAPI schema, tool docs): they say the units and
how the parts relate, e.g. that ``direction.call`` is the likeliest of three outcomes and that
the legacy ``v1`` numbers are half-widths, not intervals.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "2.0"
DIRECTION_NOTE = (
    "Next-session direction is barely predictable, for an index and a stock alike (out-of-sample "
    "AUC ~0.50-0.53); read direction probabilities as near coin flips and rely on the cones for risk."
)
CALL_RULE = ("the likeliest of up/flat/down: the largest of the three probabilities (ties go to up, "
             "then flat). Not a majority: the call can be 'up' with P(up) below 0.5")


def direction_note(sector: str, source: str) -> str:
    """The honest direction caveat for this kind of ticker (index, synthetic or other stock)."""
    if sector in ("Index", "Volatility"):
        what, auc = "an index", "out-of-sample AUC ~0.47-0.53 on ^GSPC, ^IXIC and ^VIX"
    elif source == "synthetic":
        what, auc = "a stock", "this one is synthetic, simulated prices; out-of-sample AUC ~0.50 on that universe"
    else:
        what, auc = "a stock", "run_backtest measures it for this ticker"
    # No direction words here: an answer quoting this must not read as calling a direction.
    return (f"Next-session direction of {what} is barely predictable ({auc}); read direction "
            "probabilities as near coin flips and rely on the cones for risk.")


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Direction(Wire):
    """P(up/flat/down) of the h-session log return, from the same distribution as the cones."""

    up: float = Field(gt=0, lt=1, description="P(return > +flat_band_bps)")
    flat: float = Field(gt=0, lt=1, description="P(|return| <= flat_band_bps)")
    down: float = Field(gt=0, lt=1, description="P(return < -flat_band_bps)")
    call: Literal["up", "flat", "down"] = Field(description=CALL_RULE)

    @model_validator(mode="after")
    def _sums_to_one(self) -> "Direction":
        total = self.up + self.flat + self.down
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"direction probabilities sum to {total}, not 1")
        return self


class Cone(Wire):
    """A central interval of the h-session log return and the prices it maps to."""

    level: float = Field(description="central probability of the interval: 0.5, 0.75 or 0.9")
    lower_bps: float = Field(description="lower bound of the h-session log return, bps")
    upper_bps: float = Field(description="upper bound of the h-session log return, bps")
    lower_price: float = Field(description="last_close * exp(lower_bps / 10000)")
    upper_price: float = Field(description="last_close * exp(upper_bps / 10000)")


class HorizonProjection(Wire):
    horizon: str = Field(description="e.g. '1d' = one trading session ahead")
    sessions: int = Field(description="the horizon in trading sessions")
    target_session: str | None = Field(description="the session the horizon ends on (XNYS)")
    direction: Direction
    flat_band_bps: float = Field(description="moves within +-this many bps count as flat (5 bps * sqrt(sessions))")
    drift_bps: float = Field(description="expected h-session log return, bps")
    sigma_bps: float = Field(description="standard deviation of the h-session log return, bps")
    cones: list[Cone] = Field(description="the 50/75/90% intervals around the drift, nested; pick one by its "
                                          "`level`, not by position")
    annualized_sigma: float = Field(description="sigma scaled to 252 sessions, as a fraction (0.15 = 15%)")
    confidence: float = Field(ge=0, le=1, description="|P(up) - P(down)|: how lopsided the call is")

    def cone(self, level: float) -> Cone:
        """The cone at ``level`` (0.5, 0.75 or 0.9)."""
        for cone in self.cones:
            if abs(cone.level - level) < 1e-9:
                return cone
        raise KeyError(f"no {level:g} cone; levels: {', '.join(f'{c.level:g}' for c in self.cones)}")


HALF_WIDTH = ("legacy: HALF the width of the 1-session {p}% cone, (upper_bps - lower_bps) / 2, in bps; "
              "not a bound or an interval: the interval is the horizons[0].cones entry with level {level}")


class PhinanceV1(Wire):
    """The original Phi-nance view of the 1-session projection, kept for compatibility.

    Its p50/p75/p90 numbers are cone half-widths around the drift; the real [lower, upper]
    intervals are in ``horizons[].cones``."""

    direction: Literal["up", "flat", "down"] = Field(description="horizons[0].direction.call")
    p50_bps: float = Field(description=HALF_WIDTH.format(p=50, level=0.5))
    p75_bps: float = Field(description=HALF_WIDTH.format(p=75, level=0.75))
    p90_bps: float = Field(description=HALF_WIDTH.format(p=90, level=0.9))
    annualized_sigma: float = Field(description="horizons[0].annualized_sigma")
    confidence: float = Field(description="horizons[0].confidence")


class ProjectionPacket(Wire):
    """One projection: the predictive distribution of the log return over each horizon."""

    schema_version: str = SCHEMA_VERSION
    ticker: str
    as_of: str = Field(description="the trading session the projection is made at (its close)")
    requested_date: str = Field(description="the date asked for; a non-session resolves to the session before")
    data_end: str = Field(description="last session in the data for this ticker")
    last_close: float = Field(description="close at as_of, the base of every cone price")
    model: str = Field(description="drift + volatility + residual model, with its training size")
    horizons: list[HorizonProjection] = Field(description="one entry per horizon, 1d first (always present)")
    v1: PhinanceV1 = Field(description="legacy Phi-nance v1 view (half-widths only); use horizons[].cones for intervals")
    summary: str = Field(description="one line: the 1d call with P(up/flat/down), drift and the 75% cone")
    warnings: list[str]
