"""The read API's queries without the ORM's per-object cost (issue 5: lookups at scale).

Rows come straight from SQLAlchemy Core on an autocommit connection (a read needs no
BEGIN/ROLLBACK round trips: under READ COMMITTED each statement sees its own snapshot
anyway) and become JSON through the models' own ``to_dict``, which reads only columns,
so the answers are the same as with ORM objects.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Engine, Row

from tracker import db
from tracker.db import UTCDateTime
from tracker.models import Event, Message

_M = Message.__table__
_E = Event.__table__
_MESSAGE = select(_M).where(_M.c.id == bindparam("mid"))
_EVENTS_OF = select(_E).where(_E.c.message_id == bindparam("mid")).order_by(_E.c.id)


def rows(engine: Engine, stmt: Select) -> list[Row]:
    """Execute a select (an ORM-style ``select(Message)`` too) and return plain rows."""
    with db.autocommit(engine).connect() as conn:
        return list(conn.execute(stmt))


def message(row: Row) -> dict[str, Any]:
    """A message row as the API's JSON (Message.to_dict reads columns only)."""
    return Message.to_dict(row)  # type: ignore[arg-type]


def message_with_events(engine: Engine, message_id: int) -> dict[str, Any] | None:
    """A message and its events in order, or None."""
    if engine.dialect.name == "postgresql":
        found = driver_fetch(engine, (_PG_MESSAGE, _PG_EVENTS_OF), {"mid": message_id})
        if not found[0]:
            return None
        row, events = found[0][0], found[1]
    else:
        with db.autocommit(engine).connect() as conn:
            row = conn.execute(_MESSAGE, {"mid": message_id}).first()
            if row is None:
                return None
            events = conn.execute(_EVENTS_OF, {"mid": message_id}).all()
    return {**message(row), "events": [Event.to_dict(e) for e in events]}  # type: ignore[arg-type]


def journey(engine: Engine, order_id: str) -> list[Row]:
    """The messages of one journey, in send order."""
    if engine.dialect.name == "postgresql":
        return driver_fetch(engine, (_PG_JOURNEY,), {"oid": order_id})[0]
    return rows(engine, select(_M).where(_M.c.order_id == order_id).order_by(_M.c.created_at, _M.c.id))


_OPS = {"=": lambda c, v: c == v, ">=": lambda c, v: c >= v, "<": lambda c, v: c < v,
        "in": lambda c, v: c.in_(v)}


class MessageFilter:
    """Conditions on messages for the list endpoint: psycopg SQL on PostgreSQL, a Core select elsewhere."""

    def __init__(self) -> None:
        self.conditions: list[tuple[str, str, Any]] = []

    def where(self, column: str, op: str, value: Any) -> "MessageFilter":
        if column not in _M.c or op not in _OPS:
            raise ValueError(f"cannot filter on {column} {op}")
        self.conditions.append((column, op, value))
        return self

    def newest_first(self, engine: Engine, limit: int) -> list[Any]:
        """Up to ``limit`` matching messages, highest id first."""
        if engine.dialect.name == "postgresql":
            params: dict[str, Any] = {"limit": limit}
            clauses = []
            for i, (column, op, value) in enumerate(self.conditions):
                params[f"p{i}"] = list(value) if op == "in" else value
                clauses.append(f"{column} = ANY(%(p{i})s)" if op == "in" else f"{column} {op} %(p{i})s")
            where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
            sql = f"SELECT {_MCOLS} FROM messages{where} ORDER BY id DESC LIMIT %(limit)s"
            return driver_fetch(engine, (sql,), params)[0]
        stmt = select(_M).where(*(_OPS[op](_M.c[column], value) for column, op, value in self.conditions))
        return rows(engine, stmt.order_by(_M.c.id.desc()).limit(limit))


# -- PostgreSQL: the driver directly --------------------------------------------------------
# SQLAlchemy's execution and result machinery costs more CPU than the query itself here
# (~0.15 ms of ~0.25 ms per lookup): these fixed statements go straight to psycopg, which
# prepares them after a few uses, and come back as named tuples that to_dict reads alike.

_MCOLS = ", ".join(c.name for c in _M.columns)
_ECOLS = ", ".join(c.name for c in _E.columns)
_PG_MESSAGE = f"SELECT {_MCOLS} FROM messages WHERE id = %(mid)s"
_PG_EVENTS_OF = f"SELECT {_ECOLS} FROM events WHERE message_id = %(mid)s ORDER BY id"
_PG_JOURNEY = f"SELECT {_MCOLS} FROM messages WHERE order_id = %(oid)s ORDER BY created_at, id"
_TIMES = frozenset(c.name for c in (*_M.columns, *_E.columns) if isinstance(c.type, UTCDateTime))


def driver_fetch(engine: Engine, statements: tuple[str, ...], params: dict[str, Any]) -> list[list[Any]]:
    """db.driver_rows with every time column as UTC."""
    return [_utc(found) for found in db.driver_rows(engine, statements, params)]


def _utc(found: list[Any]) -> list[Any]:
    """Times as UTC (they are, unless the server's TimeZone is set to something else)."""
    if not found:
        return found
    fields = [f for f in found[0]._fields if f in _TIMES]
    first = found[0]
    if all(getattr(first, f) is None or not getattr(first, f).utcoffset() for f in fields):
        return found
    return [r._replace(**{f: getattr(r, f).astimezone(timezone.utc) for f in fields if getattr(r, f)})
            for r in found]
