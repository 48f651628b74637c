"""Claim due messages, send each to eSMS, and record the result.

Messages are queued by tracker/sending/queue.py; the worker loop (tracker/worker/loop.py)
drives these three steps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.engine import Engine

from tracker import phones, tokens
from tracker import status as st
from tracker.config import Settings
from tracker.db import utcnow
from tracker.esms.client import EsmsClient, SendResult
from tracker.models import Event, Message


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


_JOB_COLUMNS = (Message.id, Message.attempts, Message.phone, Message.params, Message.order_id,
                Message.template_id, Message.oa_id, Message.request_id, Message.campaign_id,
                Message.sandbox)


def claim(engine: Engine, settings: Settings, limit: int) -> list[Job]:
    """Take up to ``limit`` due messages (queued, or sending with an expired lease).

    ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) lets many workers claim side by side
    without taking the same row; SQLite serialises writers by itself.
    """
    now = utcnow()
    due = (
        select(Message.id)
        .where(Message.status.in_((st.QUEUED, st.SENDING)), Message.due_at <= now)
        .order_by(Message.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()))
        .values(status=st.SENDING, attempts=Message.attempts + 1,
                due_at=now + timedelta(seconds=settings.lease_seconds), updated_at=now)
        .returning(*_JOB_COLUMNS)
    )
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
    return [Job(**row._mapping) for row in rows]


def send(client: EsmsClient, settings: Settings, job: Job) -> SendResult:
    return client.send_journey(
        phone=phones.to_esms(job.phone), params=job.params, order_id=job.order_id,
        template_id=job.template_id, oa_id=job.oa_id, request_id=job.request_id,
        callback_url=tokens.callback_url(settings.public_url, settings.secret_key, job.id),
        campaign_id=job.campaign_id, sandbox=job.sandbox,
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
    elif result.outcome == "rejected":
        new_status = st.REJECTED
        values = dict(status=st.REJECTED, error_code=result.code, error_message=result.error_message,
                      final_at=now, due_at=None)
    elif job.attempts >= settings.max_attempts:
        new_status = st.FAILED
        note = "given_up"
        values = dict(status=st.FAILED, error_code="transport",
                      error_message=f"gave up after {job.attempts} attempts: {result.code}",
                      final_at=now, due_at=None)
    else:
        new_status = st.QUEUED
        note = "retry"
        values = dict(status=st.QUEUED, error_code="transport", error_message=f"retrying: {result.code}",
                      due_at=now + timedelta(seconds=backoff(settings, job.attempts)))
    stmt = update(Message).where(Message.id == job.id)
    if only_if_sending:
        stmt = stmt.where(sending)
    with engine.begin() as conn:
        hit = conn.execute(stmt.values(updated_at=now, **values)).rowcount
        conn.execute(insert(Event).values(
            message_id=job.id, kind="send", outcome=st.APPLIED if hit else st.STALE,
            status=new_status, smsid=result.smsid, error_code=result.code if note != "accepted" else None,
            error_message=result.error_message,
            data={"attempt": job.attempts, "result": note, "code": result.code,
                  "http_status": result.http_status, "elapsed_ms": round(result.elapsed_ms, 1),
                  "request": result.request},
            raw=result.response_text, created_at=now,
        ))
    return new_status

