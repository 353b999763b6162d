"""Wire types of a projection: ``ProjectionPacket`` and its parts (pydantic, extra forbidden)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "2.0"
DIRECTION_NOTE = (
    "Next-session direction of an index is barely predictable (out-of-sample AUC ~0.50-0.53); "
    "read direction probabilities as near coin flips and rely on the cones for risk."
)


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Direction(Wire):
    up: float = Field(gt=0, lt=1, description="P(return > +flat band)")
    flat: float = Field(gt=0, lt=1, description="P(|return| <= flat band)")
    down: float = Field(gt=0, lt=1, description="P(return < -flat band)")
    call: Literal["up", "flat", "down"] = Field(description="the most probable of the three")

    @model_validator(mode="after")
    def _sums_to_one(self) -> "Direction":
        total = self.up + self.flat + self.down
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"direction probabilities sum to {total}, not 1")
        return self


class Cone(Wire):
    level: float = Field(description="central probability of the interval, e.g. 0.75")
    lower_bps: float = Field(description="lower bound of the h-session log return, bps")
    upper_bps: float = Field(description="upper bound of the h-session log return, bps")
    lower_price: float
    upper_price: float


class HorizonProjection(Wire):
    horizon: str = Field(description="e.g. '1d' = one trading session ahead")
    sessions: int
    target_session: str | None = Field(description="the session the horizon ends on (XNYS)")
    direction: Direction
    flat_band_bps: float
    drift_bps: float = Field(description="expected h-session log return, bps")
    sigma_bps: float = Field(description="standard deviation of the h-session log return, bps")
    cones: list[Cone] = Field(description="50/75/90% intervals, nested, around the drift")
    annualized_sigma: float = Field(description="sigma scaled to 252 sessions, as a fraction")
    confidence: float = Field(ge=0, le=1, description="|P(up) - P(down)|: how lopsided the call is")

    def cone(self, level: float) -> Cone:
        """The cone at ``level`` (0.5, 0.75 or 0.9)."""
        for cone in self.cones:
            if abs(cone.level - level) < 1e-9:
                return cone
        raise KeyError(f"no {level:g} cone; levels: {', '.join(f'{c.level:g}' for c in self.cones)}")


class PhinanceV1(Wire):
    """The original Phi-nance view of the 1-session projection (half-widths in bps)."""

    direction: Literal["up", "flat", "down"]
    p50_bps: float
    p75_bps: float
    p90_bps: float
    annualized_sigma: float
    confidence: float


class ProjectionPacket(Wire):
    schema_version: str = SCHEMA_VERSION
    ticker: str
    as_of: str = Field(description="the trading session the projection is made at (its close)")
    requested_date: str
    data_end: str = Field(description="last session in the data for this ticker")
    last_close: float
    model: str
    horizons: list[HorizonProjection]
    v1: PhinanceV1
    summary: str
    warnings: list[str]
