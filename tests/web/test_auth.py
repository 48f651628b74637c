"""tracker.web.auth: the bearer-token check guarding /api/* and /metrics (token_ok, require_token)."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support import API_TOKEN, make_settings, replace_settings
from tracker.errors import JsonError
from tracker.web import auth


@pytest.fixture
def settings(tmp_path):
    return replace_settings(
        make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), api_tokens=("first-token", API_TOKEN)
    )


def check(settings, header: str | None, fn=auth.token_ok):
    headers = {"Authorization": header} if header is not None else {}
    with Flask(__name__).test_request_context("/api/messages", headers=headers):
        return fn(settings)


@pytest.mark.parametrize(
    "header",
    [f"Bearer {API_TOKEN}", "Bearer first-token", f"bearer {API_TOKEN}", f"BEARER {API_TOKEN}", f"Bearer {API_TOKEN} "],
)
def test_any_configured_token_is_accepted(settings, header):
    assert check(settings, header) is True


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Basic {API_TOKEN}",
        API_TOKEN,
        "Bearer wrong",
        f"Bearer {API_TOKEN}x",
        f"Bearer {API_TOKEN[:-1]}",
        "Bearer first-token,test-api-token",
    ],
)
def test_anything_else_is_refused(settings, header):
    assert check(settings, header) is False


def test_no_configured_tokens_accept_nothing(settings):
    assert check(replace_settings(settings, api_tokens=()), "Bearer anything") is False


def test_require_token_passes_a_good_token(settings):
    assert check(settings, f"Bearer {API_TOKEN}", auth.require_token) is None


def test_require_token_raises_a_401_with_its_challenge(settings):
    with pytest.raises(JsonError) as caught:
        check(settings, "Bearer wrong", auth.require_token)
    exc = caught.value
    assert exc.status == 401
    assert (exc.code, exc.message) == auth.UNAUTHORIZED
    assert exc.headers == {"WWW-Authenticate": 'Bearer realm="tracker"'}


def test_an_open_api_needs_no_token(settings):
    # Open only when nothing real can be sent: simulator mode (or TRACKER_ALLOW_OPEN) with no tokens.
    open_settings = replace_settings(settings, api_tokens=(), simulator_mode=True)
    assert open_settings.api_open
    assert check(open_settings, None, auth.require_token) is None


def test_no_tokens_with_real_credentials_is_not_open(settings):
    closed = replace_settings(settings, api_tokens=(), simulator_mode=False, allow_open=False)
    with pytest.raises(JsonError):
        check(closed, None, auth.require_token)


def test_the_app_refuses_the_api_without_the_token(client, auth):
    resp = client.get("/api/messages")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="tracker"'
    assert client.get("/api/messages", headers=auth).status_code == 200
