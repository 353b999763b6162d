"""phinance_01's task templates, one module per subject; ``Truth`` is what they read."""

from phinance_env.desks.phinance_01.templates import backtests, market, projections, refusals, research, workspace
from phinance_env.desks.phinance_01.templates.world import Truth

TEMPLATES = {t.name: t for module in (projections, backtests, workspace, market, research, refusals)
             for t in module.TEMPLATES}

__all__ = ["TEMPLATES", "Truth"]
