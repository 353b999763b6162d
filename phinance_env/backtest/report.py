"""Wire types of a walk-forward backtest (pydantic, extra forbidden)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from phinance_env.backtest.windows import WalkForwardConfig


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coverage(Wire):
    c50: float | None = Field(description="share of realized returns inside the 50% cone")
    c75: float | None
    c90: float | None


class FoldResult(Wire):
    fold: int
    train_start: str
    train_end: str
    test_start: str
    test_end: str
    n_obs: int = Field(description="test sessions whose realized return lies inside the range")
    auc: float | None = Field(description="direction AUC; None when undefined (no obs or one class)")
    hit_rate: float | None
    coverage: Coverage
    pinball_bps: float | None


class Metrics(Wire):
    n_obs: int
    auc: float | None
    auc_ci95: tuple[float, float] | None
    mean_fold_auc: float | None = Field(description="mean of fold AUCs over folds where it is defined")
    hit_rate: float | None = Field(description="share of sessions where the call's sign was right")
    always_up_hit_rate: float | None = Field(description="baseline: always call up")
    constant_auc: float = Field(0.5, description="baseline: a constant score ranks nothing")
    coverage: Coverage
    kupiec_p: Coverage = Field(description="Kupiec POF p-values per cone level (low = miscalibrated)")
    pinball_bps: float | None


class TickerResult(Wire):
    ticker: str
    folds: list[FoldResult]
    empty_folds: list[int] = Field(description="folds without observations, left out of means")
    metrics: Metrics


class Gate(Wire):
    rule: str
    threshold: float
    passed: bool
    verdict: str


class BacktestReport(Wire):
    tickers: list[str]
    start: str
    end: str
    scale: str
    config: WalkForwardConfig
    results: list[TickerResult]
    pooled: Metrics
    gate: Gate
    summary: str
    warnings: list[str]

    @property
    def horizon(self) -> str:
        return f"{self.config.horizon}d"

    @property
    def n_folds(self) -> int:
        return sum(len(r.folds) for r in self.results)
