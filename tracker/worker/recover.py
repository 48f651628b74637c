"""Finding the SMSID of a message eSMS accepted without naming it (a 124 on our own retry).

An earlier attempt got through and its answer was lost, so the message is ``accepted``
with no SMSID; if its callback is lost too, nothing can be asked about it. Once it has
waited TRACKER_RECONCILE_AFTER, GetSmsSentData_V2 lists eSMS's sends created in the time
it was being sent (from its creation to its acceptance, with slack for the two clocks),
each with its ReferenceId (the SMSID), phone and campaign
(ham-kiem-tra-trang-thai-tin-nhan-theo-khoang-thoi-gian.md). A send no message of ours
holds already is this message's when GetCallback names our RequestId for it, or, where
eSMS keeps no RequestId, when it is the only one to the same phone (and campaign) in the
window and no other waiting message could claim it. The SMSID is stored (an event says
how it was found) and the message is reconciled like any other in the same pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tracker import status as st
from tracker.config import Settings
from tracker.esms import lookups
from tracker.esms.client import MAX_CALLBACK_IDS, EsmsClient
from tracker.models import Event, Message
from tracker.phones import to_esms

OPEN: tuple[str, ...] = (st.ACCEPTED, st.PENDING_APPROVAL, st.WAITING, st.SENT)
SLACK = timedelta(minutes=2)  # our clock against eSMS's, and its creation time against our send
SMS_TYPES = ("24", "25")  # which one eSMS files a journey under is undocumented: both are read
MAX_PAGES = 20  # per window and type: 10,000 sends; a window holding more is read in part
LIMIT = 500  # messages without an SMSID looked for per pass
API = "GetSmsSentData_V2"


@dataclass(frozen=True)
class _Lost:
    id: int
    phone: str | None
    oa_id: str | None
    campaign_id: str | None
    request_id: str | None
    status: str
    start: datetime
    end: datetime


def _due(engine: Engine, now: datetime, after: float) -> list[_Lost]:
    """The messages to look for, marked as asked (``reconciled_at``), each with its window: from its
    first send attempt (a message may wait queued long before it) to its acceptance."""
    cutoff = now - timedelta(seconds=after)
    first_send = (
        select(func.min(Event.created_at)).where(Event.message_id == Message.id, Event.kind == "send").scalar_subquery()
    )
    query = (
        select(
            Message.id,
            Message.phone,
            Message.oa_id,
            Message.campaign_id,
            Message.request_id,
            Message.status,
            Message.created_at,
            Message.sent_at,
            Message.updated_at,
            first_send.label("first_send"),
        )
        .where(
            Message.status.in_(OPEN),
            Message.smsid.is_(None),
            Message.sandbox.is_(False),
            Message.updated_at < cutoff,
            or_(Message.reconciled_at.is_(None), Message.reconciled_at < cutoff),
        )
        .order_by(Message.updated_at)
        .limit(LIMIT)
    )
    with engine.begin() as conn:
        rows = list(conn.execute(query))
        if rows:
            conn.execute(update(Message).where(Message.id.in_([r.id for r in rows])).values(reconciled_at=now))
    return [
        _Lost(
            r.id,
            r.phone,
            r.oa_id,
            r.campaign_id,
            r.request_id,
            r.status,
            (r.first_send or r.created_at) - SLACK,
            (r.sent_at or r.updated_at) + SLACK,
        )
        for r in rows
    ]


def _windows(lost: list[_Lost]) -> list[tuple[datetime, datetime]]:
    """The messages' windows, overlapping ones merged, so each send is listed once."""
    merged: list[tuple[datetime, datetime]] = []
    for m in sorted(lost, key=lambda m: m.start):
        if merged and m.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], m.end))
        else:
            merged.append((m.start, m.end))
    return merged


def _listed(client: EsmsClient, lost: list[_Lost], count: Callable[[str], None]) -> list[lookups.SentRecord]:
    records: dict[str, lookups.SentRecord] = {}
    for start, end in _windows(lost):
        for sms_type in SMS_TYPES:
            for page in range(1, MAX_PAGES + 1):
                count("recovery_query")
                found = lookups.get_sms_sent_data(client, sms_type, start, end, page=page)
                for r in found.records:
                    records.setdefault(r.smsid, r)
                if not found.ok or page * lookups.SENT_DATA_PAGE_SIZE >= found.total:
                    break
    return list(records.values())


def _unclaimed(engine: Engine, records: list[lookups.SentRecord]) -> list[lookups.SentRecord]:
    """The sends no message of ours holds the SMSID of."""
    known: set[str] = set()
    smsids = [r.smsid for r in records]
    with engine.connect() as conn:
        for i in range(0, len(smsids), 500):
            known.update(conn.scalars(select(Message.smsid).where(Message.smsid.in_(smsids[i : i + 500]))))
    return [r for r in records if r.smsid not in known]


