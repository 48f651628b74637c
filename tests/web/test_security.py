"""Headers, API tokens, open-mode warning, login throttling and phone masking in logs."""

from __future__ import annotations

import logging

import pytest

from tests.support import API_TOKEN, make_settings
from tracker import config, create_app
from tracker.web import scrubbing
from tracker.web.scrubbing import mask_phones

CSP_WORDS = (
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


@pytest.mark.parametrize("path", ["/healthz", "/api/openapi.json", "/api/messages", "/webhooks/esms/1.x", "/nowhere"])
def test_every_answer_carries_the_safety_headers(client, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert all(word in csp for word in CSP_WORDS) and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in ("no-referrer", "strict-origin", "same-origin")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP: HSTS would be ignored anyway


def test_api_and_webhook_answers_are_not_cached(client, auth):
    assert client.get("/api/messages", headers=auth).headers["Cache-Control"] == "no-store"
    assert client.get("/webhooks/esms/1.x").headers["Cache-Control"] == "no-store"


def test_a_policy_set_by_the_view_is_kept(app):
    @app.get("/own-policy")
    def own():
        return "x", 200, {"Content-Security-Policy": "default-src 'none'"}

    assert app.test_client().get("/own-policy").headers["Content-Security-Policy"] == "default-src 'none'"


def test_https_gets_hsts_and_only_secure_cookies(app):
    @app.get("/cookie")
    def cookie():
        from flask import make_response

        resp = make_response("x")
        resp.set_cookie("a", "1")
        resp.set_cookie("b", "2", secure=True)
        return resp

    c = app.test_client()
    resp = c.get("/cookie", base_url="https://tracker.test")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = resp.headers.getlist("Set-Cookie")
    assert len(cookies) == 2 and all("; Secure" in v for v in cookies)
    assert sum(v.lower().count("secure") for v in cookies) == 2  # added once, never twice
    plain = c.get("/cookie").headers.getlist("Set-Cookie")
    assert [v for v in plain if "Secure" in v] == [v for v in plain if v.startswith("b=")]


def test_proxy_https_counts_only_with_trusted_hops(db_url, engine, tmp_path):
    def hsts(app) -> str | None:
        resp = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
        return resp.headers.get("Strict-Transport-Security")

    direct = create_app(make_settings(db_url, tmp_path / "a"), engine=engine)
    proxied = create_app(make_settings(db_url, tmp_path / "b", TRACKER_PROXY_HOPS="1"), engine=engine)
    assert hsts(direct) is None  # a client cannot claim HTTPS by itself
    assert hsts(proxied) is not None


# -- API tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given", [API_TOKEN[:-1], API_TOKEN + "x", API_TOKEN.upper(), f"{API_TOKEN},other", "", " ", f"{API_TOKEN}\x00"]
)
def test_near_miss_tokens_are_refused(client, given):
    resp = client.get("/api/messages", headers={"Authorization": f"Bearer {given}"})
    assert resp.status_code == 401 and API_TOKEN not in resp.get_data(as_text=True)


def test_token_comparison_is_constant_time(monkeypatch, client):
    import hmac

    real, seen = hmac.compare_digest, []

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert client.get("/api/messages", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert (b"nope", API_TOKEN.encode()) in seen


def test_old_and_new_tokens_both_work_during_rotation(db_url, engine, tmp_path):
    app = create_app(make_settings(db_url, tmp_path, TRACKER_API_TOKENS="old-tok-1,new-tok-2"), engine=engine)
    c = app.test_client()
    assert [
        c.get("/api/messages", headers={"Authorization": f"Bearer {t}"}).status_code
        for t in ("old-tok-1", "new-tok-2", "old-tok-3")
    ] == [200, 200, 401]


# -- open mode ----------------------------------------------------------------------------------

REAL = {"ESMS_API_KEY": "real-api-key-123", "ESMS_SECRET_KEY": "real-secret-456"}


def test_real_credentials_without_auth_refuse_to_start(db_url, tmp_path):
    with pytest.raises(config.ConfigError, match="TRACKER_API_TOKENS"):
        make_settings(db_url, tmp_path, TRACKER_API_TOKENS="", **REAL)
    with pytest.raises(config.ConfigError, match="TRACKER_DASHBOARD_PASSWORD"):
        make_settings(db_url, tmp_path, **REAL)


def test_allowed_open_mode_with_real_credentials_is_logged_loudly(db_url, engine, tmp_path, caplog):
    settings = make_settings(db_url, tmp_path, TRACKER_API_TOKENS="", TRACKER_ALLOW_OPEN="1", **REAL)
    with caplog.at_level(logging.WARNING, logger="tracker.web.security"):
        app = create_app(settings, engine=engine)
    lines = [r for r in caplog.records if r.name == "tracker.web.security" and r.levelno >= logging.WARNING]
    assert len(lines) == 1
    text = lines[0].getMessage()
    assert "TRACKER_ALLOW_OPEN" in text and "API" in text and "dashboard" in text
    assert REAL["ESMS_API_KEY"] not in text and REAL["ESMS_SECRET_KEY"] not in text
    assert app.test_client().get("/api/messages").status_code == 200  # open, as asked


def test_no_warning_when_everything_is_protected_or_simulated(db_url, engine, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="tracker.web.security"):
        create_app(
            make_settings(db_url, tmp_path / "a", TRACKER_ALLOW_OPEN="1", TRACKER_DASHBOARD_PASSWORD="pw", **REAL),
            engine=engine,
        )
        create_app(make_settings(db_url, tmp_path / "b", TRACKER_ALLOW_OPEN="1"), engine=engine)
    assert not [r for r in caplog.records if r.name == "tracker.web.security"]


# Login throttling: tests/test_login_throttle.py (counters in the database since issue 12).


# -- phone numbers in logs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0901888484",
        "84901888484",
        "+84901888484",
        "+84 90 188 8484",
        "090-188-8484",
        "%2B84901888484",
        "0381234567",
        "0701234567",
    ],
)
def test_phone_forms_are_masked(raw):
    masked = mask_phones(f"to {raw}, then &phonenumber={raw}&x=1")
    assert raw not in masked and masked.count("***") == 2
    assert "484" in masked or "567" in masked  # the last digits stay, to tell numbers apart


