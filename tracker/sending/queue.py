"""Building and queueing new messages: one builder for the API, the CLI and CSV bulk sends.

A queued message waits in ``messages`` (status ``queued``, due now) until a worker
claims it (tracker/sending/sender.py). Every way in is idempotent by request id,
so a client retrying its POST, or a CSV file queued twice, sends nothing twice.

A phone written in the old 11-digit form is stored converted (tracker/phones.py); the number
as given is kept in a ``queue`` event on the message, the first of its log.

Params that break their template as eSMS lists it (tracker/sending/templates.py) refuse the
message, or the whole batch, before anything is stored: :class:`ParamsError`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.config import Settings
from tracker.db import utcnow
from tracker.models import Event, Message
from tracker.schemas import NewMessage
from tracker.sending import templates
from tracker.sending.bulk import line_of

QUEUE_CHANNEL = "tracker_queue"
BATCH_SIZE = 500
_NOTIFY = text("SELECT pg_notify(:channel, '')")


class QueueError(ValueError):
    """The message cannot be queued; ``fields`` says which input is wrong."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class ParamsError(QueueError):
    """Params that break the template as eSMS lists it for the OA; ``fields`` names each."""

    def __init__(self, fields: dict[str, str], template_id: str | None = None):
        super().__init__(fields)
        self.template_id = template_id


def new_request_id() -> str:
    return uuid.uuid4().hex


def _oa_id(settings: Settings, data: NewMessage) -> str:
    oa_id = data.oa_id or settings.esms_oaid
    if not oa_id:
        raise QueueError({"oa_id": "required (ESMS_OAID is not set)"})
    return oa_id


def new_message(settings: Settings, data: NewMessage, *, source: str, request_id: str, now: datetime) -> dict[str, Any]:
    """The columns of a message about to be queued: the one place where defaults are filled in.

    An ``oa_id`` left out comes from ESMS_OAID (QueueError when that is not set either),
    a ``sandbox`` left out from ESMS_SANDBOX.
    """
    return dict(
        source=source,
        status=st.QUEUED,
        request_id=request_id,
        phone=data.phone,
        template_id=data.template_id,
        oa_id=_oa_id(settings, data),
        params=list(data.params),
        order_id=data.order_id,
        campaign_id=data.campaign_id,
        sandbox=settings.esms_sandbox if data.sandbox is None else data.sandbox,
        attempts=0,
        due_at=now,
        created_at=now,
        updated_at=now,
    )


def queue(
    session: Session, settings: Settings, data: NewMessage, source: str, *, resent_from: int | None = None
) -> tuple[Message, bool]:
    """Store a message as ``queued``; returns (message, created).

    A request_id seen before returns the existing message and queues nothing,
    so a client may safely retry its POST. ``resent_from`` links a resend to the
    message it repeats (tracker/sending/resend.py); one resend per message.
    """
    request_id = data.request_id or new_request_id()
    existing = session.scalar(select(Message).where(Message.request_id == request_id))
    if existing is not None:
        return existing, False
    problems = templates.check(settings, session, _oa_id(settings, data), data.template_id, data.params)
    if problems:
        raise ParamsError(problems, data.template_id)
    msg = Message(
        **new_message(settings, data, source=source, request_id=request_id, now=utcnow()), resent_from=resent_from
    )
    session.add(msg)
    try:
        session.flush()
    except IntegrityError:
        # The same request_id (or a resend of the same message) raced us in; answer with the one that won.
        session.rollback()
        won = Message.request_id == request_id if resent_from is None else Message.resent_from == resent_from
        return session.scalars(select(Message).where(won)).one(), False
    if data.phone_given is not None:
        session.add(Event(**given_phone_event(msg.id, data.phone_given, msg.created_at)))
    wake_workers(session)
    session.commit()
    return msg, True


def given_phone_event(message_id: int, given: str, now: datetime) -> dict[str, Any]:
    """The ``queue`` event that keeps an old 11-digit number as the client wrote it.

    Under the key ``phone``, so ``tracker purge`` removes it with every other phone.
    """
    return dict(
        message_id=message_id,
        kind="queue",
        outcome=st.APPLIED,
        status=st.QUEUED,
        data={"phone": given, "converted": "old 11-digit number, stored under its 2018 prefix"},
        created_at=now,
    )


@dataclass(frozen=True)
class Queued:
    created: int
    existing: int


def queue_many(
    engine: Engine,
    settings: Settings,
    rows: list[NewMessage],
    *,
    source: str,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> Queued:
    """Queue validated messages, each with its request_id; those already queued are left alone.

    One multi-row INSERT per batch, for CSV bulk sends (the CLI and the dashboard's
    upload). ``on_batch`` is called with each batch's size.
    """
    if any(r.request_id is None for r in rows):
        raise ValueError("every bulk row needs a request_id, so a rerun sends nothing twice")
    for row in rows:
        _oa_id(settings, row)  # one row without an OA refuses the file before any of it is queued
    with engine.connect() as conn:
        problems = {
            f"{_label(row)}: {name}": why
            for row in rows
            for name, why in templates.check(settings, conn, _oa_id(settings, row), row.template_id, row.params).items()
        }
    if problems:
        raise ParamsError(problems)
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    created = 0
    for i in range(0, len(rows), batch_size):
        chunk, now = rows[i : i + batch_size], utcnow()
        values = [new_message(settings, r, source=source, request_id=r.request_id, now=now) for r in chunk]
        table = Message.__table__
        stmt = (
            insert(table)
            .values(values)
            .on_conflict_do_nothing(index_elements=["request_id"])
            .returning(table.c.id, table.c.request_id)
        )
        given = {r.request_id: r.phone_given for r in chunk if r.phone_given is not None}
        with engine.begin() as conn:
            new = conn.execute(stmt).all()
            created += len(new)
            events = [given_phone_event(mid, given[rid], now) for mid, rid in new if rid in given]
            if events:
                conn.execute(insert(Event), events)
            wake_workers(conn)
        if on_batch:
            on_batch(len(chunk))
    return Queued(created=created, existing=len(rows) - created)


def _label(row: NewMessage) -> str:
    """A bulk row as its CSV line (bulk.py's request ids say it), or its request id."""
    line = line_of(row.request_id or "")
    return f"line {line}" if line is not None else f"request_id {row.request_id}"


def wake_workers(db: Session | Connection) -> None:
    """On PostgreSQL, tell idle workers (LISTEN on QUEUE_CHANNEL) that work is waiting; sent at commit."""
    dialect = db.get_bind().dialect if isinstance(db, Session) else db.dialect
    if dialect.name == "postgresql":
        db.execute(_NOTIFY, {"channel": QUEUE_CHANNEL})
