"""What portfolio_risk_01's templates read and draw from: the bar store, the initial books
(replayed from the initial state DB's blotter) and the desk's own figures."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any


@dataclass
class Truth:
    initial_db: Path
    ctx: Any = None

    @cached_property
    def store(self):
        from phinance_env.market import BarStore

        return self.ctx.store if self.ctx is not None else BarStore.open()
