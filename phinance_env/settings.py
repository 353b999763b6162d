"""One place for paths, ports and defaults (environment variables prefixed ``PHINANCE_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings; every field can be set as ``PHINANCE_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="PHINANCE_", extra="ignore")

    cache_dir: Path = Path.home() / ".cache" / "phinance-env"
    """Where the bar store (``bars.db``) and the registry's AWM exports are kept."""

    scenario: str = "phinance_01"
    """The scenario commands use when none is named (``PHINANCE_SCENARIO``)."""

    @property
    def bar_store_path(self) -> Path:
        return self.cache_dir / "bars.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
