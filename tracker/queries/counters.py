"""Exact per-day, per-status message counts kept by database triggers, and range reads over them.

The migration that creates ``daily_counts`` also installs triggers on ``messages``
(INSERT, UPDATE of status/price/created_at, DELETE, and TRUNCATE on PostgreSQL),
so every write path keeps the counters exact in its own transaction without any
Python code on the hot path. Reads combine whole days from the counters with
bounded, indexed counts for the partial days at a range's edges. The table is
``tracker.models.DailyCount``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.models import DailyCount, Message

SHARDS = 8
DAY = timedelta(days=1)
# A partial day is counted directly when it is at most this long, else as the
# day's counter minus the rest of the day: at most half a day of rows is read.
_HALF_DAY = timedelta(hours=12)


@dataclass
class Tally:
    """Messages and money for one status (or a group of them)."""

    n: int = 0
    price: Decimal = Decimal(0)

    def add(self, n: int, price: Decimal | float | None, sign: int = 1) -> None:
        self.n += sign * int(n or 0)
        self.price += sign * _dec(price)


def _dec(value: Decimal | float | int | None) -> Decimal:
    # SQLite keeps the summed price as a float; four decimals is the column's scale.
    return Decimal(str(value or 0)).quantize(Decimal("0.0001"))


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def stored(session: Session, first: date, last: date) -> dict[date, dict[str, Tally]]:
    """Counter totals per day and status for days first..last (inclusive)."""
    rows = session.execute(
        select(DailyCount.day, DailyCount.status, func.sum(DailyCount.n), func.sum(DailyCount.price))
        .where(DailyCount.day >= first, DailyCount.day <= last)
        .group_by(DailyCount.day, DailyCount.status)
    )
    out: dict[date, dict[str, Tally]] = {}
    for day, status, n, price in rows:
        out.setdefault(day, {}).setdefault(status, Tally()).add(n, price)
    return out


def scanned(session: Session, since: datetime, until: datetime) -> dict[str, Tally]:
    """Counts and price per status of messages created in [since, until), read from the rows.

    ``status IN (every status)`` lets PostgreSQL walk the (status, created_at)
    index once per status instead of the whole table.
    """
    out = {s: Tally() for s in st.ALL}
    if until <= since:
        return out
    rows = session.execute(
        select(Message.status, func.count(), func.sum(Message.price))
        .where(Message.status.in_(st.ALL), Message.created_at >= since, Message.created_at < until)
        .group_by(Message.status)
    )
    for status, n, price in rows:
        out.setdefault(status, Tally()).add(n, price)
    return out


def per_day(session: Session, since: datetime, until: datetime) -> dict[date, dict[str, Tally]]:
    """Exact counts per UTC day and status for messages created in [since, until)."""
    if until <= since:
        return {}
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    counters = stored(session, first, last)
    out: dict[date, dict[str, Tally]] = {}
    day = first
    while day <= last:
        start, end = day_start(day), day_start(day) + DAY
        lo, hi = max(start, since), min(end, until)
        whole = counters.get(day, {})
        if (lo, hi) == (start, end):
            tallies = {s: whole.get(s, Tally()) for s in st.ALL}
        elif hi - lo <= _HALF_DAY:
            tallies = scanned(session, lo, hi)
        else:
            tallies = {s: Tally() for s in st.ALL}
            for s, t in whole.items():
                tallies.setdefault(s, Tally()).add(t.n, t.price)
            for part in (scanned(session, start, lo), scanned(session, hi, end)):
                for s, t in part.items():
                    tallies.setdefault(s, Tally()).add(t.n, t.price, sign=-1)
        out[day] = tallies
        day += DAY
    return out


def totals(session: Session, since: datetime, until: datetime) -> dict[str, Tally]:
    """Exact counts and price per status for real (not sandbox) messages created in [since, until).

    The counters hold every message; the sandbox ones, which eSMS never delivers
    and which would only lower the delivery rate, are read from their own rows and
    taken out (see :func:`sandbox_totals`).
    """
    out = {s: Tally() for s in st.ALL}
    for tallies in per_day(session, since, until).values():
        for s, t in tallies.items():
            out.setdefault(s, Tally()).add(t.n, t.price)
    for s, t in sandbox_totals(session, since, until).items():
        out.setdefault(s, Tally()).add(t.n, t.price, sign=-1)
    return out


def sandbox_totals(session: Session, since: datetime, until: datetime) -> dict[str, Tally]:
    """Counts and price per status of sandbox messages created in [since, until).

    Read from the rows through the partial index ``ix_messages_sandbox``: sandbox
    sends are test traffic, few beside the real ones.
    """
    out = {s: Tally() for s in st.ALL}
    if until <= since:
        return out
    rows = session.execute(
        select(Message.status, func.count(), func.sum(Message.price))
        .where(Message.sandbox, Message.created_at >= since, Message.created_at < until)
        .group_by(Message.status)
    )
    for status, n, price in rows:
        out.setdefault(status, Tally()).add(n, price)
    return out


def recount(session: Session) -> dict[tuple[date, str], Tally]:
    """Every counter recomputed from the messages table (slow; for checks and repairs)."""
    out: dict[tuple[date, str], Tally] = {}
    rows = session.execute(select(Message.created_at, Message.status, Message.price))
    for created_at, status, price in rows:
        out.setdefault((created_at.date(), status), Tally()).add(1, price)
    return out


def snapshot(session: Session) -> dict[tuple[date, str], Tally]:
    """Every non-zero counter as stored, summed over shards."""
    rows = session.execute(
        select(DailyCount.day, DailyCount.status, func.sum(DailyCount.n), func.sum(DailyCount.price)).group_by(
            DailyCount.day, DailyCount.status
        )
    )
    out: dict[tuple[date, str], Tally] = {}
    for day, status, n, price in rows:
        tally = Tally()
        tally.add(n, price)
        if tally.n or tally.price:
            out[(day, status)] = tally
    return out
