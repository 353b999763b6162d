"""portfolio_risk_01's task templates, one module per subject; ``Truth`` is what they read."""

from phinance_env.desks.portfolio_risk_01.templates import bookkeeping, questions, workflows
from phinance_env.desks.portfolio_risk_01.templates.world import Truth

TEMPLATES = {t.name: t for module in (questions, bookkeeping, workflows) for t in module.TEMPLATES}

__all__ = ["TEMPLATES", "Truth"]
