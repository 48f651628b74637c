"""Claim due messages, send each to eSMS, and record the result.

Messages are queued by tracker/sending/queue.py; the worker loop (tracker/worker/loop.py)
drives these three steps. The claim obeys the account/OA circuit breaker
(tracker/sending/pause.py): a paused scope gives only its one probe.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.engine import Engine

from tracker import phones, tokens
from tracker import status as st
from tracker.config import Settings
from tracker.db import utcnow
from tracker.esms import codes
from tracker.esms.client import ACCEPTED, REJECTED, EsmsClient, SendResult
from tracker.models import Event, Message
from tracker.sending import pause

# This process's copy of the pauses (sends claimed before a pause opened are put back).
PAUSES = pause.LocalView()

# After this long without an accepted send, a process sends one message alone before the
# next full batch, so a broken account costs one refused send rather than a batch in flight.
WARM_SECONDS = 10.0
_last_accepted = -WARM_SECONDS


def warm() -> bool:
    """Whether eSMS accepted one of this process's sends in the last WARM_SECONDS."""
    return time.monotonic() - _last_accepted < WARM_SECONDS


@dataclass(frozen=True)
class Job:
    """A claimed message: everything needed to send it, without a session."""

    id: int
    attempts: int
    phone: str
    params: list[str]
    order_id: str
    template_id: str
    oa_id: str
    request_id: str
    campaign_id: str | None
    sandbox: bool
    # The one send a paused scope lets through to see whether eSMS accepts again.
    probe: bool = False


_JOB_COLUMNS = (
    Message.id,
    Message.attempts,
    Message.phone,
    Message.params,
    Message.order_id,
    Message.template_id,
    Message.oa_id,
    Message.request_id,
    Message.campaign_id,
    Message.sandbox,
)


def claim(engine: Engine, settings: Settings, limit: int) -> list[Job]:
    """Take up to ``limit`` due messages (queued, or sending with an expired lease).

    While the account is paused only its probe is taken; while an OA is paused its
    messages are left out but for that OA's probe (tracker/sending/pause.py).
    """
    pauses = pause.current(engine)
    PAUSES.set(pauses)
    if not pauses:
        return _claim(engine, settings, limit)
    if any(p.scope == pause.ACCOUNT for p in pauses):
        return _probe(engine, settings, pause.ACCOUNT, None)
    jobs = _claim(engine, settings, limit, skip_oas=[p.oa_id or "" for p in pauses])
    for p in pauses:
        jobs += _probe(engine, settings, p.scope, p.oa_id or "")
    return jobs


def _probe(engine: Engine, settings: Settings, scope: str, oa_id: str | None) -> list[Job]:
    """The one probe of a paused scope, when it is due and no other process took it."""
    if not pause.take_probe(engine, settings, scope):
        return []
    jobs = _claim(engine, settings, 1, only_oa=oa_id, probe=True)
    if not jobs:
        # Nothing of this scope waits: let the next message probe after the usual delay.
        with engine.begin() as conn:
            pause.reschedule(conn, settings, scope)
    return jobs


def _claim(
    engine: Engine,
    settings: Settings,
    limit: int,
    *,
    skip_oas: list[str] | None = None,
    only_oa: str | None = None,
    probe: bool = False,
) -> list[Job]:
    """``FOR UPDATE SKIP LOCKED`` (PostgreSQL) lets many workers claim side by side
    without taking the same row; SQLite serialises writers by itself."""
    now = utcnow()
    due = (
        select(Message.id)
        .where(Message.status.in_((st.QUEUED, st.SENDING)), Message.due_at <= now)
        .order_by(Message.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if skip_oas:
        due = due.where(or_(Message.oa_id.is_(None), Message.oa_id.not_in(skip_oas)))
    if only_oa is not None:
        due = due.where(Message.oa_id == only_oa)
    stmt = (
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()))
        .values(
            status=st.SENDING,
            attempts=Message.attempts + 1,
            due_at=now + timedelta(seconds=settings.lease_seconds),
            updated_at=now,
        )
        .returning(*_JOB_COLUMNS)
    )
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
    return [Job(**row._mapping, probe=probe) for row in rows]


def held(engine: Engine, job: Job) -> bool:
    """Whether a pause opened since ``job`` was claimed holds it (a probe is never held)."""
    return not job.probe and pause.covers(PAUSES.get(engine), job.oa_id) is not None


