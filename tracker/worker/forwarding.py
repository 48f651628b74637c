"""Status forwarding: every status change goes, signed, to TRACKER_FORWARD_URL through an outbox.

A trigger on ``messages`` (installed by the migration that creates
``forward_outbox``, the table of ``tracker.models.ForwardDelivery``) writes one
outbox row per status change in the same transaction as the change, so the
webhook pays no network call and nothing is lost when the receiver is down.
The worker delivers the rows in order per message, retries network errors, 5xx,
408 and 429 with capped exponential backoff, and marks a row ``failed`` after
TRACKER_FORWARD_MAX_ATTEMPTS or on any other answer. Deliveries are at least
once: receivers dedupe on ``X-Tracker-Delivery``, the row's ``delivery_id`` (a UUID the
database made with the row, the same on every retry, never the same for two changes).

With no TRACKER_FORWARD_URL the rows would only be written and deleted again: on PostgreSQL
the worker switches the trigger off at start (and on again when a URL is set), which takes
an insert off every status change the webhook applies (issue 14). All workers must agree on
the setting; elsewhere, or when the switch is refused, the worker just deletes the rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased

from tracker import status as st
from tracker.config import Settings
from tracker.db import iso, utcnow
from tracker.models import FORWARD_FAILED, FORWARD_PENDING, ForwardDelivery
from tracker.sending.sender import backoff

log = logging.getLogger("tracker.worker.forwarding")

PENDING, FAILED = FORWARD_PENDING, FORWARD_FAILED
BATCH = 100
SWITCH_RETRY = 60.0
SIGNATURE_HEADER = "X-Tracker-Signature"
TIMESTAMP_HEADER = "X-Tracker-Timestamp"
DELIVERY_HEADER = "X-Tracker-Delivery"
_RETRYABLE_HTTP = frozenset({408, 429})
# Statuses that are the sender's own bookkeeping, not news for a receiver.
NOT_FORWARDED = (st.QUEUED, st.SENDING)


def payload(row: ForwardDelivery, now: datetime) -> dict[str, Any]:
    """The JSON a receiver gets; ``forwarded_at`` is inside the signed body, so it cannot be replayed unseen."""
    return {
        "delivery_id": str(row.delivery_id),
        "message_id": row.message_id,
        "order_id": row.order_id,
        "request_id": row.request_id,
        "smsid": row.smsid,
        "status": row.status,
        "final": st.is_final(row.status),
        "error_code": row.error_code,
        "error_message": row.error_message,
        "sent_at": iso(row.sent_at),
        "final_at": iso(row.final_at),
        "updated_at": iso(row.changed_at),
        "forwarded_at": iso(now),
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does with ``X-Tracker-Signature``; here for tests and as an example."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header or "")


def lease(settings: Settings) -> timedelta:
    """How long a claimed row is left alone: past the POST's own timeout, so a slow receiver is
    not sent the same change twice, yet soon enough after a deliverer died (TRACKER_LEASE_SECONDS)."""
    return timedelta(seconds=settings.lease_seconds + settings.send_timeout)


def claim(engine: Engine, settings: Settings, limit: int = BATCH) -> list[ForwardDelivery]:
    """Take due rows, oldest first, skipping any whose message has an earlier row still pending
    (so a receiver sees one message's changes in order)."""
    now = utcnow()
    due_now = select(ForwardDelivery.id).where(ForwardDelivery.state == PENDING, ForwardDelivery.next_at <= now)
    with engine.connect() as conn:
        # A read first: an idle poll must not take SQLite's write lock every half second.
        if conn.execute(due_now.limit(1)).first() is None:
            return []
    earlier = aliased(ForwardDelivery)
    due = (
        select(ForwardDelivery.id)
        .where(
            ForwardDelivery.state == PENDING,
            ForwardDelivery.next_at <= now,
            ~select(earlier.id)
            .where(
                earlier.message_id == ForwardDelivery.message_id,
                earlier.state == PENDING,
                earlier.id < ForwardDelivery.id,
            )
            .exists(),
        )
        .order_by(ForwardDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(ForwardDelivery)
        .where(ForwardDelivery.id.in_(due.scalar_subquery()))
        .values(attempts=ForwardDelivery.attempts + 1, next_at=now + lease(settings))
        .returning(*ForwardDelivery.__table__.columns)
    )
    with engine.begin() as conn:
        rows = [ForwardDelivery(**r._mapping) for r in conn.execute(stmt)]
    return sorted(rows, key=lambda r: r.id)


@dataclass(frozen=True)
class Attempt:
    ok: bool
    retry: bool
    error: str | None = None


def post(session: requests.Session, settings: Settings, row: ForwardDelivery) -> Attempt:
    # config.load requires it with TRACKER_FORWARD_URL; never sign with an empty key.
    assert settings.forward_secret, "TRACKER_FORWARD_SECRET is not set"
    now = utcnow()
    body = json.dumps(payload(row, now), ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(settings.forward_secret, body),
        TIMESTAMP_HEADER: str(int(now.timestamp())),
        DELIVERY_HEADER: str(row.delivery_id),
        "User-Agent": "journey-tracker/forwarder",
    }
    try:
        resp = session.post(settings.forward_url, data=body, headers=headers, timeout=settings.send_timeout)
    except requests.RequestException as exc:
        return Attempt(False, True, f"network error ({type(exc).__name__})")
    if 200 <= resp.status_code < 300:
        return Attempt(True, False)
    retry = resp.status_code >= 500 or resp.status_code in _RETRYABLE_HTTP
    return Attempt(False, retry, f"HTTP {resp.status_code}")


def record(engine: Engine, settings: Settings, row: ForwardDelivery, attempt: Attempt) -> None:
    with engine.begin() as conn:
        if attempt.ok:
            conn.execute(delete(ForwardDelivery).where(ForwardDelivery.id == row.id))
            return
        values: dict[str, Any] = {"last_error": attempt.error}
        if attempt.retry and row.attempts < settings.forward_max_attempts:
            values["next_at"] = utcnow() + timedelta(seconds=backoff(settings, row.attempts))
        else:
            values["state"] = FAILED
            log.warning(
                "forwarding of status change %s (message %s) failed for good: %s",
                row.delivery_id,
                row.message_id,
                attempt.error,
            )
        conn.execute(update(ForwardDelivery).where(ForwardDelivery.id == row.id).values(**values))


class Forwarder:
    """The worker's forwarding duty: deliver what is due, or drop the outbox when no URL is set."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self.session = requests.Session()
        self.pool = ThreadPoolExecutor(settings.forward_threads, thread_name_prefix="forward")
        self.switched = False
        self.switch_after = 0.0  # monotonic time of the next try after a refused switch

    def run_once(self) -> int:
        """One pass; returns how many rows were handled (so the caller knows whether to hurry)."""
        if not self.switched and time.monotonic() >= self.switch_after:
            self.switched = switch_outbox(self.engine, bool(self.settings.forward_url))
            # A refusal (another owner, a long lock) is tried again a minute later, not every pass.
            self.switch_after = time.monotonic() + SWITCH_RETRY
        if not self.settings.forward_url:
            # The trigger cannot see settings; without a receiver the rows are just garbage.
            with self.engine.begin() as conn:
                if conn.execute(select(ForwardDelivery.id).limit(1)).first() is None:
                    return 0
                return conn.execute(delete(ForwardDelivery)).rowcount or 0
        rows = claim(self.engine, self.settings)

        def one(row: ForwardDelivery) -> None:
            record(self.engine, self.settings, row, post(self.session, self.settings, row))

        list(self.pool.map(one, rows))
        return len(rows)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.session.close()


_TRIGGER_STATE = text(
    "SELECT tgenabled FROM pg_trigger WHERE tgname = 'messages_forward' AND tgrelid = 'messages'::regclass"
)


def switch_outbox(engine: Engine, enabled: bool) -> bool:
    """PostgreSQL: turn the outbox trigger on or off; True once it is as wanted (or cannot be switched).

    ALTER TABLE takes a brief lock on ``messages``: it waits at most 5 s for one, and a refusal
    (another role owns the table, say) leaves the trigger as it is, with the rows deleted instead.
    """
    if engine.dialect.name != "postgresql":
        return True
    try:
        with engine.begin() as conn:
            state = conn.execute(_TRIGGER_STATE).scalar()
            if state is None or (state != "D") == enabled:
                return True
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            conn.execute(text(f"ALTER TABLE messages {'ENABLE' if enabled else 'DISABLE'} TRIGGER messages_forward"))
        log.info("forwarding outbox trigger %s", "on" if enabled else "off (no TRACKER_FORWARD_URL)")
        return True
    except Exception as exc:  # a lock timeout or a permission: the forwarder tries again later
        log.warning("could not switch the forwarding outbox trigger %s: %s", "on" if enabled else "off", exc)
        return False


@dataclass(frozen=True)
class ForwardStats:
    """What the dashboard shows about forwarding."""

    enabled: bool
    pending: int
    failed: int
    oldest_pending_at: str | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stats(engine: Engine, settings: Settings) -> ForwardStats:
    """Pending and failed deliveries, the oldest pending one's time, and the latest error."""
    with engine.connect() as conn:
        counts = dict(conn.execute(select(ForwardDelivery.state, func.count()).group_by(ForwardDelivery.state)).all())
        oldest = conn.execute(
            select(func.min(ForwardDelivery.changed_at)).where(ForwardDelivery.state == PENDING)
        ).scalar()
        last_error = conn.execute(
            select(ForwardDelivery.last_error)
            .where(ForwardDelivery.last_error.is_not(None))
            .order_by(ForwardDelivery.id.desc())
            .limit(1)
        ).scalar()
    return ForwardStats(
        enabled=bool(settings.forward_url),
        pending=counts.get(PENDING, 0),
        failed=counts.get(FAILED, 0),
        oldest_pending_at=iso(oldest),
        last_error=last_error,
    )


def retry_failed(engine: Engine) -> int:
    """Put every failed delivery back in the queue (e.g. after fixing the receiver); returns how many."""
    with engine.begin() as conn:
        return (
            conn.execute(
                update(ForwardDelivery)
                .where(ForwardDelivery.state == FAILED)
                .values(state=PENDING, attempts=0, next_at=utcnow())
            ).rowcount
            or 0
        )


def wait_idle(engine: Engine, timeout: float) -> bool:
    """Until no delivery is pending (tests, bench); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if not conn.execute(
                select(func.count()).select_from(ForwardDelivery).where(ForwardDelivery.state == PENDING)
            ).scalar():
                return True
        time.sleep(0.2)
    return False
