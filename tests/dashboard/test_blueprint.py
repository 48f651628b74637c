"""tracker.dashboard.blueprint: the guard around every dashboard request (sign-in redirect, the data URLs' 401
in the JSON envelope, CSRF on every POST), the security headers and CSP on every answer, the template globals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard.support import add, csrf, login
from tracker.dashboard import auth, blueprint

HEADERS = {
    "Content-Security-Policy": blueprint.CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_hardened(resp):
    for name, value in HEADERS.items():
        assert resp.headers.get(name) == value, name
    assert "no-store" in resp.headers.get("Cache-Control", "")


def test_headers_hook_sets_every_header_and_keeps_a_cache_control_of_its_own():
    """The hook itself (the app's security module sets some of the same headers on every answer)."""
    from flask import Response

    resp = blueprint._headers(Response("x"))
    for name, value in HEADERS.items():
        assert resp.headers[name] == value, name
    assert resp.headers["Cache-Control"] == "no-store"
    cached = Response("x", headers={"Cache-Control": "max-age=60"})
    assert blueprint._headers(cached).headers["Cache-Control"] == "max-age=60"


def test_csp_allows_only_the_apps_own_assets():
    parts = dict(p.strip().split(" ", 1) for p in blueprint.CSP.split(";"))
    assert parts["default-src"] == "'none'" and parts["frame-ancestors"] == "'none'"
    assert parts["script-src"] == parts["style-src"] == "'self'"
    assert "unsafe-inline" not in blueprint.CSP


@pytest.mark.parametrize(
    "path, next_path",
    [
        ("/", "/"),
        ("/messages", "/messages"),
        ("/messages?status=failed", "/messages?status=failed"),
        ("/messages/1", "/messages/1"),
        ("/journeys/DH1", "/journeys/DH1"),
        ("/messages.csv", "/messages.csv"),
    ],
)
def test_pages_redirect_to_the_sign_in_form_with_the_way_back(locked, path, next_path):
    resp = locked.get(path)
    assert resp.status_code == 302
    target = urlsplit(resp.headers["Location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [next_path]
    assert_hardened(resp)


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/data/overview",
        "/dashboard/data/overview/details",
        "/dashboard/data/messages",
        "/dashboard/data/messages/1",
        "/dashboard/data/journeys/DH1",
    ],
)
def test_data_urls_answer_401_in_the_json_envelope(locked, path):
    resp = locked.get(path)
    assert resp.status_code == 401 and resp.is_json
    assert resp.json == {"error": {"code": "unauthorized", "message": "sign in again"}}
    assert_hardened(resp)


@pytest.mark.parametrize("path", ["/login", "/language/vi?next=/"])
def test_the_sign_in_form_and_the_language_switch_are_public(locked, path):
    resp = locked.get(path)
    assert resp.status_code in (200, 302, 303)
    if resp.status_code != 200:
        assert not resp.headers["Location"].startswith("/login")
    assert_hardened(resp)


def test_a_signed_in_reader_passes(locked, engine):
    add(engine)
    login(locked)
    assert locked.get("/").status_code == 200
    assert locked.get("/dashboard/data/overview").status_code == 200


def test_an_open_dashboard_needs_no_sign_in(client):
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "path, data",
    [
        ("/messages", {"status": "failed"}),
        ("/logout", {}),
        ("/forwarding/retry", {}),
    ],
)
@pytest.mark.parametrize("token", [None, "", "forged"])
def test_a_post_without_a_good_csrf_token_is_refused(client, path, data, token):
    if token is not None:
        data = {**data, "csrf_token": token}
    resp = client.post(path, data=data)
    assert resp.status_code == 403
    assert "Form expired" in resp.get_data(as_text=True)
    assert_hardened(resp)


def test_csrf_comes_before_the_sign_in(locked):
    """Even the public sign-in form refuses a POST without its token."""
    resp = locked.post("/login", data={"password": "x"})
    assert resp.status_code == 403


def test_a_post_with_the_token_passes(client):
    token = csrf(client)
    resp = client.post("/messages", data={"status": "failed", "csrf_token": token})
    assert resp.status_code == 303


def test_the_refusal_is_in_vietnamese_by_default(reader):
    resp = reader.post("/messages", data={})
    assert resp.status_code == 403 and "Form expired" not in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/messages",
        "/login",
        "/messages/999999",
        "/dashboard/data/overview",
        "/dashboard/data/messages/999999",
        "/messages.csv",
    ],
)
def test_every_answer_carries_the_security_headers(client, path):
    assert_hardened(client.get(path))


def test_template_globals_of_an_open_dashboard(app, settings):
    with app.test_request_context("/messages"):
        found = blueprint._template_globals()
        assert found["csrf_token"] is auth.csrf_token
        assert found["csrf_field"] == "csrf_token"
        assert found["open_mode"] is True and found["signed_in"] is True
        assert found["simulator_mode"] is settings.simulator_mode is True
        assert found["poll_ms"] == settings.dashboard_poll_ms


def test_template_globals_behind_the_sign_in(locked_app):
    with locked_app.test_request_context("/login"):
        found = blueprint._template_globals()
        assert found["open_mode"] is False and found["signed_in"] is False


def test_no_template_globals_outside_the_dashboard(app):
    with app.test_request_context("/healthz"):
        assert blueprint._template_globals() == {}
        ctx: dict = {}
        app.update_template_context(ctx)
        assert "csrf_field" not in ctx and "poll_ms" not in ctx
