"""tracker.queries.rows: plain rows from Core or psycopg, with every time in UTC."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tracker.db import make_engine
from tracker.queries import rows

HANOI = timezone(timedelta(hours=7))
AT = datetime(2024, 11, 5, 3, 4, 5, 678000, tzinfo=UTC)
MessageRow = namedtuple("MessageRow", "id created_at sent_at phone")
EventRow = namedtuple("EventRow", "id created_at")
Found = namedtuple("Found", "found")


def test_column_lists_name_every_column_of_their_table():
    assert rows.MESSAGE_COLUMNS.split(", ") == [c.name for c in rows.MESSAGES.columns]
    assert rows.EVENT_COLUMNS.split(", ") == [c.name for c in rows.EVENTS.columns]
    assert {"id", "smsid", "created_at", "reconciled_at"} <= set(rows.MESSAGE_COLUMNS.split(", "))


@pytest.mark.parametrize(
    "found, expected",
    [
        # Already UTC: the very same list comes back (no copy per row).
        ([MessageRow(1, AT, None, "+84901888484")], [MessageRow(1, AT, None, "+84901888484")]),
        # Another zone (a server TimeZone other than UTC): the same instants, in UTC; None stays None.
        (
            [
                MessageRow(1, AT.astimezone(HANOI), None, "+84901888484"),
                MessageRow(2, AT.astimezone(HANOI), (AT + timedelta(seconds=1)).astimezone(HANOI), None),
            ],
            [MessageRow(1, AT, None, "+84901888484"), MessageRow(2, AT, AT + timedelta(seconds=1), None)],
        ),
        ([EventRow(7, AT.astimezone(HANOI))], [EventRow(7, AT)]),
        # No time column at all, or no rows.
        ([Found(1)], [Found(1)]),
        ([], []),
    ],
)
def test_as_utc(found, expected):
    out = rows.as_utc(found)
    assert out == expected
    for row, want in zip(out, expected):
        for name in row._fields:
            value = getattr(row, name)
            if isinstance(value, datetime):
                assert value.utcoffset() == timedelta(0) and value == getattr(want, name)


def test_as_utc_returns_utc_rows_untouched():
    found = [MessageRow(1, AT, AT, None)]
    assert rows.as_utc(found) is found


def test_rows_are_plain_rows_read_by_column_name(engine, make_message):
    mid = make_message(smsid="S1")
    (row,) = rows.rows(engine, select(rows.MESSAGES).where(rows.MESSAGES.c.id == mid))
    assert (row.id, row.smsid, row.params) == (mid, "S1", ["a"])
    assert row.created_at.utcoffset() == timedelta(0)
    assert not hasattr(row, "events")  # a row, not an ORM object


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_driver_fetch_gives_utc_whatever_the_servers_time_zone(db_url, make_message):
    sent = datetime(2024, 11, 5, 20, 0, tzinfo=UTC)  # already the 6th in Hanoi
    mid = make_message(sent_at=sent)
    hanoi = make_engine(db_url, connect_args={"options": "-c TimeZone=Asia/Ho_Chi_Minh"})
    try:
        raw = rows.driver.rows(hanoi, ("SELECT sent_at FROM messages WHERE id = %(id)s",), {"id": mid})
        assert raw[0][0].sent_at.utcoffset() == timedelta(hours=7)  # what the driver alone gives
        ((row,),) = rows.driver_fetch(hanoi, ("SELECT id, sent_at FROM messages WHERE id = %(id)s",), {"id": mid})
    finally:
        hanoi.dispose()
    assert row.sent_at == sent and row.sent_at.utcoffset() == timedelta(0)
