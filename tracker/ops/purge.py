"""`tracker purge`: anonymise old final messages and their events, keeping every count and status.

What goes: a message's phone, recipient and params; in its events, the raw text
(personal data hides there in encodings no redaction reliably finds, such as a
Zalo user id inside a twice-URL-encoded error_info), the raw error_info, and, in
the parsed data, every phone, recipient, user id and params field. Besides, every
recipient identifier known for the message (its phone in every usual form, its
recipient, and each user id or phone named anywhere in its events, including
inside JSON or URL-encoded text) is cut out of every free-text value of the
message, its events and its forwarding outbox rows, and any phone number left
in such text is masked. What stays: ids, statuses, times, SMSIDs, template and
order ids, error codes, prices, and every event row, so totals, rates and
timelines do not change. Callbacks that named no message are treated the same
once old enough.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sqlalchemy import String, Table, and_, cast, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from tracker import status as st
from tracker.db import utcnow
from tracker.models import Event, Message
from tracker.phones import e164_or_none
from tracker.web.security import PHONE
from tracker.worker.forwarding import ForwardDelivery

BATCH = 500
PERSONAL_KEYS = frozenset({"phone", "phonenumber", "recipient", "user_id", "userid"})
PARAM_KEYS = frozenset({"params"})
# Undecoded copies of what the parsed fields hold: dropped like the event's raw text.
RAW_KEYS = frozenset({"error_info_raw"})
# Lookup keys and enumerations, in columns and in event data: never personal, and the
# tracker matches on them, so identifier removal leaves them alone.
KEYS = frozenset(
    {
        "smsid",
        "request_id",
        "requestid",
        "order_id",
        "template_id",
        "tempid",
        "oa_id",
        "oaid",
        "zalo_msg_id",
        "partner_ids",
        "partnerids",
        "message_id",
        "status",
        "source",
        "kind",
        "outcome",
        "state",
        "error_code",
        "telco",
        "callback_id",
    }
)
MARK = "purged_at"
HIDDEN = "***"
# Phones have 9+ digits and Zalo user ids ~15-20; a shorter value (a "1", a "null") is
# no identifier, and cutting it out of every text would wreck the data.
MIN_DIGITS = 6
# A personal key and its value in any text: JSON (also escaped inside a JSON string), a
# Python repr, a query string, "phone: ..." in prose.
_KEYED = re.compile(
    r"(?i)(?<![a-z])(?:user_?id|phone_?(?:number)?|recipient)[\\'\"\s]*[:=][\\'\"\s]*(\+?[0-9A-Za-z_-]+)"
)
_MAX_UNQUOTE = 8  # eSMS encodes error_info up to twice; a few more layers cost nothing


@dataclass(frozen=True)
class Purged:
    messages: int
    events: int


# -- finding identifiers ----------------------------------------------------------------------


def _add(found: set[str], value: str) -> None:
    value = value.strip()
    if sum(ch.isdigit() for ch in value) < MIN_DIGITS:
        return
    found.add(value)
    e164 = e164_or_none(value)
    if e164:  # the forms a Vietnamese number is written in: +84…, 84…, 0…, and the bare 9 digits
        national = e164.removeprefix("+84")
        found.update({e164, e164[1:], "0" + national, national})


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if str(key).lower() in PERSONAL_KEYS and isinstance(inner, (str, int)) and not isinstance(inner, bool):
                _add(found, str(inner))
            _collect(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _collect(inner, found)
    elif isinstance(value, str):
        text = value
        for _ in range(_MAX_UNQUOTE):  # every URL-encoding layer, so encoded JSON is read too
            for match in _KEYED.finditer(text):
                _add(found, match.group(1))
            decoded = unquote(text)
            if decoded == text:
                break
            text = decoded


def identifiers(*values: Any) -> set[str]:
    """Every phone, recipient and user id named in ``values`` (data, raw text, free text),
    phones in all their usual forms."""
    found: set[str] = set()
    for value in values:
        _collect(value, found)
    return found


def known_for(phone: str | None, recipient: str | None) -> set[str]:
    """A message's own identifiers, in every form they may be written in elsewhere."""
    found: set[str] = set()
    for value in (phone, recipient):
        if value:
            _add(found, value)
            found.add(value)  # a recipient is removed whatever it looks like
    return found


# -- removing them ----------------------------------------------------------------------------


