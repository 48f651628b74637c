"""Schemathesis against /api/openapi.json on the real app: no 5xx, every answer as the document says."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from tracker.web.security import MAX_ID

# Bounded in CI; TRACKER_FUZZ_API_N raises it for a longer hunt.
EXAMPLES = int(os.environ.get("TRACKER_FUZZ_API_N", "30"))
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
# What the answers must be. Left out: schemathesis's checks of how strict the API is about its
# input (an empty `until=` read as no bound, a string `phone` that is no phone number refused
# with the documented 400), which are choices, not faults.
ANSWER_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def operations(app) -> list:
    # The document the app serves, loaded through the app itself (WSGI, no socket).
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


PHONES = ["0901888484", "+84 90 188 8484", "84381234567", "0912345678"]


def with_real_phone(case):
    """Schema-valid bodies carry a random string as phone; a real one lets sends succeed too."""
    if case.method == "POST" and isinstance(case.body, dict) and "phone" in case.body:
        case.body["phone"] = PHONES[len(str(case.body)) % len(PHONES)]
    return case


def run(strategy, check, examples: int) -> None:
    # schemathesis's own pytest hooks do not work with pytest 9, so drive Hypothesis directly.
    @given(case=strategy)
    @settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
    )
    def each(case) -> None:
        check(case)

    each()


def test_the_document_lists_every_api_operation(app):
    labels = {op.label for op in operations(app)}
    # (schemathesis leaves out the document's own path.)
    assert labels >= {
        "POST /api/messages",
        "GET /api/messages",
        "GET /api/messages/{id}",
        "POST /api/messages/{id}/resend",
        "GET /api/journeys/{order_id}",
        "GET /api/stats",
    }


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_api_answers_as_documented(app, auth, mode):
    seen: list[int] = []

    def check(case) -> None:
        response = case.call_and_validate(headers=auth, checks=ANSWER_CHECKS)
        seen.append(response.status_code)

    for op in operations(app):
        strategy = op.as_strategy(generation_mode=mode)
        run(strategy.map(with_real_phone) if mode is GenerationMode.POSITIVE else strategy, check, EXAMPLES)
    assert seen and max(seen) < 500
    if mode is GenerationMode.POSITIVE:
        assert 202 in seen  # the success answers were checked against the document too
    print(f"schemathesis {mode.value}: {len(seen)} calls, statuses {sorted(set(seen))}")


def test_api_without_a_token_is_401(app):
    def check(case) -> None:
        response = case.call()
        wanted = 200 if case.path == "/api/openapi.json" else 401
        if response.status_code == 400:
            # Input no server takes (a NUL, an overlong filter) is refused before anyone's identity matters.
            assert response.json()["error"]["code"] in ("invalid_query", "invalid_path")
            return
        if response.status_code == 404:
            # A path no route matches (an id past BIGINT or not ASCII digits, issue 12) names nothing.
            ident = str((case.path_parameters or {}).get("id", ""))
            assert not (ident.isascii() and ident.isdigit() and int(ident) <= MAX_ID), case.path_parameters
            return
        assert response.status_code == wanted, (case.path, response.status_code)
        if wanted == 401:
            assert response.json() == {
                "error": {"code": "unauthorized", "message": response.json()["error"]["message"]}
            }

    for op in operations(app):
        run(op.as_strategy(), check, max(5, EXAMPLES // 3))
