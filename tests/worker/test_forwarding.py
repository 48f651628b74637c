"""Status forwarding on both databases: the outbox trigger, signed delivery, retries, failures, order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support import SECRET, replace_settings
from tracker import tokens
from tracker.db import utcnow
from tracker.esms.client import SendResult
from tracker.models import Message
from tracker.sending import sender
from tracker.worker import forwarding
from tracker.worker.forwarding import ForwardDelivery, Forwarder
from tracker.worker.reconcile import time_out

FORWARD_SECRET = "the-forwarding-receivers-own-key-0123456789"


class Receiver:
    """A local forwarding receiver answering a scripted list of statuses (then 200)."""

    def __init__(self) -> None:
        self.script: list[int] = []
        # (message_id, status) pairs answered 503 the first time they come.
        self.refuse_once: set[tuple[int, str]] = set()
        self.got: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                data = json.loads(body)
                key = (data["message_id"], data["status"])
                code = receiver.script.pop(0) if receiver.script else 200
                if key in receiver.refuse_once:
                    receiver.refuse_once.discard(key)
                    code = 503
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _, body in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def fwd_settings(settings, receiver):
    # Retries a few milliseconds apart, so the tests see them without waiting.
    return replace_settings(
        settings,
        forward_url=receiver.url,
        forward_secret=FORWARD_SECRET,
        backoff_base=0.001,
        backoff_cap=0.002,
        forward_max_attempts=3,
    )


@pytest.fixture
def make_message(make_message):
    """Messages of journey DH7 unless told otherwise."""
    return lambda **fields: make_message(**{"order_id": "DH7", **fields})


def outbox(engine) -> list[ForwardDelivery]:
    with Session(engine) as s:
        return list(s.scalars(select(ForwardDelivery).order_by(ForwardDelivery.id)))


def hit(client, mid: int, smsid: str, send_status: int, success: int = 0, failed: int = 0) -> str:
    query = urlencode({"SMSID": smsid, "SendStatus": send_status, "SendSuccess": success, "SendFailed": failed})
    return client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{query}").json["outcome"]


def drain(forwarder: Forwarder, rounds: int = 20) -> None:
    for _ in range(rounds):
        forwarder.run_once()
        time.sleep(0.005)  # past the (tiny) backoff


def test_every_status_change_and_only_a_change_lands_in_the_outbox(client, engine, settings, make_message):
    mid = make_message(status="queued", smsid=None, due_at=utcnow())
    (job,) = sender.claim(engine, settings, limit=1)  # queued -> sending: not news
    sender.record(engine, settings, job, SendResult("accepted", "100", smsid="F1"))
    outcomes = [hit(client, mid, "F1", *s) for s in [(2,), (7,), (2,), (5, 1, 0), (5, 1, 0)]]
    assert outcomes == ["applied", "applied", "stale", "applied", "duplicate"]
    rows = outbox(engine)
    assert [r.status for r in rows] == ["accepted", "waiting", "sent", "delivered"]
    last = rows[-1]
    assert (last.message_id, last.order_id, last.smsid, last.state, last.attempts) == (mid, "DH7", "F1", "pending", 0)
    assert last.final_at is not None and last.changed_at == last.final_at

    old = make_message(smsid="F2", request_id="old", created_at=utcnow() - timedelta(days=4))
    time_out(engine, settings)
    assert [(r.message_id, r.status, r.error_code) for r in outbox(engine)][-1] == (old, "failed", "timeout")


def test_delivery_is_signed_and_clears_the_outbox(client, engine, fwd_settings, receiver, make_message):
    mid = make_message(smsid="G1")
    hit(client, mid, "G1", 7)
    hit(client, mid, "G1", 5, 0, 1)
    forwarder = Forwarder(engine, fwd_settings)
    drain(forwarder)
    assert outbox(engine) == []
    assert [p["status"] for p in receiver.payloads()] == ["sent", "failed"]
    headers, body = receiver.got[-1]
    assert forwarding.verify(FORWARD_SECRET, body, headers[forwarding.SIGNATURE_HEADER])
    # Issue 12: signed with a key of its own, never TRACKER_SECRET_KEY (the receiver holds it).
    assert not forwarding.verify(SECRET, body, headers[forwarding.SIGNATURE_HEADER])
    assert not forwarding.verify("another-secret-0123456789", body, headers[forwarding.SIGNATURE_HEADER])
    assert abs(int(headers[forwarding.TIMESTAMP_HEADER]) - time.time()) < 60
    final = receiver.payloads()[-1]
    assert {k: final[k] for k in ("message_id", "order_id", "smsid", "status", "final", "error_code")} == {
        "message_id": mid,
        "order_id": "DH7",
        "smsid": "G1",
        "status": "failed",
        "final": True,
        "error_code": "send_failed",
    }
    assert final["final_at"].endswith("Z") and final["updated_at"] and final["error_message"]
    assert headers[forwarding.DELIVERY_HEADER] == str(final["delivery_id"])
    forwarder.close()


@pytest.mark.parametrize(
    ("script", "delivered", "state", "attempts"),
    [
        ([503, 429], True, None, None),  # retried until it lands
        ([408, 502], True, None, None),
        ([500, 500, 500], False, "failed", 3),  # out of attempts
        ([400], False, "failed", 1),  # a refusal is not retried
        ([404], False, "failed", 1),
    ],
)
def test_retries_and_failures(client, engine, fwd_settings, receiver, make_message, script, delivered, state, attempts):
    receiver.script = list(script)
    mid = make_message(smsid="H1")
    hit(client, mid, "H1", 7)
    forwarder = Forwarder(engine, fwd_settings)
    drain(forwarder)
    rows = outbox(engine)
    if delivered:
        assert rows == [] and len(receiver.got) == len(script) + 1
    else:
        (row,) = rows
        assert (row.state, row.attempts) == (state, attempts) and row.last_error == f"HTTP {script[-1]}"
        stats = forwarding.stats(engine, fwd_settings)
        assert (stats.enabled, stats.pending, stats.failed, stats.last_error) == (True, 0, 1, f"HTTP {script[-1]}")
        assert forwarding.retry_failed(engine) == 1
        drain(forwarder)
        assert outbox(engine) == []
    forwarder.close()


def test_a_receiver_that_is_down_leaves_changes_pending_and_visible(client, engine, fwd_settings, make_message):
    down = replace_settings(fwd_settings, forward_url="http://127.0.0.1:9/hook", forward_max_attempts=50)
    mid = make_message(smsid="K1")
    assert hit(client, mid, "K1", 7) == "applied"  # the webhook never waits for the receiver
    forwarder = Forwarder(engine, down)
    forwarder.run_once()
    (row,) = outbox(engine)
    assert (row.state, row.attempts) == ("pending", 1) and row.last_error.startswith("network error")
    stats = forwarding.stats(engine, down)
    assert (stats.pending, stats.failed) == (1, 0) and stats.oldest_pending_at.endswith("Z")
    forwarder.close()


def test_one_messages_changes_go_out_in_order(client, engine, fwd_settings, receiver, make_message):
    a, b = make_message(smsid="L1", request_id="la"), make_message(smsid="L2", request_id="lb")
    hit(client, a, "L1", 7)
    hit(client, a, "L1", 5, 1, 0)
    hit(client, b, "L2", 7)
    receiver.refuse_once = {(a, "sent")}
    forwarder = Forwarder(engine, fwd_settings)
    forwarder.run_once()
    assert sorted((p["message_id"], p["status"]) for p in receiver.payloads()) == [(a, "sent"), (b, "sent")]
    drain(forwarder)
    assert [(p["message_id"], p["status"]) for p in receiver.payloads()][2:] == [(a, "sent"), (a, "delivered")]
    forwarder.close()


def test_without_a_url_the_outbox_is_dropped(client, engine, settings, make_message):
    mid = make_message(smsid="M1")
    hit(client, mid, "M1", 7)
    assert len(outbox(engine)) == 1
    Forwarder(engine, settings).run_once()
    assert outbox(engine) == []
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1
    assert forwarding.stats(engine, settings).enabled is False


def test_without_a_url_postgresql_writes_no_outbox_rows_at_all_and_a_url_brings_them_back(
    client, engine, settings, fwd_settings, receiver, make_message
):
    """Issue 14: with forwarding off, the webhook's UPDATE should not pay for rows that are only
    deleted again; PostgreSQL's trigger is switched off by the worker, SQLite's rows are dropped."""
    postgres = engine.dialect.name == "postgresql"
    a, b, c = (make_message(smsid=f"W{i}") for i in range(3))
    off = Forwarder(engine, settings)
    off.run_once()
    hit(client, a, "W0", 7)
    assert len(outbox(engine)) == (0 if postgres else 1)
    off.run_once()
    assert outbox(engine) == []
    on = Forwarder(engine, fwd_settings)
    on.run_once()  # switches the trigger back on first
    hit(client, b, "W1", 7)
    drain(on)
    assert [(p["message_id"], p["status"]) for p in receiver.payloads()] == [(b, "sent")]
    # Once on, a second forwarder without a URL (another worker's settings) turns it off again.
    Forwarder(engine, settings).run_once()
    hit(client, c, "W2", 7)
    assert len(outbox(engine)) == (0 if postgres else 1)
    on.close()
    off.close()


def test_delivery_ids_are_never_reused_and_a_retry_keeps_its_id(client, engine, fwd_settings, receiver, make_message):
    """Issue 15: on SQLite a delivered (deleted) row's id came back for the next change, so a
    receiver dropping repeats by ``X-Tracker-Delivery`` lost real status changes."""
    mid = make_message(smsid="N1")
    receiver.refuse_once = {(mid, "sent")}
    forwarder = Forwarder(engine, fwd_settings)
    for change in [(2,), (7,), (5, 1, 0)]:  # waiting, sent (refused once, then retried), delivered
        assert hit(client, mid, "N1", *change) == "applied"
        drain(forwarder)
        assert outbox(engine) == []  # delivered and deleted before the next change
    forwarder.close()
    got = [(headers[forwarding.DELIVERY_HEADER], json.loads(body)) for headers, body in receiver.got]
    assert [p["status"] for _, p in got] == ["waiting", "sent", "sent", "delivered"]
    assert all(header == str(p["delivery_id"]) for header, p in got)
    waiting, sent, retried, delivered = (header for header, _ in got)
    assert retried == sent  # one change, one id, however often it is tried
    assert len({waiting, sent, delivered}) == 3


def test_a_refused_trigger_switch_is_tried_again_a_minute_later_not_every_pass(engine, settings, monkeypatch):
    tries: list[bool] = []
    monkeypatch.setattr(forwarding, "switch_outbox", lambda engine, enabled: tries.append(enabled) or False)
    f = Forwarder(engine, settings)
    f.run_once()
    f.run_once()
    assert tries == [False]
    f.switch_after = 0.0  # a minute later
    f.run_once()
    assert tries == [False, False]
    f.close()
