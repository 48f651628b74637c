"""Queueing new messages: one builder for one message and for a CSV batch, and idle workers woken."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support import OAID, replace_settings
from tracker.models import Message
from tracker.schemas import NewMessage
from tracker.sending.queue import QUEUE_CHANNEL, QueueError, queue, queue_many

COLUMNS = (
    "source",
    "status",
    "phone",
    "template_id",
    "oa_id",
    "params",
    "order_id",
    "campaign_id",
    "sandbox",
    "attempts",
)


def new(request_id: str | None, **fields) -> NewMessage:
    return NewMessage(
        phone="0901888484", template_id="523194", params=["A"], order_id="DH1", request_id=request_id, **fields
    )


def columns(engine, request_id: str) -> dict:
    with Session(engine) as s:
        msg = s.scalars(select(Message).where(Message.request_id == request_id)).one()
        assert msg.due_at == msg.created_at == msg.updated_at
        return {name: getattr(msg, name) for name in COLUMNS}


def count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Message))


@pytest.mark.parametrize("sandbox", [True, False])
def test_one_message_and_a_batch_get_the_same_defaults(engine, settings, sandbox):
    cfg = replace_settings(settings, esms_sandbox=sandbox)
    with Session(engine) as s:
        queue(s, cfg, new("one"), source="csv")
    queue_many(engine, cfg, [new("many")], source="csv")
    one, many = columns(engine, "one"), columns(engine, "many")
    assert one == many
    assert (one["oa_id"], one["sandbox"], one["status"], one["attempts"]) == (OAID, sandbox, "queued", 0)


def test_given_oa_and_sandbox_win_over_the_settings(engine, settings):
    cfg = replace_settings(settings, esms_sandbox=True)
    queue_many(engine, cfg, [new("own", oa_id="OA2", sandbox=False)], source="csv")
    assert (columns(engine, "own")["oa_id"], columns(engine, "own")["sandbox"]) == ("OA2", False)


def test_a_batch_with_a_row_without_an_oa_queues_nothing(engine, settings):
    cfg = replace_settings(settings, esms_oaid=None)
    rows = [new(f"r{i}", oa_id="OA2") for i in range(600)] + [new("last")]
    with pytest.raises(QueueError) as raised:
        queue_many(engine, cfg, rows, source="csv", batch_size=500)
    assert "oa_id" in raised.value.fields
    assert count(engine) == 0
    with Session(engine) as s, pytest.raises(QueueError):
        queue(s, cfg, new("one"), source="api")
    assert count(engine) == 0


def test_a_batch_needs_request_ids(engine, settings):
    with pytest.raises(ValueError, match="request_id"):
        queue_many(engine, settings, [new(None)], source="csv")


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_queueing_wakes_listening_workers_on_postgresql(engine, settings):
    import psycopg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {QUEUE_CHANNEL}")
        with Session(engine) as s:
            queue(s, settings, new("one"), source="api")
        queue_many(engine, settings, [new(f"r{i}") for i in range(3)], source="csv", batch_size=2)
        woken = [n.channel for n in listener.notifies(timeout=2.0, stop_after=3)]
    # One notification per commit: the single message, and each of the two batches.
    assert woken == [QUEUE_CHANNEL] * 3


def events_of(engine, request_id: str) -> list:
    from tracker.models import Event

    with Session(engine) as s:
        mid = s.scalar(select(Message.id).where(Message.request_id == request_id))
        return [(e.kind, e.status, e.data) for e in s.scalars(select(Event).where(Event.message_id == mid))]


def test_an_old_number_is_stored_converted_and_kept_as_given_in_a_queue_event(engine, settings):
    """Issue 11: 0168 812 3456 became 038 812 3456 in 2018; the message holds the new number,
    its first event the one the client wrote; a current number adds no event."""
    old = NewMessage(phone="0168 812 3456", template_id="523194", params=["A"], order_id="DH1", request_id="old")
    batch = NewMessage(
        phone="+84 121 812 3456", template_id="523194", params=["A"], order_id="DH1", request_id="old-csv"
    )
    with Session(engine) as s:
        msg, created = queue(s, settings, old, source="api")
        assert created and msg.phone == "+84388123456"
    queue_many(engine, settings, [batch, new("current")], source="csv")
    queue_many(engine, settings, [batch], source="csv")  # a rerun adds no second event
    assert columns(engine, "old-csv")["phone"] == "+84798123456"
    note = "old 11-digit number, stored under its 2018 prefix"
    assert events_of(engine, "old") == [("queue", "queued", {"phone": "0168 812 3456", "converted": note})]
    assert events_of(engine, "old-csv") == [("queue", "queued", {"phone": "+84 121 812 3456", "converted": note})]
    assert events_of(engine, "current") == []
