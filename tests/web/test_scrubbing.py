"""Issue 12, attack 7: credential scrubbing judged on decoded names, from every source.

The attack: ``Api%4Bey=…`` in the query, a multipart field named ``ApiKey`` or JSON
``"\\u0041piKey"`` kept the submitted key in ``events.raw``; ``api+key=…`` landed in
``events.data``. Each is sent here, and nothing of the key may be stored or logged.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support import SECRET, WEBHOOK_TOKEN
from tracker import tokens
from tracker.models import Event
from tracker.web import scrubbing

KEY = "LEAKEDKEY42"
BASE = "SMSID=C1&SendStatus=7"


def stored(engine) -> list[Event]:
    with Session(engine) as s:
        return list(s.scalars(select(Event).order_by(Event.id)))


def assert_clean(engine, n: int = 1) -> None:
    events = stored(engine)
    assert len(events) == n
    for ev in events:
        assert KEY not in (ev.raw or "") and KEY not in json.dumps(ev.data, ensure_ascii=False)
        assert KEY.lower() not in (ev.raw or "").lower()


@pytest.fixture
def url(make_message) -> str:
    return f"/webhooks/esms/{tokens.make(SECRET, make_message(smsid='C1'))}"


@pytest.mark.parametrize(
    "query",
    [
        f"Api%4Bey={KEY}",
        f"api+key={KEY}",
        f"API%20KEY={KEY}",
        f"%41%50%49%4B%45%59={KEY}",
        f"secret-key={KEY}",
        f"Secret_Key={KEY}&ApiKey={KEY}",
        f"%EF%BC%A1%EF%BD%90%EF%BD%89%EF%BC%AB%EF%BD%85%EF%BD%99={KEY}",  # ＡｐｉＫｅｙ
        f"x_api_key={KEY}",
        f"ApiKey={KEY}&ApiKey={KEY}",
    ],
)
def test_query_names_are_judged_decoded(client, engine, url, query):
    resp = client.get(f"{url}?{BASE}&{query}")
    assert resp.status_code == 200
    assert_clean(engine)
    # What eSMS sent is still there.
    assert "SMSID=C1" in stored(engine)[0].raw and stored(engine)[0].data.get("smsid") == "C1"


@pytest.mark.parametrize("name", ["ApiKey", "api key", "Api%4Bey", "SECRET_KEY"])
def test_url_encoded_form_fields(client, engine, url, name):
    body = f"{BASE}&{name}={KEY}"
    client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    assert_clean(engine)


def test_multipart_fields_and_files(client, engine, url):
    client.post(
        url,
        data={"SMSID": "C1", "SendStatus": "7", "ApiKey": KEY, "SecretKey": (io.BytesIO(KEY.encode()), "k.txt")},
        content_type="multipart/form-data",
    )
    assert_clean(engine)
    assert stored(engine)[0].data.get("smsid") == "C1"


@pytest.mark.parametrize(
    "body",
    [
        '{"SMSID": "C1", "SendStatus": 7, "\\u0041piKey": "%s"}' % KEY,
        '{"SMSID": "C1", "SendStatus": 7, "meta": {"deep": [{"secret_key": "%s"}]}}' % KEY,
        '{"SMSID": "C1", "SendStatus": 7, "Api Key": {"v": "%s"}}' % KEY,
        '{"SMSID": "C1", "SendStatus": 7, "\\uff21\\uff50\\uff49\\uff2b\\uff45\\uff59": "%s"}' % KEY,
    ],
)
def test_json_at_any_depth_and_escaped_names(client, engine, url, body):
    client.post(url, data=body, content_type="application/json")
    assert_clean(engine)


def test_a_body_of_another_type_is_scrubbed_too(client, engine, url):
    client.post(url, data=f"{BASE}&Api%4Bey={KEY}", content_type="text/plain")
    client.post(url, data='{"\\u0041piKey": "%s"}' % KEY, content_type="text/plain")
    assert_clean(engine, 2)


def test_shared_url_too(client, engine):
    client.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?SMSID=EXT1&SendStatus=5&SendSuccess=1&api+key={KEY}")
    assert_clean(engine)


def test_nothing_scrubbed_keeps_the_raw_exactly(client, engine, url):
    query = "SMSID=C1&SendStatus=7&monkey=banana&keyboard=1"
    client.get(f"{url}?{query}")
    assert stored(engine)[0].raw == query


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /webhooks/esms/x?Api%4Bey={KEY}&SMSID=1 HTTP/1.1" 200',
        f"GET /?api+key={KEY}",
        f'body {{"\\u0041piKey": "{KEY}"}}',
        f"GET /?%EF%BC%A1%EF%BD%90%EF%BD%89%EF%BC%AB%EF%BD%85%EF%BD%99={KEY}",
    ],
)
def test_log_lines_are_blanked_whatever_the_spelling(caplog, line):
    scrubbing.install_log_masking()
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info(line)
    assert KEY not in caplog.text and "***" in caplog.text


def test_no_credential_lands_in_the_outage_spool(settings, tmp_path):
    from tracker import create_app
    from tracker.callbacks import spool
    from tracker.db import make_engine

    down = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/tracker")
    try:
        client = create_app(settings, engine=down).test_client()
        assert client.get(f"/webhooks/esms/{tokens.make(SECRET, 1)}?{BASE}&Api%4Bey={KEY}").status_code == 200
        assert (
            client.post(f"/webhooks/esms/{tokens.make(SECRET, 1)}", json={"SMSID": "C1", "ApiKey": KEY}).status_code
            == 200
        )
    finally:
        down.dispose()
    files = list(spool.directory(settings).glob("*.jsonl"))
    assert files and all(KEY not in f.read_text() for f in files)
