"""When a delivered ZNS message reached the phone: GetZaloMessageStatus (30 requests/s).

eSMS's "delivered" (SendStatus 5, SendSuccess 1) does not say when; GetZaloMessageStatus,
asked by OA and Zalo message id (the callback's partnerids, kept as ``zalo_msg_id``),
answers ``status`` 1 with ``delivery_time`` once Zalo has put the message on the phone
(ham-lay-thong-tin-trang-thai-zns.md). A delivered message whose Zalo id is known is
asked once it is delivered, and again every TRACKER_RECONCILE_AFTER while Zalo has not
said so, up to TRACKER_RECONCILE_HORIZON; the answer sets ``delivered_to_phone_at`` and is
logged as a ``reconcile`` event. Nothing else about the message changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Engine

from tracker import status as st
from tracker.config import Settings
from tracker.db import iso, utcnow
from tracker.esms import lookups
from tracker.esms.client import EsmsClient
from tracker.models import Event, Message
from tracker.sending.ratelimit import TokenBucket

TPS_EXCEEDED = "160"
API = "GetZaloMessageStatus"


@dataclass(frozen=True)
class _Delivered:
    id: int
    smsid: str | None
    oa_id: str
    zalo_msg_id: str


def _due(engine: Engine, settings: Settings, now: datetime, after: float, limit: int) -> list[_Delivered]:
    """Delivered messages to ask about, marked as asked (``reconciled_at``) in the same transaction."""
    cutoff = now - timedelta(seconds=after)
    query = (
        select(Message.id, Message.smsid, Message.oa_id, Message.zalo_msg_id)
        .where(
            Message.status == st.DELIVERED,
            Message.delivered_to_phone_at.is_(None),
            Message.zalo_msg_id.is_not(None),
            Message.oa_id.is_not(None),
            Message.sandbox.is_(False),
            Message.created_at >= now - timedelta(seconds=settings.reconcile_horizon),
            # Never asked since it was delivered, or not within the last period.
            or_(
                Message.reconciled_at.is_(None),
                Message.reconciled_at < cutoff,
                Message.reconciled_at < Message.final_at,
            ),
        )
        .order_by(Message.created_at)
        .limit(limit)
    )
    with engine.begin() as conn:
        found = [_Delivered(*row) for row in conn.execute(query)]
        if found:
            # The clock, not ``now``: later than the final_at of a message delivered earlier in this
            # pass, so the next pass waits its period instead of asking again at once.
            asked = max(now, utcnow())
            conn.execute(update(Message).where(Message.id.in_([d.id for d in found])).values(reconciled_at=asked))
    return found


def _ask(client: EsmsClient, bucket: TokenBucket, d: _Delivered) -> lookups.ZaloStatus:
    answer = lookups.ZaloStatus(ok=False, code=None)
    for _ in range(2):
        bucket.acquire()
        answer = lookups.get_zalo_message_status(client, d.oa_id, d.zalo_msg_id)
        if answer.code != TPS_EXCEEDED:
            break
        bucket.acquire()  # eSMS counts differently than we do: give it a beat
    return answer


def _record(engine: Engine, d: _Delivered, answer: lookups.ZaloStatus, now: datetime) -> bool:
    """Store the phone time (only where none is stored yet) and log the answer that gave it."""
    with engine.begin() as conn:
        moved = conn.execute(
            update(Message)
            .where(Message.id == d.id, Message.delivered_to_phone_at.is_(None))
            .values(delivered_to_phone_at=answer.delivered_at)
        ).rowcount
        if moved:
            conn.execute(
                insert(Event).values(
                    message_id=d.id,
                    kind="reconcile",
                    outcome=st.APPLIED,
                    status=st.DELIVERED,
                    smsid=d.smsid,
                    data={"api": API, "zalo_status": answer.status, "delivered_to_phone_at": iso(answer.delivered_at)},
                    raw=json.dumps(answer.raw, ensure_ascii=False, default=str),
                    created_at=now,
                )
            )
    return bool(moved)


def record_phone_times(
    engine: Engine,
    settings: Settings,
    client: EsmsClient,
    bucket: TokenBucket,
    now: datetime,
    *,
    after: float,
    limit: int,
    count: Callable[[str], None] = lambda _: None,
) -> None:
    """Ask about delivered messages without a phone time; ``count`` hears "query" and "recorded"."""
    due = _due(engine, settings, now, after, limit)

    def one(d: _Delivered) -> None:
        answer = _ask(client, bucket, d)
        count("query")
        if answer.ok and answer.status == 1 and answer.delivered_at is not None and _record(engine, d, answer, now):
            count("recorded")

    with ThreadPoolExecutor(settings.reconcile_threads, thread_name_prefix="phone-time") as pool:
        list(pool.map(one, due))
