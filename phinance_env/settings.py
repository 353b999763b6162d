"""One place for paths, ports and defaults (environment variables prefixed ``PHINANCE_``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "phinance_"


class Settings(BaseModel):
    """Runtime settings; every field can be set as ``PHINANCE_<FIELD>`` in the environment."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    cache_dir: Path = Path.home() / ".cache" / "phinance-env"
    """Where the bar store (``bars.db``) and the registry's AWM exports are kept."""

    generate_scale: float = Field(1.0, gt=0, le=1)
    """Scales every template's generated task count (at least one each): a quick export for
    development and tests (``PHINANCE_GENERATE_SCALE=0.02``); the real one is 1."""

    scenario: str = "phinance_01"
    """The scenario commands use when none is named (``PHINANCE_SCENARIO``)."""

    @property
    def bar_store_path(self) -> Path:
        return self.cache_dir / "bars.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    # What pydantic-settings' BaseSettings does for these fields (names case-insensitive, values
    # validated by pydantic), without its imports (asyncio, dotenv, cloud secret stores): they
    # cost every command ~0.15 s of start-up.
    env = {k.lower().removeprefix(ENV_PREFIX): v for k, v in os.environ.items()
           if k.lower().startswith(ENV_PREFIX)}
    return Settings.model_validate(env)
