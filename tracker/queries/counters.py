"""Exact per-day, per-status message counts kept by database triggers, and range reads over them.

The migrations install triggers on ``messages`` (INSERT, UPDATE of status/price/created_at,
DELETE, and TRUNCATE on PostgreSQL), so every write path keeps the counts exact in its own
transaction without any Python code on the hot path. On PostgreSQL a status change is only
appended to ``daily_count_changes`` (cheap, and no lock on a shared counter row: issue 14);
the worker's :func:`fold` moves those rows into ``daily_counts`` every second, and every read
here adds the ones not folded yet, so the counts are exact at any moment. Reads combine whole
days from the counters with bounded, indexed counts for the partial days at a range's edges.
The tables are ``tracker.models.DailyCount`` and ``daily_count_changes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.models import DailyCount, Message, daily_count_changes

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


def _counter_rows(first: date | None = None, last: date | None = None):
    """(day, status, n, price) of the counters plus the changes not folded yet, for days first..last."""
    parts = []
    for t in (DailyCount.__table__, daily_count_changes):
        part = select(t.c.day, t.c.status, t.c.n, t.c.price)
        if first is not None:
            part = part.where(t.c.day >= first, t.c.day <= last)
        parts.append(part)
    both = union_all(*parts).subquery()
    return select(both.c.day, both.c.status, func.sum(both.c.n), func.sum(both.c.price)).group_by(
        both.c.day, both.c.status
    )


# Every change not folded yet, into the counters, in one statement: what it deletes is exactly
# what it adds (rows committed meanwhile wait for the next fold). Sorted upserts, so two folds
# at once cannot deadlock.
_FOLD = text(
    """
    WITH moved AS (DELETE FROM daily_count_changes RETURNING day, status, shard, n, price)
    INSERT INTO daily_counts AS c (day, status, shard, n, price)
    SELECT day, status, shard, sum(n), sum(price) FROM moved GROUP BY day, status, shard
    ORDER BY day, status, shard
    ON CONFLICT (day, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n, price = c.price + EXCLUDED.price
    """
)


def fold(engine: Engine) -> int:
    """Move the logged status changes into ``daily_counts`` (PostgreSQL); the counter rows touched."""
    if engine.dialect.name != "postgresql":
        return 0  # SQLite's triggers write the counters directly
    with engine.begin() as conn:
        return conn.execute(_FOLD).rowcount or 0


def stored(session: Session, first: date, last: date) -> dict[date, dict[str, Tally]]:
    """Counter totals per day and status for days first..last (inclusive), unfolded changes included."""
    rows = session.execute(_counter_rows(first, last))
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
    """Every non-zero counter as stored (unfolded changes included), summed over shards."""
    rows = session.execute(_counter_rows())
    out: dict[tuple[date, str], Tally] = {}
    for day, status, n, price in rows:
        tally = Tally()
        tally.add(n, price)
        if tally.n or tally.price:
            out[(day, status)] = tally
    return out