def _fits(m: _Lost, r: lookups.SentRecord) -> bool:
    if m.phone is None or r.phone != to_esms(m.phone):
        return False
    if m.campaign_id and r.campaign != m.campaign_id:
        return False
    return r.sent_at is None or m.start <= r.sent_at <= m.end


def _request_ids(
    client: EsmsClient,
    lost: list[_Lost],
    options: dict[int, list[lookups.SentRecord]],
    acquire: Callable[[], object],
    count: Callable[[str], None],
) -> dict[str, str | None]:
    """GetCallback's RequestId of every candidate send, per OA (None where eSMS keeps none)."""
    by_oa: dict[str, set[str]] = defaultdict(set)
    for m in lost:
        if m.oa_id:
            by_oa[m.oa_id].update(r.smsid for r in options.get(m.id, []))
    out: dict[str, str | None] = {}
    for oa_id, smsids in by_oa.items():
        ordered = sorted(smsids)
        for i in range(0, len(ordered), MAX_CALLBACK_IDS):
            acquire()
            count("recovery_query")
            result = client.get_callbacks(ordered[i : i + MAX_CALLBACK_IDS], oa_id)
            for answer in result.answers if result.ok else []:
                if answer.smsid:
                    request_id = answer.raw.get("RequestId")
                    out[answer.smsid] = str(request_id) if request_id else None
    return out


def _choose(
    lost: list[_Lost], options: dict[int, list[lookups.SentRecord]], request_ids: dict[str, str | None]
) -> dict[int, tuple[str, str]]:
    """Message id -> (SMSID, how it was matched), only where the match is beyond doubt."""
    chosen: dict[int, tuple[str, str]] = {}
    for m in lost:
        named = [r.smsid for r in options.get(m.id, []) if m.request_id and request_ids.get(r.smsid) == m.request_id]
        if len(named) == 1:
            chosen[m.id] = (named[0], "request_id")
    taken = {smsid for smsid, _ in chosen.values()}
    # A send eSMS names another RequestId for is someone else's; of the rest, a send two
    # waiting messages could both be, or a message two sends could be, is left alone.
    free = {
        m.id: [r.smsid for r in options.get(m.id, []) if r.smsid not in taken and not request_ids.get(r.smsid)]
        for m in lost
        if m.id not in chosen
    }
    claims: dict[str, int] = defaultdict(int)
    for smsids in free.values():
        for smsid in smsids:
            claims[smsid] += 1
    for mid, smsids in free.items():
        if len(smsids) == 1 and claims[smsids[0]] == 1:
            chosen[mid] = (smsids[0], "phone and time")
    return chosen


def _store(engine: Engine, m: _Lost, smsid: str, matched_by: str, now: datetime) -> bool:
    """Give the message its SMSID (only if it still has none) and log how it was found.

    ``reconciled_at`` is cleared so the same pass goes on to ask about its status.
    """
    try:
        with engine.begin() as conn:
            moved = conn.execute(
                update(Message)
                .where(Message.id == m.id, Message.smsid.is_(None))
                .values(smsid=smsid, reconciled_at=None)
            ).rowcount
            if moved:
                conn.execute(
                    insert(Event).values(
                        message_id=m.id,
                        kind="reconcile",
                        outcome=st.APPLIED,
                        status=m.status,
                        smsid=smsid,
                        data={"api": API, "reason": "smsid recovered", "matched_by": matched_by},
                        raw=None,
                        created_at=now,
                    )
                )
    except IntegrityError:  # a callback gave the SMSID to a message of its own meanwhile
        return False
    return bool(moved)


def recover_smsids(
    engine: Engine,
    settings: Settings,
    client: EsmsClient,
    now: datetime,
    *,
    after: float,
    acquire: Callable[[], object],
    count: Callable[[str], None] = lambda _: None,
) -> None:
    """Look for the SMSIDs of open messages that have none.

    ``acquire`` paces GetCallback (the reconciler's 20/s bucket); ``count`` hears
    "recovery_query" for each request and "recovered" for each SMSID stored.
    """
    lost = [m for m in _due(engine, now, after) if m.phone]
    if not lost:
        return
    records = _unclaimed(engine, _listed(client, lost, count))
    options = {m.id: [r for r in records if _fits(m, r)] for m in lost}
    request_ids = _request_ids(client, lost, options, acquire, count) if any(options.values()) else {}
    by_id = {m.id: m for m in lost}
    for mid, (smsid, matched_by) in _choose(lost, options, request_ids).items():
        if _store(engine, by_id[mid], smsid, matched_by, now):
            count("recovered")
