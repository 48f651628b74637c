"""The overview's numbers for a range: counters for counts and money, bounded queries for the rest.

Everything is text in the reader's language; the chart's buckets are hours and days on the
tracker's clock (TRACKER_TIMEZONE), not UTC's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.dashboard import chart, failures, formats, localdays
from tracker.dashboard.present import GROUP_OF, GROUPS, cell, duration, money, number, percent, when
from tracker.dashboard.ranges import Range
from tracker.db import UTCDateTime
from tracker.models import Message
from tracker.queries import counters, stats

LinkFor = Callable[..., str]
TOP_ROWS = 10
MAX_DAY_BARS = 120
DETAILS_INLINE = timedelta(days=2)
_FINAL = (st.DELIVERED, st.FAILED, st.REJECTED)
_ALL_IN = ", ".join(f"'{s}'" for s in st.ALL)  # our own constants, never user input

# Messages per sub-day bucket; the (status, created_at) index is walked once per status.
_BUCKETS_SQL = {
    "postgresql": "CAST(floor(extract(epoch FROM created_at - :origin) / :step) AS integer)",
    "sqlite": "CAST(((julianday(created_at) - julianday(:origin)) * 86400.0 + 0.001) / :step AS INTEGER)",
}


def inline_details(rng: Range) -> bool:
    """Whether the overview computes its details (times, reasons, breakdowns) in the page itself.

    They need the range's rows, not just the counters. Up to two days that is a
    few tens of thousands of rows at most; longer ranges load them separately
    (and refresh them less often), so the counts still arrive at once.
    """
    return rng.until - rng.since <= DETAILS_INLINE


def build(session: Session, rng: Range, link: LinkFor) -> dict[str, Any]:
    """What the overview shows, as text, table cells and chart geometry."""
    tallies = counters.totals(session, rng.since, rng.until)
    by_group = {g: sum(tallies[s].n for s in members) for g, members in GROUPS.items()}
    total = sum(by_group.values())
    finals = sum(tallies[s].n for s in _FINAL)
    spent = sum((t.price for t in tallies.values()), Decimal(0))
    txt: dict[str, Any] = {
        "range": rng.label,
        "as-of": when(rng.until - timedelta(microseconds=1)),
        "n-total": number(total),
        "rate": percent(tallies[st.DELIVERED].n, finals),
        "rate-note": ngettext(
            "of %(count)s message with a final status",
            "of %(count)s messages with a final status",
            finals,
            count=number(finals),
        ),
        "money": money(spent),
    }
    for group, n in by_group.items():
        txt[f"n-{group}"] = number(n)
        txt[f"pct-{group}"] = percent(n, total)
    for status in st.ALL:
        txt[f"s-{status}"] = number(tallies[status].n)
    out: dict[str, Any] = {
        "text": txt,
        "chart": _chart(session, rng),
        "tables": {},
        "active": bool(by_group["queued"] or by_group["in_flight"]),
        "pending": not inline_details(rng),
    }
    if inline_details(rng):
        more = details(session, rng, link)
        out["text"].update(more["text"])
        out["tables"].update(more["tables"])
    return out


def details(session: Session, rng: Range, link: LinkFor) -> dict[str, Any]:
    """Time to final, failure reasons and breakdowns: bounded, indexed queries over the range."""
    ttf = stats.time_to_final(session, rng.since, rng.until)
    span = _list_span(rng)
    by_dim, delivered, on_phone = breakdown_tables(session, rng, link, span)
    return {
        "text": {
            **failures.phone_share(delivered, on_phone),
            "p50": duration(ttf.get("p50")),
            "p95": duration(ttf.get("p95")),
            "ttf-note": ngettext(
                "over %(count)s final message",
                "over %(count)s final messages",
                ttf["count"],
                count=number(ttf["count"]),
            ),
        },
        "tables": {**failures.tables(session, rng, link, span), **by_dim},
    }


def _list_span(rng: Range) -> dict[str, str]:
    # Local time, no zone suffix, no fractions: the list reads it as its form's times.
    return {"since": formats.wire(rng.since), "until": formats.wire(rng.until)}


def _chart(session: Session, rng: Range) -> dict[str, Any]:
    span = rng.until - rng.since
    if span > timedelta(days=2):
        return _daily_chart(session, rng)
    step = timedelta(minutes=5) if span <= timedelta(hours=2) else timedelta(hours=1)
    fmt = "MdHm" if span > timedelta(days=1) else "Hm"
    step_s = int(step.total_seconds())
    origin = _local_floor(rng.since, step)
    n = max(1, math.ceil((rng.until - origin) / step))
    rows = session.execute(
        _bucket_query(session), {"origin": origin, "since": rng.since, "until": rng.until, "step": step_s}
    )
    buckets: list[dict[str, int]] = [defaultdict(int) for _ in range(n)]
    for b, status, count in rows:
        buckets[min(max(int(b), 0), n - 1)][GROUP_OF.get(status, "in_flight")] += count
    return chart.build([(origin + i * step, dict(c)) for i, c in enumerate(buckets)], fmt)


def _bucket_query(session: Session):
    dialect = session.get_bind().dialect.name
    expr = _BUCKETS_SQL["postgresql" if dialect == "postgresql" else "sqlite"]
    sql = (
        f"SELECT {expr} AS b, status, count(*) AS n FROM messages "
        f"WHERE status IN ({_ALL_IN}) AND created_at >= :since AND created_at < :until "
        "GROUP BY 1, 2"
    )
    t = UTCDateTime()
    return text(sql).bindparams(bindparam("origin", type_=t), bindparam("since", type_=t), bindparam("until", type_=t))


def _local_floor(moment: datetime, step: timedelta) -> datetime:
    """The bucket ``moment`` falls in, buckets starting on the local clock's whole hours or 5 minutes.

    Counted from local midnight, so a zone half an hour off UTC still gets bars on its own hours.
    """
    here = formats.local(moment)
    wall = here.replace(tzinfo=None)
    midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + (wall - midnight) // step * step
    return start.replace(tzinfo=here.tzinfo).astimezone(UTC)


def _daily_chart(session: Session, rng: Range) -> dict[str, Any]:
    days = localdays.per_local_day(session, rng.since, rng.until, formats.zone())
    per_bar = max(1, math.ceil(len(days) / MAX_DAY_BARS))
    buckets: list[tuple[datetime, dict[str, int]]] = []
    for i in range(0, len(days), per_bar):
        merged: dict[str, int] = defaultdict(int)
        for _start, per_status in days[i : i + per_bar]:
            for status, n in per_status.items():
                merged[GROUP_OF.get(status, "in_flight")] += n
        buckets.append((days[i][0], dict(merged)))
    return chart.build(buckets, "Md")


def breakdown_tables(
    session: Session, rng: Range, link: LinkFor, span: dict[str, str]
) -> tuple[dict[str, list], int, int]:
    """Messages per template, OA and campaign (top rows), from one pass over the range; with them
    the delivered messages and how many of those reached the phone (the same pass counts them)."""
    rows = session.execute(
        select(
            Message.template_id,
            Message.oa_id,
            Message.campaign_id,
            Message.status,
            func.count(),
            func.sum(Message.price),
            func.count(Message.delivered_to_phone_at),
        )
        .where(Message.created_at >= rng.since, Message.created_at < rng.until)
        .group_by(Message.template_id, Message.oa_id, Message.campaign_id, Message.status)
    ).all()
    dims = {"template": 0, "oa": 1, "campaign": 2}
    acc: dict[str, dict[str, dict[str, Any]]] = {d: {} for d in dims}
    delivered = on_phone = 0
    for row in rows:
        status, count, price = row[3], row[4], row[5]
        if status == st.DELIVERED:  # sandbox messages are never delivered: eSMS drops them
            delivered, on_phone = delivered + count, on_phone + row[6]
        for dim, i in dims.items():
            key = row[i] or ""
            a = acc[dim].setdefault(key, {"total": 0, "delivered": 0, "failed": 0, "final": 0, "price": Decimal(0)})
            a["total"] += count
            a["price"] += Decimal(str(price or 0))
            if status == st.DELIVERED:
                a["delivered"] += count
            if status in (st.FAILED, st.REJECTED):
                a["failed"] += count
            if status in _FINAL:
                a["final"] += count
    return {f"by-{dim}": _breakdown_rows(dim, acc[dim], link, span) for dim in dims}, delivered, on_phone


def _breakdown_rows(dim: str, acc: dict[str, dict[str, Any]], link: LinkFor, span: dict[str, str]) -> list[list[dict]]:
    ranked = sorted(acc.items(), key=lambda kv: (-kv[1]["total"], kv[0]))
    out = []
    for key, a in ranked[:TOP_ROWS]:
        out.append(
            [
                cell(key or _("(none)"), link(**{dim: key}, **span) if key else None),
                cell(number(a["total"]), cls="num"),
                cell(number(a["delivered"]), cls="num"),
                cell(number(a["failed"]), cls="num"),
                cell(percent(a["delivered"], a["final"]), cls="num"),
                cell(money(a["price"]), cls="num"),
            ]
        )
    rest = ranked[TOP_ROWS:]
    if rest:
        out.append(
            [
                cell(_("%(n)s more", n=number(len(rest)))),
                cell(number(sum(a["total"] for _key, a in rest)), cls="num"),
                cell(""),
                cell(""),
                cell(""),
                cell(""),
            ]
        )
    return out
