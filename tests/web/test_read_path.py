"""The read path (tracker/web/read_path.py) answers exactly as the Flask views would, or leaves
the request to them.

Every request here goes twice: through the app as installed (the read path in front) and
straight to Flask (the read path's ``inner``). Status, headers, body and the request's log line
must be the same; and for each request the test also knows which of the two must have answered.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from werkzeug.test import Client

from tests.support import API_TOKEN, add_events, make_settings
from tracker import create_app
from tracker.db import utcnow
from tracker.queries import lookups
from tracker.web import logs
from tracker.web.read_path import ReadPath

RID = "test-request-1"  # a fixed request id, so both answers' headers can be compared whole
AUTH = {"Authorization": f"Bearer {API_TOKEN}", "X-Request-ID": RID}
PEER = {"REMOTE_ADDR": "127.0.0.1"}


class Lines(logging.Handler):
    """The request log's lines (their fields), whoever else is listening."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.fields: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.fields.append({k: v for k, v in record.fields.items() if k != "duration_ms"})  # type: ignore[attr-defined]


@pytest.fixture
def lines():
    handler = Lines()
    logs.request_log.addHandler(handler)
    level = logs.request_log.level
    logs.request_log.setLevel(logging.INFO)
    yield handler
    logs.request_log.removeHandler(handler)
    logs.request_log.setLevel(level)


@pytest.fixture
def data(make_message, engine):
    a = make_message(smsid="sms-a.1_~x", order_id="DH-7", status="delivered", error_code=None)
    b = make_message(smsid="sms-b", order_id="DH-7", status="failed", error_code="-108")
    vn = make_message(smsid="sms-vn", order_id="ĐH 9/1")
    add_events(engine, a, ("applied", 1), ("applied", 2), start=utcnow())
    return {"a": a, "b": b, "vn": vn}


def both(app, path: str, *, method: str = "GET", headers=None, base_url: str = "http://localhost/"):
    """The answer through the read path and through Flask alone, and whether Flask was asked."""
    read_path: ReadPath = app.wsgi_app
    asked: list[str] = []
    flask = read_path.inner

    def spy(environ, start_response):
        asked.append(environ["PATH_INFO"])
        return flask(environ, start_response)

    read_path.inner = spy
    try:
        via = Client(read_path).open(path, method=method, headers=headers or {}, base_url=base_url, environ_base=PEER)
    finally:
        read_path.inner = flask
    alone = Client(flask).open(path, method=method, headers=headers or {}, base_url=base_url, environ_base=PEER)
    return via, alone, bool(asked)


def same(via, alone) -> None:
    assert via.status_code == alone.status_code
    assert via.get_data() == alone.get_data()
    assert sorted(via.headers.items()) == sorted(alone.headers.items())


ANSWERED_HERE = [
    "/api/messages/{a}",
    "/api/messages/{b}",  # no events
    "/api/messages/000{a}",  # leading zeros: the same message to Flask's <int:>
    "/api/messages?smsid=sms-a.1_~x",
    "/api/messages?smsid=sms-b",
    "/api/messages?smsid=no-such-smsid",  # an empty page, 200, as Flask answers it
    "/api/journeys/DH-7",
]

LEFT_TO_FLASK = [
    "/api/messages/987654321",  # not found: Flask's 404 envelope
    "/api/journeys/NO-SUCH",
    "/api/messages/{a}/",
    "/api/messages/{a}?x=1",
    "/api/messages/99999999999999999999",  # past BIGINT
    "/api/messages?smsid=sms-b&limit=1",
    "/api/messages?smsid=",
    "/api/messages?smsid=sms%2Db",  # encoded: Flask decodes it
    "/api/messages?smsid=sms+b",
    "/api/messages?smsid=sms%00b",
    "/api/messages?SMSID=sms-b",
    "/api/messages",
    "/api/journeys/%C4%90H%209%2F1",  # Vietnamese, a space, an encoded slash
    "/api/journeys/DH-7/x",
    "/api/openapi.json",
]


@pytest.mark.parametrize("path", ANSWERED_HERE)
def test_plain_lookups_are_answered_here_exactly_as_flask_answers_them(app, data, lines, path):
    via, alone, asked = both(app, path.format(**data), headers=AUTH)
    assert via.status_code == 200
    assert not asked, "Flask was asked: the read path left a plain lookup to it"
    same(via, alone)
    assert len(lines.fields) == 2 and lines.fields[0] == lines.fields[1]


