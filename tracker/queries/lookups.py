"""One message with its events, and the messages of a journey: read once for the API and the dashboard.

The API's lookups by id and of a journey are benchmarked (bench/lookup_bench.py, issue 5):
on PostgreSQL their fixed statements go to psycopg directly, elsewhere they are SQLAlchemy
Core selects (rows.py says why). Either way the answer is plain rows read by column name:
the API turns them into JSON through the models' ``to_dict``, the dashboard formats them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine, Row

from tracker import db
from tracker.models import Event, Message
from tracker.queries.rows import EVENT_COLUMNS, EVENTS, MESSAGE_COLUMNS, MESSAGES, driver_fetch, rows

_M, _E = MESSAGES, EVENTS
_MESSAGE = select(_M).where(_M.c.id == bindparam("mid"))
_EVENTS_OF = select(_E).where(_E.c.message_id == bindparam("mid")).order_by(_E.c.id)
_PG_MESSAGE = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = %(mid)s"
_PG_EVENTS_OF = f"SELECT {EVENT_COLUMNS} FROM events WHERE message_id = %(mid)s ORDER BY id"
_PG_JOURNEY = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE order_id = %(oid)s ORDER BY created_at, id"
# A separate statement, so the API's unbounded one stays exactly as benchmarked.
_PG_JOURNEY_UPTO = _PG_JOURNEY + " LIMIT %(limit)s"


def message(row: Row) -> dict[str, Any]:
    """A message row as the API's JSON (Message.to_dict reads columns only)."""
    return Message.to_dict(row)  # type: ignore[arg-type]


def message_and_events(engine: Engine, message_id: int) -> tuple[Any, list[Any]] | None:
    """A message row and its event rows in order, or None."""
    if engine.dialect.name == "postgresql":
        found = driver_fetch(engine, (_PG_MESSAGE, _PG_EVENTS_OF), {"mid": message_id})
        return (found[0][0], found[1]) if found[0] else None
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
