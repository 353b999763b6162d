"""Fuzz every operation of the app's own OpenAPI schema (schemathesis, fixed seed and
budget): no 5xx, and every response conforms to its declared schema. Schema-valid requests
may still be refused with a 4xx: a well-formed date outside the data is a business rule the
schema cannot express, so that one check is left out."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support import fresh_db, phinance_app

EXAMPLES_PER_OPERATION = int(os.environ.get("PHINANCE_FUZZ_EXAMPLES", "25"))  # make soak: 300


@pytest.fixture(scope="module")
def api_schema(exported, tmp_path_factory):
    db = fresh_db(exported / "databases" / "phinance_01.db", tmp_path_factory.mktemp("fuzz"))
    return schemathesis.openapi.from_asgi("/openapi.json", phinance_app(db, mcp=False))


def test_every_operation_survives_fuzzing(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 22
    failures = {}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            fuzz()
        except BaseException as exc:  # noqa: BLE001 - hypothesis raises exception groups
            failures[operation.label] = str(exc)[:1500]
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