def hide(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with each known identifier cut out and any other phone number masked."""
    for value in sorted(known, key=len, reverse=True):  # "+84901888484" before "901888484"
        text = text.replace(value, HIDDEN)
    return PHONE.sub(HIDDEN, text)


def redact(value: Any, known: Iterable[str] = ()) -> Any:
    """``value`` (event data) without personal fields, known identifiers or phone numbers in any text."""
    known = tuple(known)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            lower = str(key).lower()
            if lower in PERSONAL_KEYS or lower in RAW_KEYS:
                out[key] = None
            elif lower in PARAM_KEYS:
                out[key] = []
            elif lower in KEYS:
                out[key] = inner
            else:
                out[hide(key, known) if isinstance(key, str) else key] = redact(inner, known)
        return out
    if isinstance(value, list):
        return [redact(v, known) for v in value]
    if isinstance(value, str):
        return hide(value, known)
    return value


def _free_text(table: Table) -> tuple[str, ...]:
    """The table's text columns that may hold free text (all but lookup keys and enumerations)."""
    return tuple(c.name for c in table.columns if isinstance(c.type, String) and c.name not in KEYS)


def _hidden(row: Mapping[str, Any], columns: Iterable[str], known: set[str]) -> dict[str, str]:
    """New values of the row's free-text columns that held an identifier."""
    changes = {}
    for name in columns:
        value = row[name]
        if isinstance(value, str) and (new := hide(value, known)) != value:
            changes[name] = new
    return changes


# -- the purge --------------------------------------------------------------------------------


def _old_final(cutoff: datetime):
    return and_(Message.status.in_(st.FINAL), func.coalesce(Message.final_at, Message.updated_at) < cutoff)


_NOT_YET = Event.data[MARK].as_string().is_(None)


def _purge_events(conn: Connection, rows: Iterable[Mapping[str, Any]], known: set[str], stamp: str) -> int:
    """Anonymise these (not yet purged) events, with ``known`` identifiers of their message."""
    done = 0
    for row in rows:
        mine = known | identifiers(row["data"], row["raw"], row["error_message"])
        data = redact(row["data"], mine) if isinstance(row["data"], dict) else {}
        changes = _hidden(row, _free_text(Event.__table__), mine)
        conn.execute(
            update(Event).where(Event.id == row["id"]).values({**changes, "data": {**data, MARK: stamp}, "raw": None})
        )
        done += 1
    return done


def _purge_outbox(conn: Connection, known: Mapping[int, set[str]]) -> None:
    """Status changes waiting to be (or already) forwarded copy the message's error text."""
    table = ForwardDelivery.__table__
    for row in conn.execute(select(table).where(table.c.message_id.in_(list(known)))).mappings():
        changes = _hidden(row, _free_text(table), known[row["message_id"]])
        if changes:
            conn.execute(update(table).where(table.c.id == row["id"]).values(**changes))


def _purge_messages(engine: Engine, cutoff: datetime, batch: int, stamp: str) -> tuple[int, int]:
    """Old final messages with all their not yet purged events (whatever their age) and
    outbox rows; returns (messages that held personal data, events purged)."""
    holds_personal = or_(Message.phone.isnot(None), Message.recipient.isnot(None), cast(Message.params, String) != "[]")
    # An event that came after its message was purged (a late callback) is purged on the next run.
    unpurged = select(Event.id).where(Event.message_id == Message.id, _NOT_YET).exists()
    messages = events = after = 0
    while True:
        with engine.begin() as conn:
            rows = (
                conn.execute(
                    select(Message.__table__)
                    .where(_old_final(cutoff), or_(holds_personal, unpurged), Message.id > after)
                    .order_by(Message.id)
                    .limit(batch)
                )
                .mappings()
                .all()
            )
            if not rows:
                return messages, events
            by_message = {r["id"]: r for r in rows}
            pending: dict[int, list[Mapping[str, Any]]] = {mid: [] for mid in by_message}
            for ev in conn.execute(
                select(Event.__table__).where(Event.message_id.in_(list(by_message)), _NOT_YET).order_by(Event.id)
            ).mappings():
                pending[ev["message_id"]].append(ev)
            known: dict[int, set[str]] = {}
            for mid, msg in by_message.items():
                # All of a message's identifiers, whichever of its rows names them.
                known[mid] = known_for(msg["phone"], msg["recipient"]).union(
                    identifiers(*(msg[c] for c in _free_text(Message.__table__))),
                    *(identifiers(ev["data"], ev["raw"], ev["error_message"]) for ev in pending[mid]),
                )
                events += _purge_events(conn, pending[mid], known[mid], stamp)
                changes = _hidden(msg, _free_text(Message.__table__), known[mid])
                # Status is untouched, so the count triggers and the forwarder see no change.
                conn.execute(
                    update(Message)
                    .where(Message.id == mid)
                    .values({**changes, "phone": None, "recipient": None, "params": []})
                )
                messages += bool(msg["phone"] or msg["recipient"] or msg["params"])
            _purge_outbox(conn, known)
        after = rows[-1]["id"]


def _purge_orphans(engine: Engine, cutoff: datetime, batch: int, stamp: str) -> int:
    """Callbacks that named no message: each event's own identifiers."""
    done, after = 0, 0
    while True:
        with engine.begin() as conn:
            rows = (
                conn.execute(
                    select(Event.__table__)
                    .where(Event.message_id.is_(None), Event.created_at < cutoff, _NOT_YET, Event.id > after)
                    .order_by(Event.id)
                    .limit(batch)
                )
                .mappings()
                .all()
            )
            if not rows:
                return done
            done += _purge_events(conn, rows, set(), stamp)
        after = rows[-1]["id"]


def purge(engine: Engine, older_than: timedelta, *, now: datetime | None = None, batch: int = BATCH) -> Purged:
    """Anonymise final messages whose final time is older than ``older_than``, and their events.

    Safe to run again and again (nothing is done twice), and while the app runs:
    each batch is its own short transaction.
    """
    now = now or utcnow()
    cutoff = now - older_than
    stamp = now.isoformat()
    messages, events = _purge_messages(engine, cutoff, batch, stamp)
    return Purged(messages, events + _purge_orphans(engine, cutoff, batch, stamp))