def release(engine: Engine, job: Job) -> None:
    """Put a claimed but unsent message back in the queue, its attempt not counted."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            update(Message)
            .where(Message.id == job.id, Message.status == st.SENDING)
            .values(status=st.QUEUED, attempts=Message.attempts - 1, due_at=now, updated_at=now)
        )


def send(client: EsmsClient, settings: Settings, job: Job) -> SendResult:
    return client.send_journey(
        phone=phones.to_esms(job.phone),
        params=job.params,
        order_id=job.order_id,
        template_id=job.template_id,
        oa_id=job.oa_id,
        request_id=job.request_id,
        callback_url=tokens.callback_url(settings.public_url, settings.secret_key, job.id),
        campaign_id=job.campaign_id,
        sandbox=job.sandbox,
    )


def backoff(settings: Settings, attempt: int) -> float:
    """Capped exponential backoff with jitter, so retries of a burst spread out."""
    ceiling = min(settings.backoff_cap, settings.backoff_base * 2 ** (attempt - 1))
    return ceiling * random.uniform(0.5, 1.0)


def record(engine: Engine, settings: Settings, job: Job, result: SendResult) -> str:
    """Store a send attempt's result on the message and in its event log; returns the new status."""
    now = utcnow()
    sending = Message.status == st.SENDING
    only_if_sending = True
    note = result.outcome
    # An account- or OA-class answer pauses sending instead of ending the message.
    kind = codes.pauses(result.code) if result.outcome == REJECTED else None
    scope = pause.scope_of(kind, job.oa_id) if kind else None
    if scope is not None:
        PAUSES.hold(scope, job.oa_id, result.code or "")
    elif result.outcome == ACCEPTED:
        global _last_accepted
        _last_accepted = time.monotonic()
    if result.outcome == "accepted" or (result.code == "124" and job.attempts > 1):
        # A 124 on one of our own retries means an earlier attempt got through;
        # its SMSID will come with the callback on the message's own URL.
        if result.outcome != "accepted":
            note = "accepted_earlier"
        new_status = st.ACCEPTED
        values: dict[str, Any] = dict(
            status=case((sending, st.ACCEPTED), else_=Message.status),
            smsid=func.coalesce(Message.smsid, result.smsid),
            sent_at=func.coalesce(Message.sent_at, now),
            due_at=case((sending, None), else_=Message.due_at),
            error_code=case((sending, None), else_=Message.error_code),
            error_message=case((sending, None), else_=Message.error_message),
        )
        only_if_sending = False  # a callback may already have moved it further
    elif scope is not None:
        new_status = st.QUEUED
        note = "paused"
        # The attempt is not counted: an account problem must never use up the transport
        # retries; the code stays visible on the queued message until it is sent.
        values = dict(
            status=st.QUEUED,
            attempts=Message.attempts - 1,
            error_code=result.code,
            error_message=f"sending paused ({kind}): {result.error_message}",
            due_at=now,
        )
    elif result.outcome == "rejected":
        new_status = st.REJECTED
        values = dict(
            status=st.REJECTED, error_code=result.code, error_message=result.error_message, final_at=now, due_at=None
        )
    elif job.attempts >= settings.max_attempts:
        new_status = st.FAILED
        note = "given_up"
        values = dict(
            status=st.FAILED,
            error_code="transport",
            error_message=f"gave up after {job.attempts} attempts: {result.code}",
            final_at=now,
            due_at=None,
        )
    else:
        new_status = st.QUEUED
        note = "retry"
        values = dict(
            status=st.QUEUED,
            error_code="transport",
            error_message=f"retrying: {result.code}",
            due_at=now + timedelta(seconds=backoff(settings, job.attempts)),
        )
    stmt = update(Message).where(Message.id == job.id)
    if only_if_sending:
        stmt = stmt.where(sending)
    with engine.begin() as conn:
        hit = conn.execute(stmt.values(updated_at=now, **values)).rowcount
        lifted = _breaker(conn, settings, job, result, kind, scope)
        conn.execute(
            insert(Event).values(
                message_id=job.id,
                kind="send",
                outcome=st.APPLIED if hit else st.STALE,
                status=new_status,
                smsid=result.smsid,
                error_code=result.code if note != "accepted" else None,
                error_message=result.error_message,
                data={
                    "attempt": job.attempts,
                    "result": note,
                    "code": result.code,
                    "http_status": result.http_status,
                    "elapsed_ms": round(result.elapsed_ms, 1),
                    "request": result.request,
                },
                raw=result.response_text,
                created_at=now,
            )
        )
    if lifted:
        PAUSES.expire()  # every thread of this process sends again at once
    return new_status


def _breaker(conn: Any, settings: Settings, job: Job, result: SendResult, kind: str | None, scope: str | None) -> bool:
    """Open or extend a pause on a pausing answer; lift the pauses an answer disproves."""
    if scope is not None:
        pause.open_or_refuse(conn, settings, scope, job.oa_id, result.code or "", result.error_message, job.probe)
    if result.outcome not in (ACCEPTED, REJECTED):
        if job.probe:  # no answer at all says nothing about the account: probe again later
            pause.reschedule(conn, settings, pause.ACCOUNT)
            pause.reschedule(conn, settings, pause.scope_of("oa", job.oa_id))
        return False
    # Any other eSMS answer shows the keys, balance and IP work (an OA code: at least the
    # account's); only look when a pause may stand, so the usual send costs nothing more.
    if not job.probe and pause.covers(PAUSES.peek(), job.oa_id) is None:
        return False
    lift = [] if kind == pause.ACCOUNT else [pause.ACCOUNT]
    if kind is None:
        lift.append(pause.scope_of("oa", job.oa_id))
    return bool(lift) and pause.clear(conn, lift) > 0
