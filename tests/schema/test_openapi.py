"""Schemathesis against every service's OpenAPI document: no answer is a 5xx, and every answer matches its documented schema.

Each service's app is built on a throwaway database and driven through its WSGI interface (no server),
with a group admin's token so that the routes behind it are reached. Every operation gets
``EXAMPLES`` generated requests, derandomized (the same requests on every run, so a failure is
reproducible and the run stays within its time). Checks: ``not_a_server_error`` and
``response_schema_conformance`` (a documented status with a schema must match it). One 5xx is an
answer of the contract, not a server error: a ``503`` with ``Retry-After`` that the operation
documents (dispatch's directory routes while an estate's copy is on its way, docs/DIRECTORY.md). The failures are
collected across all operations of a service and reported together.

``EXCLUDED`` names operations left out, each with its reason (work in progress in another part of
the platform, reported to its owners rather than papered over).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from analytics.service import ANALYTICS
from dispatch.service import DISPATCH
from intake.service import INTAKE
from notification.service import NOTIFICATION
from propcare_shared.context import ServiceContext
from propcare_shared.service import ServiceDefinition
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from survey.service import SURVEY

EXAMPLES = 6
SERVICES: dict[str, ServiceDefinition] = {definition.name: definition for definition in (INTAKE, DISPATCH, NOTIFICATION, SURVEY, ANALYTICS)}
EXCLUDED: dict[tuple[str, str], str] = {}
"""(METHOD, path) → why the operation is not run here."""


def _failures_of(operation: Any, headers: dict[str, str]) -> list[str]:
    """Run one operation's examples; return what went wrong, one line per failing example."""
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        if _documented_retry_later(operation, response):
            return
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=headers)
        except FailureGroup as exc:  # every check that failed on this answer, with its title and message
            failures.append(f"{operation.method.upper()} {operation.path} -> {response.status_code}: {_summary(exc)}")

    run()
    return failures


def _documented_retry_later(operation: Any, response: Any) -> bool:
    """Tell whether an answer is a 503 with ``Retry-After`` that the operation documents: temporary by contract."""
    retry_after = "retry-after" in {name.lower() for name in response.headers}
    return response.status_code == 503 and retry_after and "503" in operation.definition.raw.get("responses", {})


def _summary(error: BaseException) -> str:
    found = [
        " ".join(
            line.strip() for line in (failure.title, failure.message.strip().splitlines()[0] if failure.message.strip() else "") if line
        )
        for failure in getattr(error, "exceptions", ())
        if hasattr(failure, "title")
    ]
    return "; ".join(found) or str(error).strip().splitlines()[0]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_operation_answers_a_server_error_or_off_its_schema(
    service: str, make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext]
) -> None:
    settings = make_settings(service)
    app = SERVICES[service].create_app(open_context(settings))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = bearer(settings, role="group_admin", sub="schemathesis")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        operations += 1
        failures.extend(_failures_of(operation, headers))
    assert operations > 0
    assert not failures, "\n".join(sorted(set(failures)))
