"""Dashboard sign-in: password, session cookie flags, expiry, sign-out and CSRF on every form."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import pytest

from tests.dashboard.support import PASSWORD, add, csrf, login
from tracker.dashboard import auth

PROTECTED = ("/", "/messages", "/messages.csv", "/messages/1", "/journeys/DH1")


@pytest.mark.parametrize("path", PROTECTED)
def test_pages_need_a_sign_in(locked, engine, path):
    add(engine)
    resp = locked.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/data/overview",
        "/dashboard/data/messages",
        "/dashboard/data/messages/1",
        "/dashboard/data/journeys/DH1",
    ],
)
def test_live_endpoints_answer_401_without_a_session(locked, path):
    resp = locked.get(path)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"


def test_wrong_password_is_refused(locked):
    resp = login(locked, password="wrong")
    assert resp.status_code == 401
    assert "Wrong password." in resp.get_data(as_text=True)
    assert locked.get("/").status_code == 302


def test_sign_in_sets_a_hardened_session_cookie_and_returns_to_next(locked):
    resp = login(locked, next_path="/messages?status=failed")
    assert resp.status_code == 303 and resp.headers["Location"] == "/messages?status=failed"
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("tracker_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    assert locked.get("/").status_code == 200
    assert locked.get("/dashboard/data/overview").status_code == 200


def test_cookie_is_secure_over_https(locked_app):
    client = locked_app.test_client()
    token = csrf(client, "https://localhost/login")
    resp = client.post("https://localhost/login", data={"password": PASSWORD, "csrf_token": token})
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("tracker_session="))
    assert "Secure" in cookie


# Issue 12, attack 1: browsers drop tabs and newlines inside a URL and read "\\" as "/", so each
# of these became "//evil.example" (another host) or, with CR/LF, a 500.
HOSTILE_NEXT = [
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\x00/evil.example",
    "\t//evil.example",
    "/\\/evil.example",
    "javascript:alert(1)",
    "/%09/evil.example\r\nX-Evil: 1",
    "http:/evil.example",
    "/\u2028/evil.example",
    "/\u00a0/evil.example",
    "/\x7f/evil",
    "/x" * 2000,
    "evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_never_leaves_the_site(locked, target):
    resp = login(locked, next_path=target)
    assert resp.status_code == 303 and resp.headers["Location"] == "/"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_in_open_mode_redirects_only_on_site(client, target):
    """Open mode signs nobody in: GET /login?next=… redirects at once, with no interaction."""
    resp = client.get("/login", query_string={"next": target})
    if "\x00" in target:  # refused before any view, as every NUL in a query string
        assert resp.status_code == 400
        return
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/messages?status=failed&pq=abc", "/journeys/DH 1", "/messages/7"])
def test_next_keeps_a_path_of_this_site(locked, target):
    assert login(locked, next_path=target).headers["Location"] == target.replace(" ", "%20")


def test_sign_out_ends_the_session(locked):
    login(locked)
    token = csrf(locked, "/")
    resp = locked.post("/logout", data={"csrf_token": token})
    assert resp.status_code == 303
    assert locked.get("/").status_code == 302


@pytest.mark.parametrize(
    "path, form",
    [
        ("/login", {"password": PASSWORD}),
        ("/logout", {}),
        ("/messages", {"status": "failed"}),
    ],
)
def test_every_form_needs_its_csrf_token(locked, path, form):
    if path != "/login":
        login(locked)
    assert locked.post(path, data=form).status_code == 403
    assert locked.post(path, data={**form, "csrf_token": "forged"}).status_code == 403


def test_csrf_is_checked_in_open_mode_too(client):
    assert client.post("/messages", data={"status": "failed"}).status_code == 403


def test_sessions_expire_after_the_absolute_lifetime(locked):
    login(locked)
    with locked.session_transaction() as sess:
        sess["auth"]["at"] = time.time() - auth.ABSOLUTE_LIFETIME.total_seconds() - 1
    assert locked.get("/").status_code == 302


def test_idle_sessions_expire(locked_app, locked):
    login(locked)
    assert locked_app.permanent_session_lifetime == auth.IDLE_LIFETIME
    # Flask checks the cookie signature's age on every load; shrink the idle lifetime to see it.
    locked_app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(0)
    time.sleep(1.1)
    assert locked.get("/").status_code == 302


def test_changing_the_password_signs_everyone_out(locked_app, locked):
    login(locked)
    settings = locked_app.config["SETTINGS"]
    locked_app.config["SETTINGS"] = dataclasses.replace(settings, dashboard_password="a new password")
    assert locked.get("/").status_code == 302


def test_password_guessing_is_throttled(locked):
    for _ in range(5):
        assert login(locked, password="guess").status_code == 401
    assert login(locked, password="guess").status_code == 401  # the sixth starts the waits
    resp = login(locked)  # even the right password waits its turn
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "Too many wrong passwords" in resp.get_data(as_text=True)
    assert locked.get("/").status_code == 302


# -- issue 12, attack 4: a copied cookie after sign-out ------------------------------------------


def _copy_of_the_cookie(client) -> str:
    return client.get_cookie("tracker_session").value


@pytest.mark.parametrize("path", ["/", "/messages", "/dashboard/data/overview", "/dashboard/data/messages"])
def test_sign_out_ends_every_copy_of_the_session(locked_app, locked, path):
    login(locked)
    stolen = _copy_of_the_cookie(locked)
    thief = locked_app.test_client()
    thief.set_cookie("tracker_session", stolen)
    assert thief.get(path).status_code == 200
    assert locked.post("/logout", data={"csrf_token": csrf(locked, "/")}).status_code == 303
    assert thief.get(path).status_code in (302, 401)


def test_a_password_change_ends_copies_too(locked_app, locked):
    login(locked)
    thief = locked_app.test_client()
    thief.set_cookie("tracker_session", _copy_of_the_cookie(locked))
    locked_app.config["SETTINGS"] = dataclasses.replace(locked_app.config["SETTINGS"], dashboard_password="new pw 1")
    assert thief.get("/").status_code == 302 and locked.get("/").status_code == 302


def test_signing_in_again_does_not_revive_a_signed_out_copy(locked_app, locked):
    login(locked)
    old = _copy_of_the_cookie(locked)
    locked.post("/logout", data={"csrf_token": csrf(locked, "/")})
    login(locked)
    thief = locked_app.test_client()
    thief.set_cookie("tracker_session", old)
    assert thief.get("/").status_code == 302 and locked.get("/").status_code == 200


# -- issue 12, attack 6: phone searches in the cookie --------------------------------------------


def _cookie_payload(app, client) -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    return str(serializer.loads(_copy_of_the_cookie(client)))


def test_a_phone_search_never_lands_in_the_cookie(locked_app, locked):
    login(locked)
    resp = locked.post("/messages", data={"csrf_token": csrf(locked), "phone": "0987 654 321"})
    assert resp.status_code == 303
    payload = _cookie_payload(locked_app, locked)
    raw = _copy_of_the_cookie(locked)
    for form in ("987654321", "0987654321", "+84987654321"):
        assert form not in payload and form not in raw
    # …and the search still works from the token in the URL.
    html = locked.get(resp.headers["Location"]).get_data(as_text=True)
    assert "phone search has expired" not in html
