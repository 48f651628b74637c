"""Apply a status report (callback or reconciliation answer) to its message, and log it.

This is the webhook's hot path. The event row and the conditional status update
go to the database together: on PostgreSQL as one statement (a CTE), elsewhere as
a short transaction that writes first. The ``WHERE status IN (...)`` clause is
what guarantees that a status never regresses and a final is never replaced,
even when two callbacks for the same message race (the one exception: the
reconciler's ``failed``/``timeout`` guess gives way to a real final).
:func:`change_status` applies the same rule, in the same place, to changes made
in bulk rather than from one report (the reconciler's horizon).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Numeric, bindparam, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from tracker import db
from tracker import status as st
from tracker.db import UTCDateTime, utcnow
from tracker.esms.callback import Callback
from tracker.models import Message

_TYPES = {"now": UTCDateTime(), "price": Numeric(14, 4), "data": JSON(), "params": JSON()}


def _sql(sql: str):
    """A text() statement with our column types bound to the parameters it uses."""
    stmt = text(sql)
    return stmt.bindparams(*(bindparam(k, type_=t) for k, t in _TYPES.items() if f":{k}" in sql))


@dataclass(frozen=True)
class Applied:
    """What a report did: the message it landed on (if any) and the outcome word."""

    message_id: int | None
    outcome: str


def _in_list(statuses: tuple[str, ...]) -> str:
    # Status words are our own constants, never user input: safe to inline, and
    # inlining lets each incoming status keep one prepared statement.
    return ", ".join(f"'{s}'" for s in statuses)


_SET = """
    status = :status,
    smsid = COALESCE({t}.smsid, {smsid}),
    error_code = :error_code,
    error_message = :error_message,
    price = COALESCE(:price, {t}.price),
    telco = COALESCE(:telco, {t}.telco),
    zalo_msg_id = COALESCE(:zalo_msg_id, {t}.zalo_msg_id),
    sms_type = COALESCE(:sms_type, {t}.sms_type),
    sent_at = COALESCE({t}.sent_at, :now),
    final_at = CASE WHEN :final THEN :now ELSE {t}.final_at END,
    updated_at = :now,
    due_at = NULL
"""

_GUARD = """
    ({t}.status IN ({lower}){timeout})
    AND ({t}.smsid IS NULL OR {smsid} IS NULL OR {t}.smsid = {smsid})
    AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.smsid = {smsid} AND o.id <> {t}.id)
"""

# Explicit casts: PostgreSQL cannot infer a parameter's type from "IS NULL" alone.
_SMSID = "CAST(:smsid AS VARCHAR)"

# error_code of the `failed` the reconciler gives a message that never reached a
# final status within the horizon: a guess, so a real final report may still replace it.
TIMEOUT_CODE = "timeout"


def _guard(t: str, incoming: str) -> str:
    timeout = ""
    if st.is_final(incoming):
        timeout = f" OR ({t}.status = '{st.FAILED}' AND {t}.error_code = '{TIMEOUT_CODE}')"
    return _GUARD.format(t=t, smsid=_SMSID, lower=_in_list(st.replaceable_by(incoming)), timeout=timeout)


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


_EVENT_COLS = "message_id, kind, outcome, status, smsid, error_code, error_message, data, raw, created_at"

# Events kept per message from the moment it became final (the final's own included). Past
# that, reports that change nothing are only counted in messages.duplicates: one leaked
# callback URL must not grow the event log without bound (issue 12).
KEPT_AFTER_FINAL = 20
_FINALS = _in_list(tuple(sorted(st.FINAL)))
# Is the message final (and this report changing nothing), with its quota of events used up?
# Counting stops at the quota, so the check costs at most that many index entries; it is
# only reached for a final message.
_CAPPED = f"""CASE WHEN {{t}}.status IN ({_FINALS}) AND {{not_applied}} THEN
    (SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.message_id = {{t}}.id
                           AND e.created_at >= COALESCE({{t}}.final_at, {{t}}.updated_at)
                           LIMIT {KEPT_AFTER_FINAL}) kept) >= {KEPT_AFTER_FINAL}
    ELSE false END"""
_BUMP = text("UPDATE messages SET duplicates = duplicates + 1 WHERE id = :mid")


@cache
def _pg_statement(incoming: str):
    """One round trip: lock the row, update it if allowed, log the event with what happened."""
    # Returns (outcome, capped); a capped report stores no event, and the caller counts it.
    sql = f"""
    WITH cur AS (
        SELECT id, status, smsid, final_at, updated_at FROM messages WHERE id = :mid FOR UPDATE
    ), upd AS (
        UPDATE messages m SET {_SET.format(t="m", smsid=_SMSID)}
        FROM cur WHERE m.id = cur.id AND {_guard("m", incoming)}
        RETURNING m.id
    ), res AS (
        SELECT cur.id,
            CASE WHEN EXISTS (SELECT 1 FROM upd) THEN 'applied'
                 WHEN (cur.smsid IS NOT NULL AND {_SMSID} IS NOT NULL AND cur.smsid <> {_SMSID})
                      OR EXISTS (SELECT 1 FROM messages o WHERE o.smsid = {_SMSID} AND o.id <> cur.id)
                      THEN 'conflict'
                 WHEN cur.status = :status THEN 'duplicate'
                 ELSE 'stale' END AS outcome,
            {_CAPPED.format(t="cur", not_applied="NOT EXISTS (SELECT 1 FROM upd)")} AS capped
        FROM cur
    ), ins AS (
        INSERT INTO events ({_EVENT_COLS})
        SELECT res.id, :kind, res.outcome,
            :status, {_SMSID}, :error_code, :error_message, CAST(:data AS JSON), :raw, :now
        FROM res WHERE NOT res.capped
    )
    SELECT outcome, capped FROM res
    """
    return _sql(sql)


@cache
def _generic_update(incoming: str):
    sql = f"""
    UPDATE messages SET {_SET.format(t="messages", smsid=_SMSID)}
    WHERE messages.id = :mid AND {_guard("messages", incoming)}
    RETURNING messages.id
    """
    return _sql(sql)


_CURRENT = text("SELECT status, smsid FROM messages WHERE id = :mid")
_CURRENT_CAPPED = text(
    f"SELECT status, smsid, {_CAPPED.format(t='messages', not_applied='true')} AS capped FROM messages WHERE id = :mid"
)
_OTHER_HAS_SMSID = text("SELECT 1 FROM messages WHERE smsid = :smsid AND id <> :mid")
_INSERT_EVENT = _sql(
    f"INSERT INTO events ({_EVENT_COLS}) VALUES "
    "(:mid, :kind, :outcome, :status, :smsid, :error_code, :error_message, :data, :raw, :now)"
)


def _sms_type(type_id: int | None) -> str | None:
    """The TypeId kept as the message's SmsType (what the reconciler asks QueryZnsStatus with);
    eSMS's types are small numbers, anything else is not one and must not overflow the column."""
    return str(type_id) if type_id is not None and 0 < type_id < 1000 else None


