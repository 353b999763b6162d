"""The OpenEnv server's settings, shared by every session it holds."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = Field("phinance_01", description="the scenario reset uses when none is given")
    data_dir: Path | None = Field(None, description="an AWM data folder (default: our export, in the cache)")
    max_turns: int = Field(30, ge=1, description="tool calls an episode may make before it is ended and scored")
    max_sessions: int = Field(256, ge=1, description="sessions held at once; more are refused (CAPACITY_REACHED)")
    idle_timeout: float = Field(1800.0, gt=0, description="seconds before an untouched session is released")
    work_dir: Path | None = Field(None, description="live episodes' DB copies (the server makes and removes one)")
    keep_runs: Path | None = Field(None, description="keep each finished episode's AWM run files here")
