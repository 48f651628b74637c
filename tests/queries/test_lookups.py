"""tracker.queries.lookups: one message with its events, and a journey, on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tests.support import add_events
from tracker import driver
from tracker.db import utcnow
from tracker.models import Message
from tracker.queries import lookups

T0 = utcnow().replace(microsecond=0) - timedelta(hours=1)


def orm_json(engine, message_id: int) -> dict:
    """What the ORM answers for the same message: the reference the lean read must equal."""
    with Session(engine) as s:
        m = s.scalar(select(Message).where(Message.id == message_id).options(selectinload(Message.events)))
        return {**m.to_dict(), "events": [e.to_dict() for e in m.events]}


def test_message_with_events_equals_the_orm_answer(engine, make_message):
    mid = make_message(
        smsid="S1",
        params=["Nguyễn Văn An", "DH1"],
        price=Decimal("220"),
        telco="Viettel",
        status="delivered",
        sent_at=T0,
        final_at=T0 + timedelta(seconds=30),
    )
    add_events(engine, mid, ("applied", 10), ("duplicate", 20), start=T0)
    body = lookups.message_with_events(engine, mid)
    assert body == orm_json(engine, mid)
    assert body["price"] == "220.0000" and body["created_at"].endswith("Z")


def test_message_and_events_gives_the_row_and_its_events_in_id_order(engine, make_message):
    mid = make_message()
    other = make_message()
    # Inserted later but timed earlier: the order is by id, as the events happened to be stored.
    ids = add_events(engine, mid, ("applied", 50), ("stale", 10), ("conflict", 30), start=T0)
    add_events(engine, other, ("applied", 0), start=T0)
    row, events = lookups.message_and_events(engine, mid)
    assert row.id == mid and row.order_id == "DH1"
    assert [e.id for e in events] == ids
    assert [e.outcome for e in events] == ["applied", "stale", "conflict"]


def test_a_message_without_events_has_an_empty_list(engine, make_message):
    mid = make_message()
    row, events = lookups.message_and_events(engine, mid)
    assert row.id == mid and events == []
    assert lookups.message_with_events(engine, mid)["events"] == []


def test_a_missing_message_is_none(engine, make_message):
    mid = make_message()
    assert lookups.message_and_events(engine, mid + 1000) is None
    assert lookups.message_with_events(engine, mid + 1000) is None


def test_message_json_is_the_models_to_dict(engine, make_message):
    mid = make_message(smsid="S9", sandbox=True, error_code="-114", error_message="inactive")
    row, _ = lookups.message_and_events(engine, mid)
    assert lookups.message(row) == {k: v for k, v in orm_json(engine, mid).items() if k != "events"}


@pytest.fixture
def dh7(make_message) -> list[int]:
    """Journey DH-7 in send order: created_at decides, the id breaks ties (ids inserted out of order)."""
    third = make_message(order_id="DH-7", created_at=T0 + timedelta(minutes=5))
    first = make_message(order_id="DH-7", created_at=T0)
    tie_a = make_message(order_id="DH-7", created_at=T0 + timedelta(minutes=1))
    tie_b = make_message(order_id="DH-7", created_at=T0 + timedelta(minutes=1))
    make_message(order_id="DH-8", created_at=T0)
    return [first, tie_a, tie_b, third]


def test_journey_is_in_send_order_and_only_its_own(engine, dh7):
    assert [m.id for m in lookups.journey(engine, "DH-7")] == dh7


def test_journey_limit_keeps_the_first_in_send_order(engine, dh7):
    assert [m.id for m in lookups.journey(engine, "DH-7", limit=2)] == dh7[:2]
    assert [m.id for m in lookups.journey(engine, "DH-7", limit=10)] == dh7


def test_unknown_journey_is_empty(engine, dh7):
    assert lookups.journey(engine, "DH-404") == []
    assert lookups.journey(engine, "DH-404", limit=5) == []


def test_journey_rows_give_the_api_json(engine, dh7):
    assert [lookups.message(m) for m in lookups.journey(engine, "DH-7")] == [
        {k: v for k, v in orm_json(engine, i).items() if k != "events"} for i in dh7
    ]


def test_events_by_time_orders_across_messages_by_time_then_id(engine, make_message):
    a, b, c = make_message(), make_message(), make_message()
    (late_a,) = add_events(engine, a, ("applied", 30), start=T0)
    early_b, tie_b = add_events(engine, b, ("applied", 10), ("stale", 20), start=T0)
    (tie_a,) = add_events(engine, a, ("duplicate", 20), start=T0)
    add_events(engine, c, ("applied", 0), start=T0)
    found = lookups.events_by_time(engine, [a, b], limit=100)
    assert [e.id for e in found] == [early_b, tie_b, tie_a, late_a]
    assert [e.id for e in lookups.events_by_time(engine, [a, b], limit=2)] == [early_b, tie_b]
    assert lookups.events_by_time(engine, [], limit=10) == []


def test_times_come_back_as_utc(engine, make_message):
    mid = make_message(sent_at=T0, final_at=T0 + timedelta(seconds=3))
    add_events(engine, mid, ("applied", 1), start=T0)
    row, events = lookups.message_and_events(engine, mid)
    (member,) = lookups.journey(engine, "DH1")
    for value in (row.sent_at, row.final_at, events[0].created_at, member.created_at):
        assert value.utcoffset() == timedelta(0)
    assert row.sent_at == T0 and events[0].created_at == T0 + timedelta(seconds=1)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_api_lookups_go_to_the_driver_not_through_sqlalchemy(engine, make_message):
    """The benchmarked statements (bench/lookup_bench.py): psycopg directly, SQLAlchemy never executes."""
    mid = make_message(order_id="DH-9")
    add_events(engine, mid, ("applied", 1), start=T0)
    through_sqlalchemy: list[str] = []
    through_driver: list[str] = []
    sa_event.listen(engine, "before_cursor_execute", lambda *a: through_sqlalchemy.append(a[2]))
    driver.observers.append(lambda sql, params: through_driver.append(sql))
    try:
        assert lookups.message_with_events(engine, mid)["events"]
        assert lookups.journey(engine, "DH-9")
        assert lookups.journey(engine, "DH-9", limit=1)
    finally:
        driver.observers.pop()
    assert through_driver == [lookups._PG_MESSAGE_AND_EVENTS, lookups._PG_JOURNEY, lookups._PG_JOURNEY_UPTO]
    assert "LIMIT" not in lookups._PG_JOURNEY
    assert through_sqlalchemy == []
