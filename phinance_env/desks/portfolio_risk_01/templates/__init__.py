"""portfolio_risk_01's task templates, one module per subject; ``Truth`` is what they read."""

from phinance_env.desks.portfolio_risk_01.templates.world import Truth

TEMPLATES: dict = {}

__all__ = ["TEMPLATES", "Truth"]
