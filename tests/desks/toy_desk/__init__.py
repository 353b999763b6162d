"""A desk that exists only in the tests: one tool, one table, one template. It proves that
a new desk plugs in with its own files alone (no core module names it): the tests install
it on a path with an entry point in the ``phinance_env.desks`` group."""

from pathlib import Path

from phinance_env.desks import Desk
from toy_desk.tables import Base
from toy_desk.templates import TEMPLATES, Truth
from toy_desk.tools import router

HERE = Path(__file__).resolve().parent

DESK = Desk(
    name="toy_01",
    title="Toy desk (tests)",
    routers=(router,),
    tables=Base.metadata,
    templates=TEMPLATES,
    scenario_file=HERE / "toy_01.toml",
    verifier_file=HERE / "verifier.py",
    truth=Truth,
)
