"""Reconciliation: ask eSMS about messages stuck short of a final status, and time out the hopeless.

A message still non-final TRACKER_RECONCILE_AFTER seconds after its last change
(and not asked within that time) is looked up with GetCallback (up to 200
SMSIDs per OA per request, 20 requests/s), and what GetCallback does not know
with QueryZnsStatus (with the message's own SmsType; FinalStatus decides finality),
falling back to GetSendStatus after any refusal (100 requests/s). Answers go
through the webhook's status rules (`apply.apply_to_message`, kind
``reconcile``); only answers that move a message forward are applied, so a
message that stays stuck does not collect an event per pass. A message
accepted without an SMSID (a 124 on our retry) has it looked for first
(tracker.worker.recover), then is asked about like any other. Delivered messages
get their phone time (tracker.worker.phone_time). Sandbox messages are left alone.
Non-final after TRACKER_RECONCILE_HORIZON a message ends ``failed`` / ``timeout``,
which a later real final report may still replace.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.engine import Engine

from tracker import status as st
from tracker.callbacks import apply
from tracker.config import Settings
from tracker.db import utcnow
from tracker.esms import lookups
from tracker.esms.callback import parse_callback
from tracker.esms.client import MAX_CALLBACK_IDS, EsmsClient, StatusAnswer
from tracker.models import Event, Message
from tracker.sending.ratelimit import TokenBucket
from tracker.worker import phone_time, recover

log = logging.getLogger("tracker.worker.reconcile")

OPEN: tuple[str, ...] = (st.ACCEPTED, st.PENDING_APPROVAL, st.WAITING, st.SENT)
GET_CALLBACK_RATE = 20  # requests per second (REFERENCE section 4)
QUERY_RATE = 100
TPS_EXCEEDED = "160"
NOT_FOUND = frozenset({"105", "854"})
PASS_LIMIT = 5000  # messages asked about per pass; the rest wait for the next one
CHUNK = 500
_ADVISORY_KEY = 0x7472_6563  # "trec": one reconciler at a time across worker processes


@dataclass
class Summary:
    """What one pass did."""

    candidates: int = 0
    get_callback_requests: int = 0
    status_queries: int = 0
    applied: int = 0
    unchanged: int = 0
    not_found: int = 0
    errors: int = 0
    timed_out: int = 0
    phone_queries: int = 0
    phone_times: int = 0
    recovery_queries: int = 0
    smsids_recovered: int = 0
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Candidate:
    id: int
    smsid: str
    oa_id: str | None
    status: str
    sms_type: str | None = None


class Reconciler:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        client: EsmsClient,
        *,
        callback_rate: float = GET_CALLBACK_RATE,
        query_rate: float = QUERY_RATE,
        zalo_rate: float = lookups.ZALO_STATUS_RATE,
    ) -> None:
        self.engine, self.settings, self.client = engine, settings, client
        self.callback_bucket = TokenBucket(callback_rate)
        self.query_bucket = TokenBucket(query_rate)
        self.zalo_bucket = TokenBucket(zalo_rate)
        self._local = threading.Lock()
        self._summary_lock = threading.Lock()

    def run_once(self, *, after: float | None = None, now: datetime | None = None) -> Summary:
        """One pass: ask about stuck messages, then apply the horizon."""
        now = now or utcnow()
        with self._exclusive() as mine:
            if not mine:
                return Summary(skipped=True)
            summary = Summary()
            wait = self.settings.reconcile_after if after is None else after
            # First, so a message whose SMSID is found is asked about in this very pass.
            recover.recover_smsids(
                self.engine,
                self.settings,
                self.client,
                now,
                after=wait,
                acquire=self.callback_bucket.acquire,
                count=lambda what: self._count(summary, what),
            )
            candidates = self._candidates(now - timedelta(seconds=wait), now)
            summary.candidates = len(candidates)
            self._ask(candidates, summary)
            phone_time.record_phone_times(
                self.engine,
                self.settings,
                self.client,
                self.zalo_bucket,
                now,
                after=wait,
                limit=self._phone_limit(),
                count=lambda what: self._count(summary, what),
            )
            summary.timed_out = time_out(self.engine, self.settings, now)
            if summary.candidates or summary.timed_out or summary.phone_queries or summary.recovery_queries:
                log.info("reconcile: %s", summary.to_dict())
            return summary

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[bool]:
        """One pass at a time per process, and on PostgreSQL per database (an advisory lock)."""
        if not self._local.acquire(blocking=False):
            yield False
            return
        try:
            if self.engine.dialect.name != "postgresql":
                yield True
                return
            with self.engine.connect() as conn:
                got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY}).scalar()
                conn.commit()
                try:
                    yield bool(got)
                finally:
                    if got:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
                        conn.commit()
        finally:
            self._local.release()

    def _candidates(self, cutoff: datetime, now: datetime) -> list[_Candidate]:
        query = (
            select(Message.id, Message.smsid, Message.oa_id, Message.status, Message.sms_type)
            # Sandbox sends are neither delivered nor kept by eSMS: nothing to ask about.
            .where(
                Message.status.in_(OPEN),
                Message.smsid.is_not(None),
                Message.updated_at < cutoff,
                Message.sandbox.is_(False),
                or_(Message.reconciled_at.is_(None), Message.reconciled_at < cutoff),
            )
            .order_by(Message.updated_at)
            .limit(PASS_LIMIT)
        )
        with self.engine.begin() as conn:
            found = [_Candidate(*row) for row in conn.execute(query)]
            # Marked before asking: a pass that dies half-way does not hammer eSMS on restart.
            for i in range(0, len(found), CHUNK):
                ids = [c.id for c in found[i : i + CHUNK]]
                conn.execute(update(Message).where(Message.id.in_(ids)).values(reconciled_at=now))
        return found

    def _phone_limit(self) -> int:
        """About one interval's worth at GetZaloMessageStatus's 30/s, so a backlog of phone times
        (a database new to them) spreads over passes instead of stretching one."""
        rate = self.zalo_bucket.rate
        if rate <= 0:  # unlimited
            return PASS_LIMIT
        return max(1, min(PASS_LIMIT, int(rate * self.settings.reconcile_interval)))

    def _count(self, summary: Summary, what: str) -> None:
        """What phone_time and recover report: one more of ``what`` (their words, our fields)."""
        field_name = {
            "query": "phone_queries",
            "recorded": "phone_times",
            "recovery_query": "recovery_queries",
            "recovered": "smsids_recovered",
        }[what]
        with self._summary_lock:
            setattr(summary, field_name, getattr(summary, field_name) + 1)

    def _ask(self, candidates: list[_Candidate], summary: Summary) -> None:
        by_oa: dict[str | None, list[_Candidate]] = defaultdict(list)
        for c in candidates:
            by_oa[c.oa_id].append(c)
        rest: list[_Candidate] = list(by_oa.pop(None, []))
        for oa_id, group in by_oa.items():
            for i in range(0, len(group), MAX_CALLBACK_IDS):
                rest += self._get_callbacks(oa_id, group[i : i + MAX_CALLBACK_IDS], summary)
        with ThreadPoolExecutor(self.settings.reconcile_threads, thread_name_prefix="reconcile") as pool:
            list(pool.map(lambda c: self._query(c, summary), rest))

    def _get_callbacks(self, oa_id: str, chunk: list[_Candidate], summary: Summary) -> list[_Candidate]:
        """Ask GetCallback about one chunk; returns the candidates it had no answer for."""
        by_smsid = {c.smsid: c for c in chunk}
        for _ in range(2):
            self.callback_bucket.acquire()
            summary.get_callback_requests += 1
            result = self.client.get_callbacks(list(by_smsid), oa_id)
            if result.code != TPS_EXCEEDED:
                break
            self.callback_bucket.acquire()  # eSMS counts differently than we do: give it a beat
        if not result.ok:
            log.warning("GetCallback for OA %s failed: %s %s", oa_id, result.code, result.error)
            return chunk
        for answer in result.answers:
            found = by_smsid.pop(answer.smsid or "", None)
            if found is not None:
                self._apply(found, answer, "GetCallback", summary)
        return list(by_smsid.values())

    def _query(self, c: _Candidate, summary: Summary) -> None:
        query_zns = functools.partial(self.client.query_zns_status, sms_type=lookups.query_sms_type(c.sms_type))
        answer = self._ask_one(query_zns, c.smsid, summary)
        api = "QueryZnsStatus"
        # Any refusal, 854 included: asked with the wrong SmsType, QueryZnsStatus says "no data"
        # for a message it has. GetSendStatus takes no type, so it has the last word.
        if not answer.ok and not answer.transport:
            answer, api = self._ask_one(self.client.get_send_status, c.smsid, summary), "GetSendStatus"
        if answer.ok:
            self._apply(c, answer, api, summary)
        else:
            with self._summary_lock:
                if answer.code in NOT_FOUND:
                    summary.not_found += 1
                else:
                    summary.errors += 1

    def _ask_one(self, call: Any, smsid: str, summary: Summary) -> StatusAnswer:
        for _ in range(2):
            self.query_bucket.acquire()
            with self._summary_lock:
                summary.status_queries += 1
            answer: StatusAnswer = call(smsid)
            if answer.code != TPS_EXCEEDED:
                break
            self.query_bucket.acquire()
        return answer

    def _apply(self, c: _Candidate, answer: StatusAnswer, api: str, summary: Summary) -> None:
        # QueryZnsStatus's FinalStatus, where there is one, says whether the answer is the last word.
        cb = lookups.settle(parse_callback(answer.to_callback_params()), answer.final)
        # Only news is written: an answer that cannot move the message would be a stale event per pass.
        if cb.status is None or st.rank(cb.status) <= st.rank(c.status):
            with self._summary_lock:
                summary.unchanged += 1
            return
        raw = json.dumps(answer.raw, ensure_ascii=False, default=str)
        result = apply.apply_to_message(self.engine, c.id, cb, kind="reconcile", raw=raw, extra={"api": api})
        with self._summary_lock:
            if result is not None and result.outcome == st.APPLIED:
                summary.applied += 1
            else:
                summary.unchanged += 1


def time_out(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """End messages still non-final after the horizon as failed/timeout; returns how many."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=settings.reconcile_horizon)
    hours = settings.reconcile_horizon / 3600
    message = f"no final status from eSMS within {hours:g} h"
    total = 0
    while True:
        with engine.begin() as conn:
            # A sandbox message stays accepted for good: no final status will ever come for it.
            ids = list(
                conn.scalars(
                    select(Message.id)
                    .where(Message.status.in_(OPEN), Message.created_at < cutoff, Message.sandbox.is_(False))
                    .limit(CHUNK)
                )
            )
            if not ids:
                return total
            # Through the status rule: one a callback moved to a final since the read above stays.
            rows = apply.change_status(
                conn, ids, st.FAILED, now=now, among=OPEN, error_code=apply.TIMEOUT_CODE, error_message=message
            )
            if rows:
                conn.execute(
                    insert(Event),
                    [
                        dict(
                            message_id=mid,
                            kind="reconcile",
                            outcome=st.APPLIED,
                            status=st.FAILED,
                            smsid=smsid,
                            error_code=apply.TIMEOUT_CODE,
                            error_message=message,
                            data={"reason": "horizon", "horizon_seconds": settings.reconcile_horizon},
                            raw=None,
                            created_at=now,
                        )
                        for mid, smsid in rows
                    ],
                )
            total += len(rows)
