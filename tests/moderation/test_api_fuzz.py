"""schemathesis over the REST API's OpenAPI schema (/api/v1/schema/): no generated request gets a 5xx.

The schema is loaded from the running app as a client would (with the platform's token) and every
operation is called in-process through Django's WSGI handler, as a machine client (the platform's
backend, the review service) and as a signed-in compliance admin, with data that fits the schema
and data that does not. The examples per operation are bounded so the run takes about a minute.
"""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler
from django.test import Client

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM, MACHINE_REVIEW
from moderation import actions
from moderation.models import ReasonCode

# transaction=True: each request commits as in production (a view's IntegrityError must not poison
# a test-wide transaction); serialized_rollback keeps the role groups the migrations made.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EXAMPLES_PER_OPERATION = 16  # per identity, about half fitting the schema and half not


@pytest.fixture
def identities(admin, stream_key, nginx_node):
    """Headers and cookies of each caller, in a world with something for the ids to find."""
    stream = actions.open_stream(
        stream_key,
        published_name=stream_key.issued_key,
        node=nginx_node,
        app="live",
        client_id="7",
        addr="",
        title="夜宵",
    )
    actions.warn_publisher(stream, actor=admin, reason=ReasonCode.RUMOUR)
    _platform, platform_token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    _review, review_token = create_machine_client("review-service", kind=MACHINE_REVIEW, actor=None)
    staff = Client()
    staff.force_login(admin)
    return {
        "platform": ({"Authorization": f"Token {platform_token}"}, {}),
        "review": ({"Authorization": f"Token {review_token}"}, {}),
        "staff": ({}, {"sessionid": staff.cookies["sessionid"].value}),
    }


def test_no_generated_request_gets_a_server_error(identities):
    app = WSGIHandler()
    headers, _cookies = identities["platform"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", app, headers=dict(headers))
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert (
        len(operations) >= 18
        and {
            "POST /api/v1/publishers/",
            "POST /api/v1/registration-check",
            "POST /api/v1/streams/{id}/snapshots/",
            "GET /api/v1/gate-decisions/",
        }
        <= labels
    ), labels

    failures: list[str] = []
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        for name, (headers, cookies) in identities.items():
            try:
                call_without_server_errors(cases, headers=headers, cookies=cookies)
            except AssertionError as failure:
                failures.append(f"{operation.label} as {name}: {failure}")
    assert not failures, "\n".join(failures)


def call_without_server_errors(cases, *, headers: dict, cookies: dict) -> None:
    """Call the API with generated cases; raise AssertionError (shrunk, as curl) on the first 5xx."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def call(case):
        response = case.call(headers=headers, cookies=cookies)
        assert response.status_code < 500, f"{response.status_code}: {case.as_curl_command()}"

    call()
