import pytest


@pytest.fixture(scope="session")
def data_dir(exported):
    return str(exported)
