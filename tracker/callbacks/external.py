"""Reports that name their message only by SMSID (the shared callback URL, sends made elsewhere).

A known SMSID is applied to its message like any report (tracker/callbacks/apply.py); one the
tracker never sent becomes a message of source ``external``, so it can be queried like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tracker import status as st
from tracker.callbacks.apply import Applied, apply_by_key, apply_to_message, log_only, report_params
from tracker.callbacks.report_sql import typed
from tracker.db import utcnow
from tracker.esms.callback import Callback
from tracker.phones import e164_or_none

_BY_SMSID = text("SELECT id FROM messages WHERE smsid = :smsid")
_INSERT_EXTERNAL = typed(
    """
    INSERT INTO messages (source, status, smsid, phone, recipient, template_id, oa_id, params,
                          sandbox, attempts, created_at, updated_at, sent_at)
    VALUES ('external', 'accepted', :smsid, :phone, :recipient, :template_id, :oa_id, :params,
            false, 0, :now, :now, :now)
    ON CONFLICT (smsid) DO NOTHING
    RETURNING id
    """
)


def apply_by_smsid(
    engine: Engine,
    cb: Callback,
    *,
    kind: str = "callback",
    raw: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Applied:
    """Apply a report that names its message only by SMSID (the shared callback URL).

    An SMSID we never sent becomes a message of source ``external``.
    """
    if not cb.smsid or cb.status is None:
        p = report_params(cb, kind, raw, utcnow(), extra)
        with engine.begin() as conn:
            mid = conn.execute(_BY_SMSID, {"smsid": cb.smsid}).scalar() if cb.smsid else None
            log_only(conn, mid, p, st.INVALID)
        return Applied(mid, st.INVALID)
    if engine.dialect.name == "postgresql":
        # The statements find the message by SMSID themselves: no lookup round trip first.
        found = apply_by_key(engine, cb, by="smsid", kind=kind, raw=raw, extra=extra)
        if found is not None:
            return found
        mid = None
    else:
        with engine.connect() as conn:
            mid = conn.execute(_BY_SMSID, {"smsid": cb.smsid}).scalar()
    if mid is None:
        mid = _create_external(engine, cb)
    applied = apply_to_message(engine, mid, cb, kind=kind, raw=raw, extra=extra)
    assert applied is not None  # messages are never deleted
    return applied


def _create_external(engine: Engine, cb: Callback) -> int:
    phone = e164_or_none(cb.phone)
    with engine.begin() as conn:
        mid = conn.execute(
            _INSERT_EXTERNAL,
            {
                "smsid": cb.smsid,
                "phone": phone,
                # A Zalo user id is ~20 digits; the column holds 64, and eSMS never sends more.
                "recipient": None if phone else (cb.phone[:64] if cb.phone else None),
                "template_id": cb.template_id,
                "oa_id": cb.oa_id,
                "params": [],
                "now": utcnow(),
            },
        ).scalar()
        if mid is None:  # another request created it first
            mid = conn.execute(_BY_SMSID, {"smsid": cb.smsid}).scalar_one()
    return mid
