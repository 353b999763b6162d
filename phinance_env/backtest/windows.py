"""Walk-forward windows counted in sessions: expanding train, purge, test blocks."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator


class WalkForwardConfig(BaseModel):
    """How folds are cut. All counts are trading sessions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_train: int = Field(126, ge=126, le=5000, description="minimum training sessions")
    max_train: int | None = Field(None, ge=126, description="cap on training sessions (None: expanding)")
    test: int = Field(21, ge=1, le=252, description="sessions per test fold")
    step: int = Field(21, ge=1, le=252, description="sessions between fold starts")
    horizon: int = Field(1, ge=1, le=63, description="forecast horizon in sessions")
    garch_refit: int = Field(63, ge=1, le=1260, description="sessions between GARCH parameter refits (drift and residuals refit every fold)")
    purge: int | None = Field(None, ge=0, le=252, description="sessions dropped between train and test (default: horizon)")

    @model_validator(mode="after")
    def _purge_covers_horizon(self) -> "WalkForwardConfig":
        if self.purge is not None and self.purge < self.horizon:
            raise ValueError(f"purge ({self.purge}) must be >= horizon ({self.horizon}) sessions")
        return self

    @property
    def purge_sessions(self) -> int:
        return self.horizon if self.purge is None else self.purge


@dataclass(frozen=True)
class Fold:
    """Indices into one ticker's sessions. Train uses returns[train_lo:train_hi]
    (data up to session ``train_hi``); test as-of sessions are ``test_lo..test_hi``."""

    index: int
    train_lo: int
    train_hi: int
    test_lo: int
    test_hi: int


def walk_forward(first: int, last: int, cfg: WalkForwardConfig) -> list[Fold]:
    """Folds whose test as-of sessions tile [first, last]; the training window of each ends
    ``purge`` sessions before its test block and needs at least ``min_train`` returns."""
    folds = []
    start = first
    while start <= last:
        train_hi = start - cfg.purge_sessions
        if train_hi >= cfg.min_train:
            train_lo = 0 if cfg.max_train is None else max(0, train_hi - cfg.max_train)
            folds.append(Fold(len(folds), train_lo, train_hi, start, min(start + cfg.test - 1, last)))
        start += cfg.step
    return folds