@pytest.mark.parametrize(
    "text",
    [
        "d8e0f1f0702544b2acb456ca9ccfd111250",
        "SMSID=a0901888484b",
        "price 220.0000",
        "id 123456789012345",
        "09018884841",
        "request 9001888484",
        "2026-11-27 09:12:34",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert mask_phones(text) == text


def test_tracker_and_access_logs_are_masked(caplog):
    scrubbing.install_log_masking()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("tracker.worker.loop.deep.child").info("sending to %s", "+84901888484")
        logging.getLogger("werkzeug").info('"GET /webhooks/esms/1.x?phonenumber=0901888484 HTTP/1.1" 200')
        logging.getLogger("gunicorn.access").info("%(r)s", {"r": "GET /?phonenumber=84901888484"})
    text = caplog.text + " ".join(r.getMessage() for r in caplog.records)
    assert "901888484" not in text and text.count("***484") >= 3


def test_credentials_and_webhook_tokens_are_blanked_in_logs(caplog):
    scrubbing.install_log_masking()
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info('"GET /webhooks/esms/the-shared-token?ApiKey=k1&secretkey=k2 HTTP/1.1" 200')
        logging.getLogger("werkzeug").info('"GET /webhooks/esms/42.AbCdEfGhIjKlMnOpQrStUv?SMSID=1 HTTP/1.1" 200')
        logging.getLogger("tracker").info("body %s", '{"ApiKey": "k3", "SecretKey":"k4"}')
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("the-shared-token", "k1", "k2", "k3", "k4", "AbCdEfGhIjKlMnOpQrStUv"):
        assert secret not in text
    assert "/webhooks/esms/42.***?SMSID=1" in text and "/webhooks/esms/***?" in text
