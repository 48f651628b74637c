"""Message and event rows without the ORM's per-object cost (issue 5: lookups at scale).

Rows come straight from SQLAlchemy Core on an autocommit connection (a read needs no
BEGIN/ROLLBACK round trips: under READ COMMITTED each statement sees its own snapshot
anyway), or on PostgreSQL from psycopg itself, and are read by column name: the
models' own ``to_dict`` reads only columns, so the API's answers are the same as with
ORM objects, and the dashboard formats them field by field.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Engine, Row

from tracker import db, driver
from tracker.db import UTCDateTime
from tracker.models import Event, Message

MESSAGES = Message.__table__
EVENTS = Event.__table__

# -- PostgreSQL: the driver directly --------------------------------------------------------
# SQLAlchemy's execution and result machinery costs more CPU than the query itself here
# (~0.15 ms of ~0.25 ms per lookup): fixed statements go straight to psycopg, which
# prepares them after a few uses, and come back as named tuples that to_dict reads alike.

MESSAGE_COLUMNS = ", ".join(c.name for c in MESSAGES.columns)
EVENT_COLUMNS = ", ".join(c.name for c in EVENTS.columns)
_TIMES = frozenset(c.name for c in (*MESSAGES.columns, *EVENTS.columns) if isinstance(c.type, UTCDateTime))


def rows(engine: Engine, stmt: Select) -> list[Row]:
    """Execute a select (an ORM-style ``select(Message)`` too) and return plain rows."""
    with db.autocommit(engine).connect() as conn:
        return list(conn.execute(stmt))


def driver_fetch(engine: Engine, statements: tuple[str, ...], params: dict[str, Any]) -> list[list[Any]]:
    """driver.rows with every time column as UTC."""
    return [as_utc(found) for found in driver.rows(engine, statements, params)]


def as_utc(found: list[Any]) -> list[Any]:
    """Times as UTC (they are, unless the server's TimeZone is set to something else)."""
    if not found:
        return found
    fields = [f for f in found[0]._fields if f in _TIMES]
    first = found[0]
    # The server's TimeZone is the same for every row, so the first tells: a UTC server costs nothing per row.
    if all(getattr(first, f) is None or not getattr(first, f).utcoffset() for f in fields):
        return found
    return [r._replace(**{f: getattr(r, f).astimezone(UTC) for f in fields if getattr(r, f)}) for r in found]
