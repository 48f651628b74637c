"""Totals per status, delivery rate and time-to-final percentiles for a time range (/api/stats, the overview)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.db import UTCDateTime, iso, utcnow
from tracker.models import Message

PERCENTILES = (0.5, 0.9, 0.95, 0.99)
DEFAULT_RANGE = timedelta(hours=24)


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or utcnow()
    return since or until - DEFAULT_RANGE, until


def summary(session: Session, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Numbers for messages created in [since, until) (default: the last 24 hours).

    Sandbox messages are counted apart (``sandbox``): eSMS never delivers them, so
    they are not traffic, and the totals and the delivery rate leave them out.
    """
    since, until = _range(since, until)
    in_range = (Message.created_at >= since, Message.created_at < until)
    rows = session.execute(
        select(Message.status, Message.sandbox, func.count()).where(*in_range).group_by(Message.status, Message.sandbox)
    ).all()
    real = {s: 0 for s in st.ALL}
    sandbox = {s: 0 for s in st.ALL}
    for status, is_sandbox, n in rows:
        counts = sandbox if is_sandbox else real
        counts[status] = counts.get(status, 0) + int(n)
    finals = sum(real[s] for s in st.FINAL)
    on_phone = session.execute(
        select(func.count()).where(
            *in_range,
            Message.status == st.DELIVERED,
            Message.sandbox.is_(False),
            Message.delivered_to_phone_at.is_not(None),
        )
    ).scalar_one()
    return {
        "since": iso(since),
        "until": iso(until),
        "total": sum(real.values()),
        "by_status": real,
        "in_flight": sum(real[s] for s in st.IN_FLIGHT),
        "final": finals,
        "delivery_rate": round(real[st.DELIVERED] / finals, 4) if finals else None,
        # Of the delivered, how many Zalo says reached the phone (GetZaloMessageStatus).
        "delivered_to_phone": int(on_phone),
        "sandbox": {"total": sum(sandbox.values()), "by_status": sandbox},
        "time_to_final_seconds": time_to_final(session, since, until),
    }


_PG_PERCENTILES = text(
    """
    SELECT count(*) AS n, percentile_cont(CAST(:ps AS float8[])) WITHIN GROUP (
        ORDER BY extract(epoch FROM final_at - COALESCE(sent_at, created_at))) AS p
    FROM messages
    WHERE created_at >= :since AND created_at < :until AND final_at IS NOT NULL AND NOT sandbox
    """
)

_SQLITE_DURATIONS = text(
    """
    SELECT (julianday(final_at) - julianday(COALESCE(sent_at, created_at))) * 86400.0 AS d
    FROM messages
    WHERE created_at >= :since AND created_at < :until AND final_at IS NOT NULL AND NOT sandbox
    ORDER BY d
    """
)


def time_to_final(session: Session, since: datetime, until: datetime) -> dict[str, Any]:
    """Seconds from acceptance (or creation) to the final status: p50, p90, p95, p99 (sandbox left out)."""
    t = UTCDateTime()
    dialect = session.get_bind().dialect
    bounds = {"since": t.process_bind_param(since, dialect), "until": t.process_bind_param(until, dialect)}
    if dialect.name == "postgresql":
        row = session.execute(_PG_PERCENTILES, {**bounds, "ps": list(PERCENTILES)}).one()
        n, values = row.n, row.p or [None] * len(PERCENTILES)
    else:
        durations = [r.d for r in session.execute(_SQLITE_DURATIONS, bounds)]
        n = len(durations)
        values = [percentile_cont(durations, p) for p in PERCENTILES]
    out: dict[str, Any] = {"count": int(n)}
    for p, v in zip(PERCENTILES, values):
        out[f"p{int(p * 100)}"] = round(float(v), 3) if v is not None else None
    return out


def percentile_cont(sorted_values: list[float], p: float) -> float | None:
    """The ``p`` percentile of ascending values, None for none.

    Linear interpolation between the two nearest ranks, the same definition as
    PostgreSQL's percentile_cont, so both databases give the same answer.
    """
    if not sorted_values:
        return None
    pos = p * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)
