"""tracker.callbacks.external: a report naming its message only by SMSID; an unknown SMSID becomes
a message of source external (both databases)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.callbacks.support import DELIVERED, report
from tests.support import events, message
from tracker.callbacks import external
from tracker.callbacks.apply import Applied
from tracker.models import Message

# -- apply_by_smsid (the shared callback URL) -------------------------------------------------


def test_by_smsid_finds_the_message(engine, make_message):
    mid = make_message(smsid="S9")
    assert external.apply_by_smsid(engine, report("S9", **DELIVERED)) == Applied(mid, "applied")
    assert message(engine, mid).status == "delivered"


def test_by_smsid_on_postgresql_the_statement_finds_the_message_itself(engine, make_message):
    """Issue 14: no lookup round trip before the report's statement (the shared URL's cost)."""
    from sqlalchemy import event

    from tracker import driver

    mid = make_message(smsid="S9")
    through_sqlalchemy: list[str] = []
    through_driver: list[str] = []

    def seen(conn, cursor, statement, *args):
        through_sqlalchemy.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    driver.observers.append(lambda sql, params: through_driver.append(sql))
    try:
        assert external.apply_by_smsid(engine, report("S9", **DELIVERED)) == Applied(mid, "applied")
    finally:
        driver.observers.pop()
        event.remove(engine, "before_cursor_execute", seen)
    if engine.dialect.name == "postgresql":
        assert through_sqlalchemy == [] and len(through_driver) == 1
        assert "m.smsid = " in through_driver[0]
    assert [e.outcome for e in events(engine, mid)] == ["applied"]


def test_by_smsid_an_unknown_smsid_becomes_an_external_message(engine):
    cb = report("EXT", **DELIVERED, phonenumber="0901888484", oaid="OA1", tempid="T1")
    got = external.apply_by_smsid(engine, cb)
    assert got.outcome == "applied"
    m = message(engine, got.message_id)
    assert (m.source, m.smsid, m.phone, m.recipient, m.oa_id, m.template_id, m.status) == (
        "external",
        "EXT",
        "+84901888484",
        None,
        "OA1",
        "T1",
        "delivered",
    )
    # The next report for it lands on the same message.
    assert external.apply_by_smsid(engine, report("EXT", **DELIVERED)) == Applied(got.message_id, "duplicate")


def test_by_smsid_a_zalo_user_id_is_kept_as_recipient(engine):
    got = external.apply_by_smsid(engine, report("EXT2", **DELIVERED, phonenumber="5308693166941955879"))
    m = message(engine, got.message_id)
    assert (m.phone, m.recipient) == (None, "5308693166941955879")


def test_by_smsid_without_smsid_or_status_is_invalid(engine, make_message):
    mid = make_message(smsid="S9")
    assert external.apply_by_smsid(engine, report(None, **DELIVERED)) == Applied(None, "invalid")
    assert external.apply_by_smsid(engine, report("S9", "banana")) == Applied(mid, "invalid")
    assert external.apply_by_smsid(engine, report("NOBODY", "banana")) == Applied(None, "invalid")
    assert [(e.message_id, e.outcome) for e in events(engine)] == [
        (None, "invalid"),
        (mid, "invalid"),
        (None, "invalid"),
    ]
    with Session(engine) as s:
        assert s.scalars(select(Message.smsid)).all() == ["S9"]  # no external message made
