"""options_vol_01's task templates, one module per subject; ``Truth`` is what they read."""

from phinance_env.desks.options_vol_01.templates import quotes, strategies
from phinance_env.desks.options_vol_01.templates.world import Truth

TEMPLATES = {t.name: t for module in (quotes, strategies) for t in module.TEMPLATES}

__all__ = ["TEMPLATES", "Truth"]
