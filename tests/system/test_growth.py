"""Issue 12, attack 9: unbounded growth from one leaked callback URL, and from an outage.

A callback URL kept taking callbacks after its message was final (each a stored ``duplicate``
event of up to 64 KiB); during a database outage the spool grew without limit; and the public
/healthz read the whole spool on every call.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support import SECRET, WEBHOOK_TOKEN, make_settings, replace_settings
from tracker import create_app, tokens
from tracker.callbacks import spool, spool_size
from tracker.callbacks.apply import KEPT_AFTER_FINAL
from tracker.db import make_engine
from tracker.models import Event, Message

DOWN_URL = "postgresql+psycopg://postgres@127.0.0.1:1/tracker"
DELIVERED = urlencode({"SMSID": "S-LEAK", "SendStatus": "5", "SendSuccess": "1", "SendFailed": "0", "TotalPrice": "0"})
SENT = urlencode({"SMSID": "S-LEAK", "SendStatus": "2", "SendSuccess": "0", "SendFailed": "0"})


def stored(engine, mid: int) -> tuple[int, int]:
    with Session(engine) as s:
        n = s.scalar(select(func.count()).select_from(Event).where(Event.message_id == mid))
        return n, s.get(Message, mid).duplicates


@pytest.mark.parametrize(
    "query",
    [DELIVERED, SENT, "SMSID=S-LEAK&SendStatus=banana&pad=" + "x" * 7000],
    ids=["duplicate", "stale", "invalid"],
)
def test_a_leaked_url_cannot_grow_the_event_log_after_a_final(client, engine, make_message, query):
    mid = make_message(status="accepted", smsid="S-LEAK")
    url = f"/webhooks/esms/{tokens.make(SECRET, mid)}"
    assert client.get(f"{url}?{DELIVERED}").json["outcome"] == "applied"
    answers = {client.get(f"{url}?{query}").status_code for _ in range(KEPT_AFTER_FINAL + 30)}
    assert answers <= {200, 400}  # eSMS sees the same answers as before
    events, counted = stored(engine, mid)
    assert events == KEPT_AFTER_FINAL and counted == 30 + 1


def test_the_shared_url_is_capped_the_same(client, engine, make_message):
    mid = make_message(status="delivered", smsid="S-LEAK")
    from tracker.db import utcnow

    with Session(engine) as s:
        s.get(Message, mid).final_at = utcnow()
        s.commit()
    for _ in range(KEPT_AFTER_FINAL + 5):
        assert client.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?{DELIVERED}").status_code == 200
    assert stored(engine, mid) == (KEPT_AFTER_FINAL, 5)


def test_messages_not_yet_final_keep_every_report(client, engine, make_message):
    mid = make_message(status="accepted", smsid="S-LEAK")
    url = f"/webhooks/esms/{tokens.make(SECRET, mid)}"
    for _ in range(KEPT_AFTER_FINAL + 5):
        client.get(f"{url}?{SENT}")
    assert stored(engine, mid) == (KEPT_AFTER_FINAL + 5, 0)


@pytest.fixture
def down_app(settings):
    down = make_engine(DOWN_URL)
    app = create_app(replace_settings(settings, spool_max_bytes=2000), engine=down)
    app.config["TESTING"] = True
    yield app
    down.dispose()


def test_a_full_spool_answers_503_and_says_so_loudly(down_app, caplog):
    client = down_app.test_client()
    url = f"/webhooks/esms/{tokens.make(SECRET, 1)}"
    with caplog.at_level(logging.ERROR, logger="tracker.callbacks.webhook"):
        answers = [client.get(f"{url}?{SENT}&pad={'x' * 300}").status_code for _ in range(20)]
    assert answers[0] == 200 and answers[-1] == 503 and set(answers) == {200, 503}
    assert answers.index(503) < 10 and "NOT kept" in caplog.text and "spool" in caplog.text
    assert spool.measure(spool.directory(down_app.config["SETTINGS"]))["bytes"] < 2000 + 1000
    resp = client.get(f"{url}?{SENT}")
    assert resp.status_code == 503 and resp.json["error"]["code"] == "spool_full"


def test_the_spool_cap_is_a_setting(db_url, tmp_path):
    assert make_settings(db_url, tmp_path).spool_max_bytes == 1 << 30
    assert make_settings(db_url, tmp_path, TRACKER_SPOOL_MAX_BYTES="4096").spool_max_bytes == 4096


def test_healthz_reads_a_cached_spool_size(down_app, monkeypatch):
    client = down_app.test_client()
    client.get(f"/webhooks/esms/{tokens.make(SECRET, 1)}?{SENT}")
    reads = []
    real = spool_size.measure
    monkeypatch.setattr(spool, "measure", lambda path: reads.append(path) or real(path))
    monkeypatch.setattr(spool, "SIZE_TTL", 3600.0)
    for _ in range(50):
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json["spool"]["lines"] == 1
    assert len(reads) <= 1
