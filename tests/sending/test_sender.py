"""Queue, claim, send and record, against the simulator over real HTTP, on both databases."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.support import replace_settings
from tracker import tokens
from tracker.db import utcnow
from tracker.esms.client import make_client
from tracker.models import Event, Message
from tracker.schemas import NewMessage
from tracker.sending import sender
from tracker.sending.queue import queue as queue_message
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker.loop import Worker


@pytest.fixture
def sim():
    # Callbacks are dropped: these tests look at the send alone (the e2e test covers callbacks).
    running = start_in_thread(SimSettings(seed=3, speed=0, drop_callback_rate=1.0, timeout_delay=1.0))
    yield running
    running.stop()


@pytest.fixture
def cfg(settings, sim):
    return replace_settings(
        settings,
        esms_base_url=sim.base_url,
        esms_status_url=sim.status_url,
        backoff_base=0.01,
        backoff_cap=0.02,
        send_timeout=0.5,
    )


def queue(engine, cfg, **fields) -> int:
    data = NewMessage.model_validate(
        {"phone": "0901888484", "template_id": "523194", "params": ["A", "B"], "order_id": "DH1", **fields}
    )
    with Session(engine) as s:
        msg, created = queue_message(s, cfg, data, source="api")
        assert created
        return msg.id


def get(engine, mid) -> Message:
    with Session(engine) as s:
        return s.get(Message, mid)


def send_events(engine, mid) -> list[Event]:
    with Session(engine) as s:
        return list(s.scalars(select(Event).where(Event.message_id == mid, Event.kind == "send").order_by(Event.id)))


def drain(engine, cfg, rounds: int = 20) -> None:
    """Run the worker until nothing is due, letting backoff delays pass."""
    worker = Worker(engine, cfg, make_client(cfg))
    for _ in range(rounds):
        if not worker.run_once():
            with Session(engine) as s:
                pending = s.scalar(select(Message.id).where(Message.status.in_(("queued", "sending"))))
            if pending is None:
                break
            threading.Event().wait(0.05)
    worker.pool.shutdown()


def truth(sim, **filters) -> list[dict]:
    return requests.get(f"{sim.url}/_sim/messages", params=filters, timeout=5).json()["messages"]


def test_accepted_send_stores_the_smsid_and_sends_the_seed_request(engine, cfg, sim):
    mid = queue(engine, cfg, campaign_id="C1", request_id="req-1")
    drain(engine, cfg)
    m = get(engine, mid)
    assert m.status == "accepted" and m.smsid and m.sent_at and m.attempts == 1
    (t,) = truth(sim, request_id="req-1")
    assert t["smsid"] == m.smsid and t["phone"] == "0901888484" and t["params"] == ["A", "B"]
    assert t["is_journey"] is True and t["order_id"] == "DH1" and t["campaign_id"] == "C1"
    assert t["callback_url"] == tokens.callback_url(cfg.public_url, cfg.secret_key, mid)
    (ev,) = send_events(engine, mid)
    assert (ev.outcome, ev.status, ev.data["result"]) == ("applied", "accepted", "accepted")
    assert "ApiKey" not in ev.data["request"] and "SecretKey" not in ev.data["request"]
    assert ev.data["request"]["RequestId"] == "req-1" and ev.data["request"]["IsJourney"] is True


def test_sandbox_send_carries_sandbox_1(engine, cfg, sim):
    mid = queue(engine, cfg, sandbox=True, request_id="req-sb")
    drain(engine, cfg)
    (ev,) = send_events(engine, mid)
    assert ev.data["request"]["Sandbox"] == "1"
    assert get(engine, mid).status == "accepted"


def test_refused_send_ends_rejected_with_the_code(engine, cfg, sim):
    requests.post(f"{sim.url}/_sim/config", json={"forced_codes": {"0901000789": "789"}}, timeout=5)
    mid = queue(engine, cfg, phone="0901000789")
    drain(engine, cfg)
    m = get(engine, mid)
    assert (m.status, m.error_code, m.smsid) == ("rejected", "789", None) and m.final_at
    assert m.error_message
    # The message JSON says what kind of problem it is and what to do (issue 11).
    data = m.to_dict()
    assert data["error_class"] == "template" and "Fix the template" in data["error_advice"]


def test_124_on_a_first_attempt_is_a_rejection(engine, cfg, sim):
    # The client reused a RequestId that eSMS already saw from another sender.
    client = make_client(cfg)
    client.send_journey(
        phone="0901888484",
        params=["x"],
        order_id="O",
        template_id="523194",
        oa_id=cfg.esms_oaid,
        request_id="used-elsewhere",
        callback_url=None,
    )
    mid = queue(engine, cfg, request_id="used-elsewhere")
    drain(engine, cfg)
    assert (get(engine, mid).status, get(engine, mid).error_code) == ("rejected", "124")


def test_timeout_is_retried_with_the_same_request_id_and_124_means_accepted(engine, cfg, sim):
    requests.post(f"{sim.url}/_sim/config", json={"send_timeout_rate": 1.0}, timeout=5)
    mid = queue(engine, cfg, request_id="req-timeout")
    drain(engine, cfg)
    m = get(engine, mid)
    assert m.status == "accepted" and m.attempts == 2
    results = [e.data["result"] for e in send_events(engine, mid)]
    assert results == ["retry", "accepted_earlier"]
    (t,) = truth(sim, request_id="req-timeout")
    assert t["accept_count"] == 1 and t["repeat_count"] >= 1


def test_transport_failures_give_up_as_failed_transport(engine, settings):
    cfg = replace_settings(
        settings,
        esms_base_url="http://127.0.0.1:9/MainService.svc/json",
        max_attempts=3,
        backoff_base=0.01,
        backoff_cap=0.02,
        send_timeout=0.5,
    )
    mid = queue(engine, cfg)
    drain(engine, cfg)
    m = get(engine, mid)
    assert (m.status, m.error_code, m.attempts) == ("failed", "transport", 3) and m.final_at
    assert [e.data["result"] for e in send_events(engine, mid)] == ["retry", "retry", "given_up"]


def test_expired_lease_is_claimed_again_with_the_same_request_id(engine, cfg, sim):
    mid = queue(engine, cfg, request_id="req-lease")
    (job,) = sender.claim(engine, cfg, limit=10)  # a worker took it... and died
    assert sender.claim(engine, cfg, limit=10) == []  # the lease protects it meanwhile
    with Session(engine) as s:
        s.execute(update(Message).where(Message.id == mid).values(due_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    (again,) = sender.claim(engine, cfg, limit=10)
    assert (again.id, again.request_id, again.attempts) == (mid, "req-lease", job.attempts + 1)


def test_two_workers_never_claim_the_same_message(engine, cfg):
    ids = {queue(engine, cfg, request_id=f"r{i}") for i in range(60)}
    claimed: list[list[int]] = [[], [], [], []]

    def grab(slot: int) -> None:
        while jobs := sender.claim(engine, cfg, limit=5):
            claimed[slot] += [j.id for j in jobs]

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [i for c in claimed for i in c]
    assert sorted(flat) == sorted(ids)  # each exactly once


def test_callback_that_beat_the_send_response_is_not_overwritten(engine, cfg, sim):
    mid = queue(engine, cfg)
    (job,) = sender.claim(engine, cfg, limit=1)
    with Session(engine) as s:  # the callback landed first and moved it on
        s.execute(update(Message).where(Message.id == mid).values(status="waiting", smsid="SMS-EARLY"))
        s.commit()
    result = sender.send(make_client(cfg), cfg, job)
    assert sender.record(engine, cfg, job, result) == "accepted"
    m = get(engine, mid)
    assert (m.status, m.smsid) == ("waiting", "SMS-EARLY")
