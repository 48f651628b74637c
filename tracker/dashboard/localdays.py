"""Exact message counts per local day (TRACKER_TIMEZONE) for the daily chart, from the UTC-day counters.

``daily_counts`` keeps one row per UTC day and status; a local day straddles two UTC days.
The range is cut at every UTC and every local midnight, so each piece lies in one UTC day
and one local day. In each UTC day at most one piece is derived from that day's counter
(the counter minus the other pieces of the day, even the parts outside the range); every
other piece is counted from the rows. Deriving the longest piece keeps the rows read to the
short side of the zone's offset: in Asia/Ho_Chi_Minh, 7 hours of every 24. Counting only
(the chart needs no prices) lets PostgreSQL answer from the (status, created_at) index alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.models import Message
from tracker.queries import counters

DAY = timedelta(days=1)
Piece = tuple[datetime, datetime]


def local_midnights(since: datetime, until: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every local midnight in (since, until), as UTC instants, DST included."""
    out = []
    day = since.astimezone(zone).date() + DAY
    while True:
        start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        if start >= until:
            return out
        if start > since:
            out.append(start)
        day += DAY


def counted(session: Session, since: datetime, until: datetime) -> Counter[str]:
    """Messages per status created in [since, until), from the rows."""
    if until <= since:
        return Counter()
    rows = session.execute(
        select(Message.status, func.count())
        .where(Message.status.in_(st.ALL), Message.created_at >= since, Message.created_at < until)
        .group_by(Message.status)
    )
    return Counter({status: n for status, n in rows})


def per_local_day(
    session: Session, since: datetime, until: datetime, zone: ZoneInfo
) -> list[tuple[datetime, Counter[str]]]:
    """(start, messages per status) for each local day that [since, until) touches, in order.

    The first day starts at ``since`` when the range does not begin at a local midnight.
    """
    if until <= since:
        return []
    starts = [since, *local_midnights(since, until, zone)]
    first_utc, last_utc = since.date(), (until - timedelta(microseconds=1)).date()
    stored = counters.stored(session, first_utc, last_utc)
    out: dict[datetime, Counter[str]] = {start: Counter() for start in starts}
    day = first_utc
    while day <= last_utc:
        whole = Counter({s: t.n for s, t in stored.get(day, {}).items()})
        for piece, n in _utc_day(session, day, since, until, starts, whole).items():
            out[max(s for s in starts if s <= piece[0])].update(n)
        day += DAY
    return list(out.items())


def _utc_day(
    session: Session, day: date, since: datetime, until: datetime, starts: list[datetime], whole: Counter[str]
) -> dict[Piece, Counter[str]]:
    """Counts of each piece of one UTC day that lies inside the range."""
    begin = counters.day_start(day)
    cuts = sorted({begin, begin + DAY, *(t for t in (since, until, *starts) if begin < t < begin + DAY)})
    pieces = list(zip(cuts, cuts[1:]))
    inside = [p for p in pieces if since <= p[0] and p[1] <= until]
    outside = [p for p in pieces if p not in inside]
    longest = max(inside, key=lambda p: p[1] - p[0])
    # Counting every other piece (those outside the range too) beats counting the inside
    # pieces only when the longest inside piece is longer than all the outside ones together.
    derive = sum((b - a for a, b in outside), timedelta()) < longest[1] - longest[0]
    to_count = [p for p in inside if not (derive and p == longest)] + (outside if derive else [])
    found = {p: counted(session, *p) for p in to_count}
    if derive:
        rest = whole.copy()
        for n in found.values():
            rest.subtract(n)
        found[longest] = rest
    return {p: found[p] for p in inside}
