"""tracker.web.openapi: document() is a valid OpenAPI 3 document describing every /api rule of the
URL map, with its parameters and error responses in the one error envelope."""

from __future__ import annotations

import re

import pytest

from tracker import status as st
from tracker.web.openapi import document

METHODS = {"get", "post", "put", "patch", "delete"}


def openapi_path(rule: str) -> str:
    """Flask's ``/api/messages/<int:message_id>`` as OpenAPI's ``/api/messages/{...}``."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def api_rules(app) -> set[tuple[str, str]]:
    return {
        (normalise(openapi_path(r.rule)), m.lower())
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }


def described(doc) -> set[tuple[str, str]]:
    return {(normalise(p), m) for p, ops in doc["paths"].items() for m in ops if m in METHODS}


def test_the_document_validates_as_openapi_3():
    import openapi_spec_validator as validator

    validator.validate(document())


def test_the_document_is_openapi_3_with_bearer_security():
    doc = document()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearer": []}]


def test_every_api_rule_of_the_url_map_is_described(app):
    assert api_rules(app) == described(document())


def test_every_ref_points_at_a_schema_that_exists():
    doc = document()
    schemas = doc["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    found = list(refs(doc))
    assert found
    for ref in found:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref


def test_path_parameters_are_declared():
    for path, ops in document()["paths"].items():
        names = set(re.findall(r"\{([^}]+)\}", path))
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (path, method)
            assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path")


def test_every_authenticated_operation_answers_401_in_the_error_envelope():
    for path, ops in document()["paths"].items():
        for method, op in ops.items():
            if op.get("security") == []:
                continue
            assert "401" in op["responses"], (path, method)
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert resp["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize(
    "path, method, codes",
    [
        ("/api/messages", "post", {"202", "200", "400", "401", "413"}),
        ("/api/messages", "get", {"200", "400", "401"}),
        ("/api/messages/{id}", "get", {"200", "401", "404"}),
        ("/api/journeys/{order_id}", "get", {"200", "401", "404"}),
        ("/api/stats", "get", {"200", "400", "401"}),
    ],
)
def test_each_operation_lists_its_responses(path, method, codes):
    assert codes <= set(document()["paths"][path][method]["responses"])


def test_the_document_itself_needs_no_token():
    assert document()["paths"]["/api/openapi.json"]["get"]["security"] == []


def test_the_error_schema_is_the_envelope():
    error = document()["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    assert "fields" in error["properties"]["error"]["properties"]


def test_new_message_schema_comes_from_the_pydantic_model():
    new = document()["components"]["schemas"]["NewMessage"]
    assert set(new["required"]) == {"phone", "template_id", "params", "order_id"}
    assert new["additionalProperties"] is False
    body = document()["paths"]["/api/messages"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NewMessage"}


def test_status_and_outcome_enums_are_the_codes_own():
    schemas = document()["components"]["schemas"]
    assert schemas["Message"]["properties"]["status"]["enum"] == list(st.ALL)
    assert schemas["Event"]["properties"]["outcome"]["enum"] == list(st.OUTCOMES)


def test_served_at_api_openapi_json_without_a_token(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200
    assert resp.json == document()
