"""The outage spool on both databases: a real outage (nothing listens on the database port),
200s all the same, replay in arrival order exactly once, even across a crash mid-replay."""

from __future__ import annotations

import os
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.callbacks.support import DOWN_URL, status
from tests.callbacks.support import webhook_url as url
from tests.support import WEBHOOK_TOKEN, events, replace_settings
from tests.support import callback_query as cb
from tracker import create_app
from tracker.callbacks import replay, spool
from tracker.db import make_engine
from tracker.models import Message


def test_outage_callbacks_are_spooled_answered_200_and_replayed_once_in_order(
    down_app, app, engine, settings, make_message
):
    a = make_message(smsid="SA", request_id="ra")
    b = make_message(smsid=None, status="sending", request_id="rb")
    c = make_message(smsid="SC", request_id="rc")
    down = down_app.test_client()
    sent = [
        down.get(f"{url(a)}?{cb('SA', 7)}"),
        down.get(f"{url(a)}?{cb('SA', 5, 1, 0)}"),
        down.get(f"{url(a)}?{cb('SA', 2)}"),  # late: stale after replay
        down.post(url(b), data={"SMSID": "SB", "SendStatus": "2"}),  # a form post
        down.post(url(c), json={"SMSID": "SC", "SendStatus": 5, "SendSuccess": 0, "SendFailed": 1}),
        down.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?{cb('SHARED', 5, 1, 0)}"),  # external SMSID
        down.get(f"{url(a)}?SMSID=SA&SendStatus=banana"),  # garbage is kept too
    ]
    assert [(r.status_code, r.json["outcome"]) for r in sent] == [(200, "spooled")] * len(sent)
    forged = down.get(f"/webhooks/esms/1.AAAAAAAAAAAAAAAAAAAAAA?{cb('SA', 5, 1, 0)}")
    assert forged.status_code == 404
    health = down.get("/healthz")
    assert health.status_code == 503 and health.json["spool"]["lines"] == len(sent)
    assert events(engine) == []

    assert replay.replay(engine, settings) == len(sent)
    assert (status(engine, a), status(engine, b), status(engine, c)) == ("delivered", "waiting", "failed")
    assert [e.outcome for e in events(engine, a)] == ["applied", "applied", "stale", "invalid"]
    assert [e.data["spooled"] and len(e.data["callback_id"]) == 32 for e in events(engine)] == [True] * len(sent)
    (form_event,) = events(engine, b)
    assert "SendStatus=2" in form_event.raw  # the form body is kept as it came
    with Session(engine) as s:
        external = s.scalar(select(Message).where(Message.smsid == "SHARED"))
    assert (external.source, external.status) == ("external", "delivered")

    assert replay.replay(engine, settings) == 0
    assert len(events(engine)) == len(sent)
    healthy = app.test_client().get("/healthz")
    assert healthy.status_code == 200 and healthy.json["spool"] == {"files": 0, "bytes": 0, "lines": 0}


def test_without_the_spool_an_outage_is_a_5xx(settings, make_message):
    off = replace_settings(settings, spool_enabled=False)
    app = create_app(off, engine=make_engine(DOWN_URL))
    mid = make_message(smsid="S0")
    resp = app.test_client().get(f"{url(mid)}?{cb('S0', 7)}")
    assert resp.status_code == 500
    assert spool.size(spool.directory(off))["lines"] == 0


def test_a_writer_keeps_writing_after_a_replayer_claimed_its_file(tmp_path):
    box = spool.Spool(tmp_path)
    box.write({"id": "one", "at": "2026-01-01T00:00:00"})
    (claimed,) = replay._claim(tmp_path)
    box.write({"id": "two", "at": "2026-01-01T00:00:01"})
    active = list(tmp_path.glob("spool-*.jsonl"))
    assert len(active) == 1 and str(os.getpid()) in active[0].name
    assert [r["id"] for r in replay._records(claimed)] == ["one"]
    assert [r["id"] for r in replay._records(active[0])] == ["two"]
    # Claimed again while the first claim still waits (the database was still down): both kept.
    again = replay._claim(tmp_path)
    assert sorted(r["id"] for f in again for r in replay._records(f)) == ["one", "two"]


def test_threads_and_forked_children_never_mix_lines(tmp_path):
    box = spool.Spool(tmp_path)
    threads = [
        threading.Thread(target=lambda i=i: [box.write({"id": f"t{i}-{k}", "at": "x" * 500}) for k in range(50)])
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pid = os.fork()
    if pid == 0:  # the child, as a gunicorn worker forked from the master would be
        box.write({"id": "child", "at": "x"})
        os._exit(0)
    os.waitpid(pid, 0)
    files = sorted(tmp_path.glob("spool-*.jsonl"))
    assert len(files) == 2
    records = [r for f in files for r in replay._records(f)]
    assert len(records) == 201 and len({r["id"] for r in records}) == 201
    assert {f.name.split("-")[1] for f in files} == {str(os.getpid()), str(pid)}