def _params(
    cb: Callback, kind: str, raw: str | None, now: datetime, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
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
    if conn.execute(_generic_update(p["status"]), {**p, "mid": mid}).first():
        outcome = st.APPLIED
    else:
        # The UPDATE took the write lock, so this read sees the latest row.
        cur = conn.execute(_CURRENT_CAPPED, {"mid": mid}).first()
        if cur is None:
            return None
        other = p["smsid"] and conn.execute(_OTHER_HAS_SMSID, {"smsid": p["smsid"], "mid": mid}).first()
        if other or (cur.smsid and p["smsid"] and cur.smsid != p["smsid"]):
            outcome = st.CONFLICT
        else:
            outcome = st.decide(cur.status, p["status"])
        if cur.capped:
            conn.execute(_BUMP, {"mid": mid})
            return outcome
    conn.execute(_INSERT_EVENT, {**p, "mid": mid, "outcome": outcome})
    return outcome


def _log_only(conn: Connection, mid: int | None, p: dict[str, Any], outcome: str) -> str | None:
    """Keep a report that changes nothing (invalid, or for no message); past a final's quota, count it."""
    if mid is not None:
        cur = conn.execute(_CURRENT_CAPPED, {"mid": mid}).first()
        if cur is None:
            return None
        if cur.capped:
            conn.execute(_BUMP, {"mid": mid})
            return outcome
    conn.execute(_INSERT_EVENT, {**p, "mid": mid, "outcome": outcome})
    return outcome


@cache
def _pg_driver_sql(incoming: str, dialect) -> str:
    """The CTE compiled once to the driver's own SQL (psycopg prepares it after a few uses):
    executing it skips SQLAlchemy's per-call statement and parameter processing."""
    return str(_pg_statement(incoming).compile(dialect=dialect))


def _driver_params(p: dict[str, Any], mid: int) -> dict[str, Any]:
    # What the typed bind parameters of _sql() would do: JSON as text; `now` is already aware UTC.
    return {**p, "mid": mid, "data": json.dumps(p["data"])}


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
    p = _params(cb, kind, raw, utcnow(), extra)
    try:
        if p["status"] is not None and engine.dialect.name == "postgresql":
            # One statement is atomic on its own: run it in autocommit, one round trip
            # in all, instead of BEGIN + statement + COMMIT.
            # Straight to psycopg (prepared after a few uses): SQLAlchemy's execution
            # machinery would cost more CPU than the statement itself.
            found = db.driver_rows(
                engine, (_pg_driver_sql(p["status"], engine.dialect),), _driver_params(p, message_id)
            )[0]
            outcome = found[0][0] if found else None
            if found and found[0][1]:
                # Past the final's quota: no event was stored; count it (a second round trip,
                # paid only by a message already flooded with reports).
                with engine.begin() as conn:
                    conn.execute(_BUMP, {"mid": message_id})
        else:
            with engine.begin() as conn:
                if p["status"] is None:
                    outcome = _log_only(conn, message_id, p, st.INVALID)
                else:
                    outcome = _apply_generic(conn, message_id, p)
    except IntegrityError:
        # Two messages raced to claim one SMSID; the loser keeps the report as a conflict.
        with engine.begin() as conn:
            outcome = _log_only(conn, message_id, p, st.CONFLICT)
    return Applied(message_id, outcome) if outcome else None
