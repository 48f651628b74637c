"""The SQL of applying one report: the status rule's WHERE, the columns a report sets, the event row.

:mod:`tracker.callbacks.apply` runs these. The rule lives here, in the statements
themselves: ``WHERE status IN (...)`` lists only the statuses the incoming one outranks,
so a status never regresses and a final is never replaced, even when two reports for
one message race (the one exception: the reconciler's ``failed``/``timeout`` guess
gives way to a real final).

On PostgreSQL a report costs one autocommit statement in the common case, and two when
it changes nothing (issue 14):

- :func:`pg_apply`: UPDATE where the rule allows, and the ``applied`` event from the
  UPDATE's RETURNING, together. No row lock beyond the UPDATE's own.
- :func:`pg_judge`, only when that updated nothing: lock the row, try the same UPDATE
  again (something may have changed in between), and log the event with the outcome the
  locked row explains (duplicate, stale, conflict), or count it past a final's quota.

Both find their message by id (a message's own callback URL) or by SMSID (the shared URL).
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import JSON, Numeric, bindparam, text

from tracker import status as st
from tracker.db import UTCDateTime

_TYPES = {"now": UTCDateTime(), "price": Numeric(14, 4), "data": JSON(), "params": JSON()}


def typed(sql: str):
    """A text() statement with our column types bound to the parameters it uses."""
    stmt = text(sql)
    return stmt.bindparams(*(bindparam(k, type_=t) for k, t in _TYPES.items() if f":{k}" in sql))


def in_list(statuses: tuple[str, ...]) -> str:
    # Status words are our own constants, never user input: safe to inline, and
    # inlining lets each incoming status keep one prepared statement.
    return ", ".join(f"'{s}'" for s in statuses)


# Explicit casts: PostgreSQL cannot infer a parameter's type from "IS NULL" alone.
SMSID = "CAST(:smsid AS VARCHAR)"

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

# The SMSID part: the report's SMSID is the message's own, or none, or the message has none yet
# and no other message holds it. The common case (its own) is decided without the probe for
# another holder, which the unique index makes pointless there.
_GUARD = """
    ({t}.status IN ({lower}){timeout})
    AND ({t}.smsid = {smsid} OR {smsid} IS NULL
         OR ({t}.smsid IS NULL AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.smsid = {smsid} AND o.id <> {t}.id)))
"""

# error_code of the `failed` the reconciler gives a message that never reached a
# final status within the horizon: a guess, so a real final report may still replace it.
TIMEOUT_CODE = "timeout"


def set_clause(t: str) -> str:
    return _SET.format(t=t, smsid=SMSID)


def guard(t: str, incoming: str) -> str:
    """The rule, as a WHERE on table alias ``t``: may ``incoming`` replace its status?"""
    timeout = ""
    if st.is_final(incoming):
        timeout = f" OR ({t}.status = '{st.FAILED}' AND {t}.error_code = '{TIMEOUT_CODE}')"
    return _GUARD.format(t=t, smsid=SMSID, lower=in_list(st.replaceable_by(incoming)), timeout=timeout)


EVENT_COLS = "message_id, kind, outcome, status, smsid, error_code, error_message, data, raw, created_at"
_EVENT_VALUES = f":status, {SMSID}, :error_code, :error_message, CAST(:data AS JSON), :raw, :now"

# Events kept per message from the moment it became final (the final's own included). Past
# that, reports that change nothing are only counted in messages.duplicates: one leaked
# callback URL must not grow the event log without bound (issue 12).
KEPT_AFTER_FINAL = 20
_FINALS = in_list(tuple(sorted(st.FINAL)))
# Is the message final (and this report changing nothing), with its quota of events used up?
# Counting stops at the quota, so the check costs at most that many index entries; it is
# only reached for a final message.
_CAPPED = f"""CASE WHEN {{t}}.status IN ({_FINALS}) AND {{not_applied}} THEN
    (SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.message_id = {{t}}.id
                           AND e.created_at >= COALESCE({{t}}.final_at, {{t}}.updated_at)
                           LIMIT {KEPT_AFTER_FINAL}) kept) >= {KEPT_AFTER_FINAL}
    ELSE false END"""

# How a statement names its message: by id (its own callback URL) or by SMSID (the shared URL).
_KEY = {"id": ":mid", "smsid": SMSID}


@cache
def pg_apply(incoming: str, by: str):
    """Apply where the rule allows and log the ``applied`` event: one statement, no extra lock.
    Returns the message id when it applied, no row when it did not (then :func:`pg_judge`)."""
    sql = f"""
    WITH upd AS (
        UPDATE messages m SET {set_clause("m")}
        WHERE m.{by} = {_KEY[by]} AND {guard("m", incoming)}
        RETURNING m.id
    ), ins AS (
        INSERT INTO events ({EVENT_COLS})
        SELECT upd.id, :kind, 'applied', {_EVENT_VALUES} FROM upd
    )
    SELECT id FROM upd
    """
    return typed(sql)


@cache
def pg_judge(incoming: str, by: str):
    """Lock the row, apply if allowed now, log the event with what happened: (id, outcome, capped).

    A capped report stores no event; the caller counts it in messages.duplicates.
    """
    sql = f"""
    WITH cur AS (
        SELECT id, status, smsid, final_at, updated_at FROM messages WHERE {by} = {_KEY[by]} FOR UPDATE
    ), upd AS (
        UPDATE messages m SET {set_clause("m")}
        FROM cur WHERE m.id = cur.id AND {guard("m", incoming)}
        RETURNING m.id
    ), res AS (
        SELECT cur.id,
            CASE WHEN EXISTS (SELECT 1 FROM upd) THEN 'applied'
                 WHEN (cur.smsid IS NOT NULL AND {SMSID} IS NOT NULL AND cur.smsid <> {SMSID})
                      OR EXISTS (SELECT 1 FROM messages o WHERE o.smsid = {SMSID} AND o.id <> cur.id)
                      THEN 'conflict'
                 WHEN cur.status = :status THEN 'duplicate'
                 ELSE 'stale' END AS outcome,
            {_CAPPED.format(t="cur", not_applied="NOT EXISTS (SELECT 1 FROM upd)")} AS capped
        FROM cur
    ), ins AS (
        INSERT INTO events ({EVENT_COLS})
        SELECT res.id, :kind, res.outcome, {_EVENT_VALUES}
        FROM res WHERE NOT res.capped
    )
    SELECT id, outcome, capped FROM res
    """
    return typed(sql)


@cache
def generic_update(incoming: str):
    """Elsewhere (SQLite): the UPDATE alone, in a short transaction that then logs the event."""
    sql = f"""
    UPDATE messages SET {set_clause("messages")}
    WHERE messages.id = :mid AND {guard("messages", incoming)}
    RETURNING messages.id
    """
    return typed(sql)


BUMP = text("UPDATE messages SET duplicates = duplicates + 1 WHERE id = :mid")
CURRENT_CAPPED = text(
    f"SELECT status, smsid, {_CAPPED.format(t='messages', not_applied='true')} AS capped FROM messages WHERE id = :mid"
)
OTHER_HAS_SMSID = text("SELECT 1 FROM messages WHERE smsid = :smsid AND id <> :mid")
INSERT_EVENT = typed(
    f"INSERT INTO events ({EVENT_COLS}) VALUES "
    "(:mid, :kind, :outcome, :status, :smsid, :error_code, :error_message, :data, :raw, :now)"
)
