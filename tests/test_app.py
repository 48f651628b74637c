"""tracker.create_app (tracker/__init__.py): every part registered, settings from the environment
unless given, the given engine used, JSON answers readable (not ASCII-escaped) and in insertion order."""

from __future__ import annotations

import json

import pytest

from tests.support import API_TOKEN, OAID
from tracker import create_app, keys
from tracker.config import ConfigError
from tracker.web.logs import REQUEST_ID_HEADER


def rules(app) -> set[str]:
    return {r.rule for r in app.url_map.iter_rules()}


def test_every_blueprint_is_registered(app):
    assert {"api", "dashboard", "health", "webhooks"} <= set(app.blueprints)


@pytest.mark.parametrize(
    "rule",
    [
        "/api/messages",
        "/api/messages/<int:message_id>",
        "/api/openapi.json",
        "/api/stats",
        "/webhooks/esms/<token>",
        "/healthz",
        "/metrics",
        "/",
        "/login",
        "/dashboard/data/overview",
    ],
)
def test_each_part_has_its_routes(app, rule):
    assert rule in rules(app)


def test_given_settings_and_engine_are_the_ones_used(app, settings, engine):
    assert app.config["SETTINGS"] is settings
    # Sessions are signed with their own key derived from TRACKER_SECRET_KEY, never the key itself.
    assert app.config["SECRET_KEY"] == keys.derive(settings.secret_key, keys.SESSIONS) != settings.secret_key.encode()
    assert app.config["MAX_CONTENT_LENGTH"] == settings.max_body
    assert app.extensions["engine"] is engine
    assert app.instance_path == str(settings.instance_dir)


def test_settings_come_from_the_environment_when_not_given(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    for name, value in {
        "DATABASE_URL": url,
        "TRACKER_SECRET_KEY": "s" * 32,
        "TRACKER_SIMULATOR": "1",
        "TRACKER_INSTANCE_DIR": str(tmp_path / "inst"),
        "TRACKER_API_TOKENS": "env-token",
        "TRACKER_MAX_BODY": "2048",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ESMS_API_KEY", raising=False)
    monkeypatch.delenv("ESMS_SECRET_KEY", raising=False)
    app = create_app()
    settings = app.config["SETTINGS"]
    assert settings.database_url == url
    assert settings.api_tokens == ("env-token",)
    assert settings.secret_key == "s" * 32 and app.config["SECRET_KEY"] == keys.derive("s" * 32, keys.SESSIONS)
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    assert str(app.extensions["engine"].url) == url
    app.extensions["engine"].dispose()


def test_a_bad_environment_fails_fast(monkeypatch, tmp_path):
    """No eSMS credentials and no TRACKER_SIMULATOR=1: refused, naming the variable (issue 9)."""
    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    for name in ("ESMS_API_KEY", "ESMS_SECRET_KEY", "TRACKER_SIMULATOR"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="ESMS_API_KEY"):
        create_app()


def test_json_is_not_ascii_escaped_nor_sorted(app):
    with app.app_context():
        text = app.json.dumps({"z": "Nguyễn Văn An", "a": 1})
    assert "Nguyễn Văn An" in text
    assert text.index('"z"') < text.index('"a"')


def test_api_answers_keep_vietnamese_readable(client, auth):
    body = {
        "phone": "0901888484",
        "template_id": "200001",
        "oa_id": OAID,
        "params": ["Nguyễn Văn An"],
        "order_id": "DH1",
    }
    resp = client.post("/api/messages", json=body, headers=auth)
    assert resp.status_code == 202, resp.json
    assert "Nguyễn Văn An".encode() in resp.data
    assert b"\\u" not in resp.data
    assert json.loads(resp.data)["params"] == ["Nguyễn Văn An"]


def test_errors_are_the_json_envelope(client, auth):
    resp = client.get("/api/nowhere", headers=auth)
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"


def test_security_headers_and_request_id_on_every_answer(client):
    resp = client.get("/healthz")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src" in resp.headers["Content-Security-Policy"]
    assert resp.headers[REQUEST_ID_HEADER]


def test_api_token_is_checked(client):
    assert client.get("/api/messages").status_code == 401
    assert client.get("/api/messages", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 200