@pytest.mark.parametrize("path", LEFT_TO_FLASK)
def test_everything_else_is_left_to_flask(app, data, lines, path):
    via, alone, asked = both(app, path.format(**data), headers=AUTH)
    assert asked
    same(via, alone)
    assert lines.fields[0] == lines.fields[1]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {API_TOKEN}"},
        {"Authorization": API_TOKEN},
    ],
)
def test_a_missing_or_wrong_token_is_refused_by_flask(app, data, headers):
    via, alone, asked = both(app, f"/api/messages/{data['a']}", headers={**headers, "X-Request-ID": RID})
    assert asked and via.status_code == 401
    same(via, alone)
    assert "WWW-Authenticate" in via.headers


def test_the_token_is_read_as_flask_reads_it(app, data):
    # Scheme in any case, spaces around the token: both accept it.
    headers = {"Authorization": f"bEaReR  {API_TOKEN} ", "X-Request-ID": RID}
    via, alone, asked = both(app, f"/api/messages/{data['a']}", headers=headers)
    assert via.status_code == 200 and not asked
    same(via, alone)


@pytest.mark.parametrize("method", ["HEAD", "POST", "DELETE"])
def test_other_methods_are_left_to_flask(app, data, method):
    via, alone, asked = both(app, f"/api/messages/{data['a']}", method=method, headers=AUTH)
    assert asked
    same(via, alone)


def test_over_https_the_answer_carries_hsts_as_flask_s_does(app, data):
    via, alone, asked = both(app, f"/api/messages/{data['a']}", headers=AUTH, base_url="https://localhost/")
    assert not asked and "Strict-Transport-Security" in via.headers
    same(via, alone)


@pytest.mark.parametrize("given", [None, "bad id with spaces", "x" * 129])
def test_a_missing_or_unusable_request_id_is_replaced_by_a_fresh_one(app, data, lines, given):
    headers = {"Authorization": f"Bearer {API_TOKEN}", **({"X-Request-ID": given} if given else {})}
    via = Client(app.wsgi_app).get(f"/api/messages/{data['a']}", headers=headers)
    rid = via.headers["X-Request-ID"]
    assert rid != given and len(rid) == 32 and int(rid, 16) >= 0
    assert lines.fields[-1]["request_id"] == rid


def test_an_open_api_answers_without_a_token(engine, db_url, tmp_path, make_message):
    settings = make_settings(db_url, tmp_path / "open", TRACKER_API_TOKENS="")
    assert settings.api_open
    app = create_app(settings, engine=engine)
    mid = make_message(smsid="open-1")
    via, alone, asked = both(app, f"/api/messages/{mid}", headers={"X-Request-ID": RID})
    assert via.status_code == 200 and not asked
    same(via, alone)


def test_in_debug_mode_flask_writes_the_indented_json(app, data):
    app.debug = True
    via, alone, asked = both(app, f"/api/messages/{data['a']}", headers=AUTH)
    assert asked
    same(via, alone)


def test_a_database_error_is_left_to_flask_and_its_error_envelope(app, data, monkeypatch):
    calls: list[int] = []

    def failing(engine, message_id):
        calls.append(message_id)
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(lookups, "message_with_events", failing)
    app.config["TESTING"] = False  # as in production: Flask answers the error instead of raising it
    via = Client(app.wsgi_app).get(f"/api/messages/{data['a']}", headers=AUTH)
    assert calls == [data["a"], data["a"]]  # tried here, then by Flask's view
    assert via.status_code >= 500 and via.json["error"]["code"]


def test_a_request_id_and_log_line_come_with_each_answer(app, data, lines):
    Client(app.wsgi_app).get("/api/messages?smsid=sms-b", headers=AUTH, environ_base=PEER)
    line = lines.fields[-1]
    assert line == {
        "request_id": RID,
        "method": "GET",
        "path": "/api/messages",
        "status": 200,
        "remote": "127.0.0.1",
        "query": "smsid=sms-b",
    }


def test_it_sits_inside_proxyfix_so_the_logged_address_is_the_forwarded_one(engine, db_url, tmp_path, data, lines):
    settings = make_settings(db_url, tmp_path / "proxied", TRACKER_PROXY_HOPS="1")
    app = create_app(settings, engine=engine)
    headers = {**AUTH, "X-Forwarded-For": "203.0.113.9"}
    Client(app.wsgi_app).get(f"/api/messages/{data['a']}", headers=headers)
    assert lines.fields[-1]["remote"] == "203.0.113.9"
    assert isinstance(app.wsgi_app.app, ReadPath)  # type: ignore[attr-defined]  # ProxyFix, then the read path
