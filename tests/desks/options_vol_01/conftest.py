"""Chains for the options desk's tests, built once per session from the real bar store."""

from __future__ import annotations

import pytest

AS_OF = "2018-06-29"


@pytest.fixture(scope="session")
def gspc_chain(store):
    from phinance_env.desks.options_vol_01 import option_chain

    return option_chain(store, "^GSPC", AS_OF)


@pytest.fixture(scope="session")
def nova_chain(store):
    from phinance_env.desks.options_vol_01 import option_chain

    return option_chain(store, "NOVA", AS_OF)
