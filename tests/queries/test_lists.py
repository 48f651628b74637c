"""tracker.queries.lists: message filters rendered for psycopg and Core alike, and keyset pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tracker.db import utcnow
from tracker.queries import lists
from tracker.queries.lists import MessageFilter
from tracker.queries.rows import MESSAGES, rows

T0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
EVERY = MessageFilter()


@pytest.mark.parametrize(
    "prefix, pattern",
    [
        ("csv-0123abcd-", "csv-0123abcd-%"),
        ("50%", "50\\%%"),
        ("a_b", "a\\_b%"),
        ("back\\slash", "back\\\\slash%"),
        ("", "%"),
    ],
)
def test_like_prefix(prefix, pattern):
    assert lists.like_prefix(prefix) == pattern


@pytest.mark.parametrize(
    "column, op",
    [
        ("nope", "="),
        ("smsid", "!="),
        ("smsid", "LIKE"),
        ("smsid; DROP TABLE messages", "="),
        ("id", "<="),
    ],
)
def test_where_refuses_unknown_columns_and_operators(column, op):
    with pytest.raises(ValueError, match="cannot filter on"):
        EVERY.where(column, op, "x")


def test_where_returns_a_new_filter_and_leaves_the_old_one_as_it_was():
    base = EVERY.where("smsid", "=", "S1")
    more = base.where("id", "<", 9)
    assert base.conditions == (("smsid", "=", "S1"),)
    assert more.conditions == (("smsid", "=", "S1"), ("id", "<", 9))
    assert base.match_nothing().nothing and not base.nothing


@pytest.mark.parametrize(
    "f, sql, params",
    [
        (EVERY, "", {}),
        (EVERY.where("smsid", "=", "S1"), " WHERE smsid = %(p0)s", {"p0": "S1"}),
        (EVERY.where("status", "in", ("queued", "sent")), " WHERE status = ANY(%(p0)s)", {"p0": ["queued", "sent"]}),
        (EVERY.where("request_id", "startswith", "csv-a_b-"), " WHERE request_id LIKE %(p0)s", {"p0": "csv-a\\_b-%"}),
        (
            EVERY.where("created_at", ">=", T0).where("id", ">", 5).where("id", "<", 9),
            " WHERE created_at >= %(p0)s AND id > %(p1)s AND id < %(p2)s",
            {"p0": T0, "p1": 5, "p2": 9},
        ),
        (EVERY.match_nothing(), " WHERE FALSE", {}),
        (
            EVERY.where("phone", "=", "+84901888484").match_nothing(),
            " WHERE phone = %(p0)s AND FALSE",
            {"p0": "+84901888484"},
        ),
    ],
)
def test_pg_where(f, sql, params):
    assert f.pg_where() == (sql, params)


@pytest.fixture
def seeded(make_message) -> dict[str, list[int]]:
    """Messages by what should find them (ids ascending)."""
    return {
        "old": [make_message(status="queued", created_at=T0 - timedelta(days=2), request_id="csv-aXb-1")],
        "s1": [make_message(smsid="S1", status="delivered", created_at=T0, request_id="csv-a_b-1")],
        "failed": [
            make_message(
                status="failed", error_code="-114", created_at=T0 + timedelta(minutes=1), request_id="csv-a_b-2"
            )
        ],
        "phone": [make_message(phone="+84987654321", status="sent", created_at=T0 + timedelta(minutes=2))],
    }


def both_ways(engine, f: MessageFilter) -> list[int]:
    """Matching ids through the filter's own fetch (psycopg on PostgreSQL) and its Core clauses; they must agree."""
    fetched = [m.id for m in f.newest_first(engine, 100)]
    core = [r.id for r in rows(engine, select(MESSAGES.c.id).where(*f.clauses()).order_by(MESSAGES.c.id.desc()))]
    assert fetched == core
    return fetched


