"""tracker.errors: the one JSON error envelope, JsonError, and werkzeug's HTTP errors turned into the
envelope on JSON paths only (HTML pages keep HTML), with the headers a client acts on kept."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge, TooManyRequests, Unauthorized

from tracker import errors
from tracker.errors import JsonError, code_of, error_response, wants_json


@pytest.fixture
def app():
    """A bare Flask app with only the error handlers, so nothing else shapes the answers."""
    app = Flask(__name__)
    errors.init_app(app)

    @app.get("/api/refuse")
    def refuse():
        raise JsonError(422, "bad_thing", "that is bad", {"phone": "not a phone"}, {"X-Why": "because"})

    @app.get("/api/too-many")
    def too_many():
        raise TooManyRequests(retry_after=7)

    @app.get("/api/unauthorized")
    def unauthorized():
        raise Unauthorized(www_authenticate=WWWAuthenticate("bearer", {"realm": "x"}))

    @app.post("/api/only-post")
    def only_post():
        return "ok"

    @app.get("/page/missing")
    def page_missing():
        abort(404)

    @app.get("/page/refuse")
    def page_refuse():
        raise JsonError(409, "conflict", "taken")

    @app.get("/healthz/boom")
    def boom():
        abort(503)

    return app


def test_json_error_carries_its_parts():
    exc = JsonError(400, "invalid", "bad input", {"a": "b"}, {"H": "v"})
    assert (exc.status, exc.code, exc.message, exc.fields, exc.headers) == (
        400,
        "invalid",
        "bad input",
        {"a": "b"},
        {"H": "v"},
    )
    assert str(exc) == "bad input"
    bare = JsonError(404, "not_found", "no")
    assert bare.fields is None and bare.headers is None


def test_error_response_is_the_envelope(app):
    with app.app_context():
        resp = error_response(400, "invalid", "bad input", {"phone": "required"}, {"Retry-After": "3"})
        assert resp.status_code == 400
        assert resp.get_json() == {
            "error": {"code": "invalid", "message": "bad input", "fields": {"phone": "required"}}
        }
        assert resp.headers["Retry-After"] == "3"
        # No fields: no "fields" key at all.
        assert error_response(404, "not_found", "no").get_json() == {"error": {"code": "not_found", "message": "no"}}


def test_raised_json_error_becomes_the_envelope_with_its_headers(app):
    resp = app.test_client().get("/api/refuse")
    assert resp.status_code == 422
    assert resp.json == {"error": {"code": "bad_thing", "message": "that is bad", "fields": {"phone": "not a phone"}}}
    assert resp.headers["X-Why"] == "because"


def test_json_error_is_json_even_outside_the_json_paths(app):
    resp = app.test_client().get("/page/refuse")
    assert resp.status_code == 409 and resp.json["error"]["code"] == "conflict"


def test_unknown_api_path_is_a_json_404(app):
    resp = app.test_client().get("/api/nothing-here")
    assert resp.status_code == 404
    assert resp.is_json and resp.json["error"]["code"] == "not_found"
    assert resp.json["error"]["message"]


def test_wrong_method_on_api_keeps_allow(app):
    resp = app.test_client().get("/api/only-post")
    assert resp.status_code == 405
    assert resp.json["error"]["code"] == "method_not_allowed"
    assert "POST" in resp.headers["Allow"]


def test_retry_after_and_www_authenticate_are_kept(app):
    client = app.test_client()
    resp = client.get("/api/too-many")
    assert resp.status_code == 429 and resp.json["error"]["code"] == "too_many_requests"
    assert resp.headers["Retry-After"] == "7"
    resp = client.get("/api/unauthorized")
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_html_paths_keep_werkzeugs_html_errors(app):
    client = app.test_client()
    for path in ("/page/missing", "/nowhere"):
        resp = client.get(path)
        assert resp.status_code == 404
        assert not resp.is_json
        assert resp.mimetype == "text/html"


def test_other_json_prefixes_get_the_envelope(app):
    resp = app.test_client().get("/healthz/boom")
    assert resp.status_code == 503 and resp.json["error"]["code"] == "service_unavailable"


@pytest.mark.parametrize(
    "path, want",
    [
        ("/api/messages", True),
        ("/webhooks/esms/x", True),
        ("/dashboard/data/overview", True),
        ("/metrics", True),
        ("/healthz", True),
        ("/", False),
        ("/dashboard/", False),
        ("/apix", False),
        ("/static/live.js", False),
    ],
)
def test_wants_json(path, want):
    assert wants_json(path) is want


@pytest.mark.parametrize(
    "exc, code",
    [
        (NotFound(), "not_found"),
        (MethodNotAllowed(), "method_not_allowed"),
        (RequestEntityTooLarge(), "request_entity_too_large"),
        (TooManyRequests(), "too_many_requests"),
    ],
)
def test_code_of_is_werkzeugs_name_in_snake_case(exc, code):
    assert code_of(exc) == code


def test_code_of_drops_apostrophes():
    class Teapot(NotFound):
        name = "I'm a teapot"

    assert code_of(Teapot()) == "im_a_teapot"
