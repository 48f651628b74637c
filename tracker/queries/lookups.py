"""One message with its events, and the messages of a journey: read once for the API and the dashboard.

The API's lookups by id and of a journey are benchmarked (bench/lookup_bench.py, issue 5):
on PostgreSQL their fixed statements go to psycopg directly, elsewhere they are SQLAlchemy
Core selects (rows.py says why). Either way the answer is plain rows read by column name:
the API turns them into JSON through the models' ``to_dict``, the dashboard formats them.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine, Row

from tracker import db
from tracker.models import Event, Message
from tracker.queries.rows import EVENT_COLUMNS, EVENTS, MESSAGE_COLUMNS, MESSAGES, as_utc, driver_fetch, rows

_M, _E = MESSAGES, EVENTS
_MESSAGE = select(_M).where(_M.c.id == bindparam("mid"))
_EVENTS_OF = select(_E).where(_E.c.message_id == bindparam("mid")).order_by(_E.c.id)
# The message and its events in one statement (one round trip, not two: issue 14); a message
# with no event yet comes back as one row with every event column null.
_PG_MESSAGE_AND_EVENTS = (
    f"SELECT {', '.join(f'm.{c}' for c in MESSAGE_COLUMNS.split(', '))}, "
    f"{', '.join(f'e.{c} AS e_{c}' for c in EVENT_COLUMNS.split(', '))} "
    "FROM messages m LEFT JOIN events e ON e.message_id = m.id WHERE m.id = %(mid)s ORDER BY e.id"
)
_MessageRow = namedtuple("_MessageRow", MESSAGE_COLUMNS.split(", "))  # type: ignore[misc]
_EventRow = namedtuple("_EventRow", EVENT_COLUMNS.split(", "))  # type: ignore[misc]
_PG_JOURNEY = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE order_id = %(oid)s ORDER BY created_at, id"
# A separate statement, so the API's unbounded one stays exactly as benchmarked.
_PG_JOURNEY_UPTO = _PG_JOURNEY + " LIMIT %(limit)s"


def message(row: Row) -> dict[str, Any]:
    """A message row as the API's JSON (Message.to_dict reads columns only)."""
    return Message.to_dict(row)  # type: ignore[arg-type]


def page(rows: list[Any], limit: int) -> dict[str, Any]:
    """A page of the message list as the API's JSON: the first ``limit`` rows (of ``limit + 1``
    read) and the cursor to the next page when there is one."""
    items, more = rows[:limit], len(rows) > limit
    return {"items": [message(m) for m in items], "next_cursor": str(items[-1].id) if more else None}


def journey_answer(order_id: str, rows: list[Any]) -> dict[str, Any]:
    """A journey's messages as the API's JSON."""
    return {"order_id": order_id, "messages": [message(m) for m in rows]}


def message_and_events(engine: Engine, message_id: int) -> tuple[Any, list[Any]] | None:
    """A message row and its event rows in order, or None."""
    if engine.dialect.name == "postgresql":
        joined = driver_fetch(engine, (_PG_MESSAGE_AND_EVENTS,), {"mid": message_id})[0]
        if not joined:
            return None
        n = len(_MessageRow._fields)
        events = [_EventRow._make(r[n:]) for r in joined if r[n] is not None]
        return _MessageRow._make(joined[0][:n]), as_utc(events)
    with db.autocommit(engine).connect() as conn:
        row = conn.execute(_MESSAGE, {"mid": message_id}).first()
        if row is None:
            return None
        return row, conn.execute(_EVENTS_OF, {"mid": message_id}).all()


def message_with_events(engine: Engine, message_id: int) -> dict[str, Any] | None:
    """A message and its events in order as the API's JSON, or None."""
    found = message_and_events(engine, message_id)
    if found is None:
        return None
    row, events = found
    return {**message(row), "events": [Event.to_dict(e) for e in events]}  # type: ignore[arg-type]


def journey(engine: Engine, order_id: str, limit: int | None = None) -> list[Any]:
    """The messages of one journey, in send order (only the first ``limit`` when given)."""
    if engine.dialect.name == "postgresql":
        if limit is None:
            return driver_fetch(engine, (_PG_JOURNEY,), {"oid": order_id})[0]
        return driver_fetch(engine, (_PG_JOURNEY_UPTO,), {"oid": order_id, "limit": limit})[0]
    stmt = select(_M).where(_M.c.order_id == order_id).order_by(_M.c.created_at, _M.c.id)
    return rows(engine, stmt if limit is None else stmt.limit(limit))


def events_by_time(engine: Engine, message_ids: Iterable[int], limit: int) -> list[Row]:
    """The events of these messages (a journey's timeline) by time, at most ``limit``."""
    return rows(
        engine, select(_E).where(_E.c.message_id.in_(list(message_ids))).order_by(_E.c.created_at, _E.c.id).limit(limit)
    )
