"""phinance_01, the research desk: projections, walk-forward backtests and a research
workspace (tracked tickers, watchlists, alerts, notes) over the shared bar store."""

from functools import partial

from phinance_env.awm import registry
from phinance_env.awm.resources import resource_dir
from phinance_env.desks import Desk
from phinance_env.desks.phinance_01.tables import Base
from phinance_env.desks.phinance_01.templates import TEMPLATES, Truth
from phinance_env.desks.phinance_01.tools import market, runs, workspace

DESK = Desk(
    name="phinance_01",
    title="Research desk",
    routers=(market.router, runs.router, workspace.router),
    tables=Base.metadata,
    templates=TEMPLATES,
    scenario_file=resource_dir("scenarios") / "phinance_01.toml",
    verifier_file=resource_dir("verifiers") / "phinance_01.py",
    truth=Truth,
)

# The ``awm.environments`` entry point: the paths of this scenario's AWM files.
environment = partial(registry.environment, DESK.name)