@pytest.mark.parametrize(
    "conditions, expected",
    [
        ([], ["phone", "failed", "s1", "old"]),
        ([("smsid", "=", "S1")], ["s1"]),
        ([("error_code", "=", "-114")], ["failed"]),
        ([("status", "in", ["sent", "queued"])], ["phone", "old"]),
        ([("status", "in", [])], []),
        ([("phone", "=", "+84987654321")], ["phone"]),
        ([("created_at", ">=", T0)], ["phone", "failed", "s1"]),
        ([("created_at", "<", T0 + timedelta(minutes=1))], ["s1", "old"]),
        ([("created_at", ">=", T0), ("created_at", "<", T0 + timedelta(minutes=2))], ["failed", "s1"]),
        # The prefix is taken literally: "_" is not a wildcard, so csv-aXb-1 stays out.
        ([("request_id", "startswith", "csv-a_b-")], ["failed", "s1"]),
        ([("request_id", "startswith", "csv-a%")], []),
    ],
)
def test_each_condition_finds_its_messages_both_ways(engine, seeded, conditions, expected):
    f = EVERY
    for condition in conditions:
        f = f.where(*condition)
    assert both_ways(engine, f) == [i for key in expected for i in seeded[key]]


def test_match_nothing_finds_nothing_even_without_conditions(engine, seeded):
    assert both_ways(engine, EVERY.match_nothing()) == []
    assert both_ways(engine, EVERY.where("phone", "=", "+84987654321").match_nothing()) == []
    assert not EVERY.match_nothing().exists(engine)


def test_newest_and_oldest_first_with_a_limit(engine, make_message):
    ids = [make_message() for _ in range(5)]
    assert [m.id for m in EVERY.newest_first(engine, 3)] == ids[::-1][:3]
    assert [m.id for m in EVERY.oldest_first(engine, 3)] == ids[:3]
    assert [m.id for m in EVERY.where("id", ">", ids[1]).oldest_first(engine, 10)] == ids[2:]


def test_rows_carry_every_column(engine, make_message):
    mid = make_message(smsid="S7", params=["x", "y"])
    (m,) = EVERY.newest_first(engine, 1)
    assert (m.id, m.smsid, m.params, m.order_id) == (mid, "S7", ["x", "y"], "DH1")
    assert m.created_at.utcoffset() == timedelta(0)


def test_exists(engine, seeded):
    assert EVERY.where("smsid", "=", "S1").exists(engine)
    assert not EVERY.where("smsid", "=", "S404").exists(engine)
    assert not EVERY.where("id", ">", seeded["phone"][0]).exists(engine)


# Twelve messages, five a page; ids are given as positions 1..12 in insert order.
@pytest.mark.parametrize(
    "before, after, shown, older, newer, first",
    [
        (None, None, range(12, 7, -1), 8, None, True),  # the newest page
        (8, None, range(7, 2, -1), 3, 7, False),  # one older
        (3, None, [2, 1], None, 2, False),  # the oldest: no older page
        (None, 2, range(7, 2, -1), 3, 7, False),  # back from the oldest
        (None, 7, range(12, 7, -1), 8, None, True),  # back to the newest: it is the first page again
        (1, None, [], None, None, False),  # past the oldest end: empty, with the way back
        (None, 12, [], None, None, False),  # past the newest end
    ],
)
def test_keyset_pages(engine, make_message, before, after, shown, older, newer, first):
    ids = [make_message() for _ in range(12)]
    at = {n: ids[n - 1] for n in range(1, 13)}
    pg = lists.page(engine, EVERY, 5, before=at.get(before), after=at.get(after))
    assert [m.id for m in pg.rows] == [at[n] for n in shown]
    assert (pg.older, pg.newer, pg.first) == (at.get(older), at.get(newer), first)


def test_pages_of_a_filtered_list_skip_what_does_not_match(engine, make_message):
    ids = [make_message(status="failed" if i % 2 else "queued") for i in range(9)]
    failed = [i for n, i in enumerate(ids) if n % 2][::-1]  # four, newest first
    f = EVERY.where("status", "in", ["failed"])
    top = lists.page(engine, f, 3)
    assert [m.id for m in top.rows] == failed[:3] and top.older == failed[2] and top.newer is None
    rest = lists.page(engine, f, 3, before=top.older)
    assert [m.id for m in rest.rows] == failed[3:] and rest.older is None and rest.newer == failed[3]
    back = lists.page(engine, f, 3, after=rest.newer)
    assert [m.id for m in back.rows] == failed[:3] and back.first
