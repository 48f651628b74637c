"""Apply a status report (callback or reconciliation answer) to its message, and log it.

This is the webhook's hot path. The event row and the conditional status update go to
the database together: on PostgreSQL as one autocommit statement when the report applies
(two when it changes nothing; tracker/callbacks/report_sql.py), elsewhere as a short
transaction that writes first. The status rule is the UPDATE's own WHERE, so a status
never regresses and a final is never replaced, even when two reports race.
:func:`change_status` applies the same rule, in the same place, to changes made in bulk
rather than from one report (the reconciler's horizon).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from tracker import driver
from tracker import status as st
from tracker.callbacks import report_sql as q
from tracker.callbacks.report_sql import KEPT_AFTER_FINAL, TIMEOUT_CODE
from tracker.db import utcnow
from tracker.esms.callback import Callback
from tracker.models import Message

__all__ = ["KEPT_AFTER_FINAL", "TIMEOUT_CODE", "Applied", "apply_by_key", "apply_to_message", "change_status"]


@dataclass(frozen=True)
class Applied:
    """What a report did: the message it landed on (if any) and the outcome word."""

    message_id: int | None
    outcome: str


def change_status(
    conn: Connection,
    ids: Sequence[int],
    incoming: str,
    *,
    now: datetime,
    among: Collection[str] | None = None,
    **values: Any,
) -> list[tuple[int, str | None]]:
    """Move messages to ``incoming`` where the status rule allows; returns (id, smsid) of those moved.

    The rule sits in the UPDATE's own WHERE, as in the report statements: only a
    status ``incoming`` outranks is replaced (narrowed to ``among`` when given), so
    a message a callback finalised after the caller chose it is left alone. No
    guess-gives-way exception here: a bulk change is never a real final report.
    ``values`` are further columns to set; the caller logs the events, in ``conn``.
    """
    allowed = tuple(s for s in st.replaceable_by(incoming) if among is None or s in among)
    if st.is_final(incoming):
        values = {"final_at": now, **values}
    stmt = (
        update(Message)
        .where(Message.id.in_(ids), Message.status.in_(allowed))
        .values(status=incoming, updated_at=now, due_at=None, **values)
        .returning(Message.id, Message.smsid)
    )
    return [(mid, smsid) for mid, smsid in conn.execute(stmt)]


def _sms_type(type_id: int | None) -> str | None:
    """The TypeId kept as the message's SmsType (what the reconciler asks QueryZnsStatus with);
    eSMS's types are small numbers, anything else is not one and must not overflow the column."""
    return str(type_id) if type_id is not None and 0 < type_id < 1000 else None


def report_params(
    cb: Callback, kind: str, raw: str | None, now: datetime, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The statements' parameters for one report."""
    status = cb.status
    return {
        "kind": kind,
        "status": status,
        "smsid": cb.smsid,
        "error_code": cb.error_code,
        "error_message": cb.error_message,
        "price": cb.total_price,
        "telco": cb.telco,
        "zalo_msg_id": cb.partner_ids or None,
        "sms_type": _sms_type(cb.type_id),
        "final": bool(status and st.is_final(status)),
        "data": {**cb.to_dict(), **(extra or {})},
        "raw": raw,
        "now": now,
    }


def _apply_generic(conn: Connection, mid: int, p: dict[str, Any]) -> str | None:
    if conn.execute(q.generic_update(p["status"]), {**p, "mid": mid}).first():
        outcome = st.APPLIED
    else:
        # The UPDATE took the write lock, so this read sees the latest row.
        cur = conn.execute(q.CURRENT_CAPPED, {"mid": mid}).first()
        if cur is None:
            return None
        other = p["smsid"] and conn.execute(q.OTHER_HAS_SMSID, {"smsid": p["smsid"], "mid": mid}).first()
        if other or (cur.smsid and p["smsid"] and cur.smsid != p["smsid"]):
            outcome = st.CONFLICT
        else:
            outcome = st.decide(cur.status, p["status"])
        if cur.capped:
            conn.execute(q.BUMP, {"mid": mid})
            return outcome
    conn.execute(q.INSERT_EVENT, {**p, "mid": mid, "outcome": outcome})
    return outcome


def log_only(conn: Connection, mid: int | None, p: dict[str, Any], outcome: str) -> str | None:
    """Keep a report that changes nothing (invalid, or for no message); past a final's quota, count it."""
    if mid is not None:
        cur = conn.execute(q.CURRENT_CAPPED, {"mid": mid}).first()
        if cur is None:
            return None
        if cur.capped:
            conn.execute(q.BUMP, {"mid": mid})
            return outcome
    conn.execute(q.INSERT_EVENT, {**p, "mid": mid, "outcome": outcome})
    return outcome


@cache
def _driver_sql(statement: Any, dialect: Any) -> str:
    """A statement compiled once to the driver's own SQL (psycopg prepares it after a few uses):
    executing it skips SQLAlchemy's per-call statement and parameter processing."""
    return str(statement.compile(dialect=dialect))


def _pg_apply(engine: Engine, by: str, p: dict[str, Any], mid: int | None) -> Applied | None:
    """The PostgreSQL path: the plain apply first, the locked judgement only when it changed nothing."""
    # What the typed bind parameters would do: JSON as text; `now` is already aware UTC.
    params = {**p, "mid": mid, "data": json.dumps(p["data"])}
    status = p["status"]
    with driver.cursor(engine) as cur:
        # Autocommit: one statement is atomic on its own, so no BEGIN and COMMIT round trips.
        rows = driver.run(cur, _driver_sql(q.pg_apply(status, by), engine.dialect), params)
        if rows:
            return Applied(rows[0][0], st.APPLIED)
        rows = driver.run(cur, _driver_sql(q.pg_judge(status, by), engine.dialect), params)
    if not rows:
        return None
    found, outcome, capped = rows[0]
    if capped:
        # Past the final's quota: no event was stored; count it (a second write, paid only by
        # a message already flooded with reports).
        with engine.begin() as conn:
            conn.execute(q.BUMP, {"mid": found})
    return Applied(found, outcome)


def apply_by_key(
    engine: Engine,
    cb: Callback,
    *,
    by: str,
    message_id: int | None = None,
    kind: str = "callback",
    raw: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Applied | None:
    """Apply a report to the message with id ``message_id`` (``by="id"``), or to the one holding
    the report's SMSID (``by="smsid"``, PostgreSQL only); None when there is no such message."""
    p = report_params(cb, kind, raw, utcnow(), extra)
    try:
        if p["status"] is not None and engine.dialect.name == "postgresql":
            return _pg_apply(engine, by, p, message_id)
        assert message_id is not None, "SQLite finds a message by id"
        with engine.begin() as conn:
            if p["status"] is None:
                outcome = log_only(conn, message_id, p, st.INVALID)
            else:
                outcome = _apply_generic(conn, message_id, p)
    except IntegrityError:
        # Two messages raced to claim one SMSID; the loser keeps the report as a conflict.
        with engine.begin() as conn:
            outcome = log_only(conn, message_id, p, st.CONFLICT)
    return Applied(message_id, outcome) if outcome else None


def apply_to_message(
    engine: Engine,
    message_id: int,
    cb: Callback,
    *,
    kind: str = "callback",
    raw: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Applied | None:
    """Apply a report to a known message id; None when no such message exists.

    ``extra`` is merged into the event's data (e.g. a replayed spool line's id).
    """
    return apply_by_key(engine, cb, by="id", message_id=message_id, kind=kind, raw=raw, extra=extra)
