"""Filtered message lists, paged by id: the API's /api/messages, the dashboard's list and its CSV.

A MessageFilter is a tuple of (column, operator, value) conditions, rendered two ways
from that one tuple: psycopg SQL on PostgreSQL (the API's lookup by SMSID is
benchmarked, and rows.py says why it skips SQLAlchemy there), and SQLAlchemy Core
clauses on SQLite and for the CSV export's streamed select.

Lists are newest first by id (ids grow with time); a page is a range of ids after a
cursor, an index range at any depth, never an OFFSET.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.engine import Engine

from tracker.queries.rows import MESSAGE_COLUMNS, MESSAGES, driver_fetch, rows

_M = MESSAGES
_CORE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": lambda c, v: c == v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "<": lambda c, v: c < v,
    "in": lambda c, v: c.in_(v),
    "startswith": lambda c, v: c.startswith(v, autoescape=True),
}


def like_prefix(value: str) -> str:
    """A LIKE pattern matching text that starts with ``value`` (its own % and _ taken literally)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class MessageFilter:
    """Conditions on messages; ``where`` returns a new filter, so a filter can be extended per page."""

    conditions: tuple[tuple[str, str, Any], ...] = ()
    # An expired phone search must match no message, not widen into "every phone".
    nothing: bool = False

    def where(self, column: str, op: str, value: Any) -> MessageFilter:
        if column not in _M.c or op not in _CORE:
            raise ValueError(f"cannot filter on {column} {op}")
        return MessageFilter((*self.conditions, (column, op, value)), self.nothing)

    def match_nothing(self) -> MessageFilter:
        return MessageFilter(self.conditions, True)

    def clauses(self) -> list[ColumnElement[bool]]:
        """The conditions as SQLAlchemy Core clauses on the messages table."""
        out = [_CORE[op](_M.c[column], value) for column, op, value in self.conditions]
        return [*out, false()] if self.nothing else out

    def pg_where(self) -> tuple[str, dict[str, Any]]:
        """The conditions as a psycopg WHERE clause (column names are checked by ``where``) and its values."""
        params: dict[str, Any] = {}
        sql: list[str] = []
        for i, (column, op, value) in enumerate(self.conditions):
            key = f"p{i}"
            if op == "in":
                params[key] = list(value)
                sql.append(f"{column} = ANY(%({key})s)")
            elif op == "startswith":
                params[key] = like_prefix(value)
                sql.append(f"{column} LIKE %({key})s")
            else:
                params[key] = value
                sql.append(f"{column} {op} %({key})s")
        if self.nothing:
            sql.append("FALSE")
        return (f" WHERE {' AND '.join(sql)}" if sql else ""), params

    def newest_first(self, engine: Engine, limit: int) -> list[Any]:
        """Up to ``limit`` matching messages, highest id first."""
        return self._fetch(engine, limit, newest_first=True)

    def oldest_first(self, engine: Engine, limit: int) -> list[Any]:
        """Up to ``limit`` matching messages, lowest id first."""
        return self._fetch(engine, limit, newest_first=False)

    def exists(self, engine: Engine) -> bool:
        """Whether any message matches."""
        if engine.dialect.name == "postgresql":
            where, params = self.pg_where()
            return bool(driver_fetch(engine, (f"SELECT 1 AS found FROM messages{where} LIMIT 1",), params)[0])
        return bool(rows(engine, select(_M.c.id).where(*self.clauses()).limit(1)))

    def _fetch(self, engine: Engine, limit: int, *, newest_first: bool) -> list[Any]:
        if engine.dialect.name == "postgresql":
            where, params = self.pg_where()
            order = "DESC" if newest_first else "ASC"
            sql = f"SELECT {MESSAGE_COLUMNS} FROM messages{where} ORDER BY id {order} LIMIT %(limit)s"
            return driver_fetch(engine, (sql,), {**params, "limit": limit})[0]
        order_by = _M.c.id.desc() if newest_first else _M.c.id
        return rows(engine, select(_M).where(*self.clauses()).order_by(order_by).limit(limit))


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    older: int | None  # pass as ?before= for the next (older) page
    newer: int | None  # pass as ?after= for the previous (newer) page
    first: bool


def page(engine: Engine, f: MessageFilter, size: int, before: int | None = None, after: int | None = None) -> Page:
    """Newest first by id: the ``size`` messages below ``before``, or above ``after``, or the newest."""
    if after is not None:
        found = f.where("id", ">", after).oldest_first(engine, size + 1)
        has_newer = len(found) > size
        found = list(reversed(found[:size]))
        has_older = f.where("id", "<", found[-1].id if found else after + 1).exists(engine)
    else:
        below = f if before is None else f.where("id", "<", before)
        found = below.newest_first(engine, size + 1)
        has_older = len(found) > size
        found = found[:size]
        has_newer = before is not None and f.where("id", ">=", found[0].id + 1 if found else before).exists(engine)
    return Page(
        rows=found,
        older=found[-1].id if found and has_older else None,
        newer=found[0].id if found and has_newer else None,
        # A cursor that lands past either end still offers the way back to the newest page.
        first=(before is None and after is None) or (bool(found) and not has_newer),
    )
