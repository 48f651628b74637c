"""`tracker purge`: anonymise old final messages and their events, keeping every count and status.

What goes: a message's phone, recipient and params; in its events, the raw text
(personal data hides there in encodings no redaction reliably finds, such as a
Zalo user id inside a twice-URL-encoded error_info) and, in the parsed data, every
phone, recipient, user id and params field, with any phone number left in other
text masked. What stays: ids, statuses, times, SMSIDs, template and order ids,
error codes, prices, and every event row, so totals, rates and timelines do not
change. Callbacks that named no message are treated the same once old enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select, update
from sqlalchemy.engine import Engine

from tracker import status as st
from tracker.db import utcnow
from tracker.models import Event, Message
from tracker.web.security import PHONE

BATCH = 500
PERSONAL_KEYS = frozenset({"phone", "phonenumber", "recipient", "user_id", "userid"})
PARAM_KEYS = frozenset({"params"})
MARK = "purged_at"


@dataclass(frozen=True)
class Purged:
    messages: int
    events: int


def redact(value: Any) -> Any:
    """``value`` (event data) without personal fields, and phone numbers in any text fully masked."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            lower = str(key).lower()
            if lower in PERSONAL_KEYS:
                out[key] = None
            elif lower in PARAM_KEYS:
                out[key] = []
            else:
                out[key] = redact(inner)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return PHONE.sub("***", value)
    return value


def _old_final(cutoff: datetime):
    return and_(Message.status.in_(st.FINAL), func.coalesce(Message.final_at, Message.updated_at) < cutoff)


def _purge_messages(engine: Engine, cutoff: datetime, batch: int) -> int:
    holds_personal = or_(Message.phone.isnot(None), Message.recipient.isnot(None),
                         cast(Message.params, String) != "[]")
    done, after = 0, 0
    while True:
        with engine.begin() as conn:
            ids = conn.scalars(select(Message.id).where(_old_final(cutoff), holds_personal, Message.id > after)
                               .order_by(Message.id).limit(batch)).all()
            if not ids:
                return done
            # Status is untouched, so the count triggers and the forwarder see no change.
            conn.execute(update(Message).where(Message.id.in_(ids)).values(phone=None, recipient=None, params=[]))
        done, after = done + len(ids), ids[-1]


def _purge_events(engine: Engine, cutoff: datetime, batch: int, now: datetime) -> int:
    owner_done = or_(Event.message_id.is_(None),
                     Event.message_id.in_(select(Message.id).where(_old_final(cutoff))))
    not_yet = Event.data[MARK].as_string().is_(None)
    done, after = 0, 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(select(Event.id, Event.data).where(
                Event.created_at < cutoff, owner_done, not_yet, Event.id > after).order_by(Event.id).limit(batch)).all()
            if not rows:
                return done
            stamp = now.isoformat()
            for row in rows:
                data = redact(row.data) if isinstance(row.data, dict) else {}
                conn.execute(update(Event).where(Event.id == row.id).values(data={**data, MARK: stamp}, raw=None))
        done, after = done + len(rows), rows[-1].id


def purge(engine: Engine, older_than: timedelta, *, now: datetime | None = None, batch: int = BATCH) -> Purged:
    """Anonymise final messages whose final time is older than ``older_than``, and their events.

    Safe to run again and again (nothing is done twice), and while the app runs:
    each batch is its own short transaction.
    """
    now = now or utcnow()
    cutoff = now - older_than
    messages = _purge_messages(engine, cutoff, batch)
    events = _purge_events(engine, cutoff, batch, now)
    return Purged(messages, events)
