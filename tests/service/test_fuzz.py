"""Every operation of the live OpenAPI schema fuzzed by schemathesis: no 5xx, every response
as documented (status, content type, body schema, headers, Allow), and input the schema
forbids refused. A bounded number of examples per operation keeps it within CI's minutes; what
it found was fixed and stays covered here.

All of schemathesis's checks run but one: "schema-valid data accepted". A schema cannot say
"a real calendar date between 1800 and 2200" or "a time range that is not empty", so strings
it allows may still be refused, with the documented 422 and its reason."""

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.conftest import ADMIN_AUTH, serve_sources

EXAMPLES = 30
KEY = "fuzz-key"


def test_no_operation_errors_or_strays_from_its_schema(tmp_path: Path) -> None:
    """Against a server with an API key, sent with every request: the admin operations run."""
    for running in serve_sources(tmp_path):
        _fuzz(running.base_url, ADMIN_AUTH)


def _fuzz(base_url: str, headers: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        fuzz()
