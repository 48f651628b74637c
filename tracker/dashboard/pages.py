"""What the list, message and journey pages show, built once for the HTML and the live JSON.

Words are in the reader's language; ids, codes, SMSIDs and the raw eSMS data stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.engine import Engine

from tracker import status as st
from tracker.dashboard import listing, reasons
from tracker.dashboard.present import (
    KIND_LABELS,
    SOURCE_LABELS,
    Cell,
    cell,
    duration,
    error_text,
    label,
    money,
    number,
    outcome_cell,
    pretty_json,
    status_cell,
    when,
    when_short,
)
from tracker.models import Message
from tracker.queries import lists, lookups
from tracker.sending.resend import RESENDABLE

UrlFor = Callable[..., str]
# A messages or events row (tracker.queries), read by column name.
Row = Any
MAX_JOURNEY_MESSAGES = 500
MAX_JOURNEY_EVENTS = 2000


def message_row(m: Row, url: UrlFor) -> list[Cell]:
    return [
        cell(f"#{m.id}", url("dashboard.message", message_id=m.id)),
        cell(when(m.created_at)),
        status_cell(m.status),
        cell(m.phone or m.recipient or "—"),
        cell(m.template_id or "—"),
        cell(m.order_id or "—", url("dashboard.journey", order_id=m.order_id) if m.order_id else None),
        cell(m.campaign_id or ""),
        cell(m.smsid or ""),
        cell(error_text(m.error_code, m.error_message), cls="err"),
        class_cell(m.error_code),
        cell(money(m.price) if m.price is not None else "", cls="num"),
    ]


def class_cell(code: str | None) -> Cell:
    """A failure's class, with what to do about it as the cell's title ("" without a code)."""
    cls = reasons.reason_class(code)
    if cls is None:
        return cell("")
    return cell(reasons.class_label(cls), cls=f"class-tag c-{cls}", title=reasons.advice(code))


def list_data(
    engine: Engine, f: listing.Filters, size: int, before: int | None, after: int | None, url: UrlFor
) -> dict[str, Any]:
    pg = lists.page(engine, listing.message_filter(f), size, before=before, after=after)
    args = f.args()
    return {
        "page": pg,
        "tables": {"messages": [message_row(m, url) for m in pg.rows]},
        "links": {
            "older": url("dashboard.messages", **args, before=pg.older) if pg.older else None,
            "newer": url("dashboard.messages", **args, after=pg.newer) if pg.newer else None,
        },
        "text": {"shown": _("%(n)s shown", n=number(len(pg.rows))) if pg.rows else _("No messages match.")},
        "active": any(not st.is_final(m.status) for m in pg.rows),
    }


def fields(m: Row) -> dict[str, Any]:
    """Every field of a message, formatted, keyed as the template's data-text names."""
    yes, no = _("yes"), _("no")
    return {
        "status": status_cell(m.status),
        "final": yes if st.is_final(m.status) else no,
        "smsid": m.smsid or "—",
        "phone": m.phone or "—",
        "recipient": m.recipient or "—",
        "template_id": m.template_id or "—",
        "oa_id": m.oa_id or "—",
        "params": pretty_json(list(m.params or [])) or "—",
        "order_id": m.order_id or "—",
        "campaign_id": m.campaign_id or "—",
        "request_id": m.request_id or "—",
        "sandbox": yes if m.sandbox else no,
        "source": label(SOURCE_LABELS, m.source),
        "error_code": m.error_code or "—",
        "error_meaning": error_text(m.error_code) or "—",
        "error_class": reasons.class_label(reasons.reason_class(m.error_code)) or "—",
        "error_advice": reasons.advice(m.error_code) or "—",
        "error_message": m.error_message or "—",
        "price": money(m.price),
        "telco": m.telco or "—",
        "zalo_msg_id": m.zalo_msg_id or "—",
        "attempts": number(m.attempts),
        "created_at": when(m.created_at),
        "sent_at": when(m.sent_at),
        "final_at": when(m.final_at),
        "updated_at": when(m.updated_at),
        "time_to_final": duration((m.final_at - (m.sent_at or m.created_at)).total_seconds()) if m.final_at else "—",
    }


def event_row(e: Row) -> list[Cell]:
    return [
        cell(when(e.created_at)),
        cell(label(KIND_LABELS, e.kind)),
        outcome_cell(e.outcome),
        status_cell(e.status),
        cell(e.smsid or ""),
        cell(error_text(e.error_code, e.error_message), cls="err"),
        cell(pretty_json(e.data, skip_empty=True), pre=True),
        cell(e.raw or "", pre=True),
    ]


def journey_member_row(m: Row, url: UrlFor) -> list[Cell]:
    return [
        cell(f"#{m.id}", url("dashboard.message", message_id=m.id)),
        cell(when(m.created_at)),
        cell(m.template_id or "—"),
        status_cell(m.status),
        cell(when(m.sent_at)),
        cell(when(m.final_at)),
        cell(error_text(m.error_code, m.error_message), cls="err"),
    ]


def message_data(engine: Engine, message_id: int, url: UrlFor) -> dict[str, Any] | None:
    found = lookups.message_and_events(engine, message_id)
    if found is None:
        return None
    m, events = found
    members = lookups.journey(engine, m.order_id, limit=MAX_JOURNEY_MESSAGES) if m.order_id else []
    siblings = [s for s in members if s.id != m.id]
    return {
        "message": m,
        "text": {f"f-{k}": v for k, v in fields(m).items()},
        "tables": {"events": [event_row(e) for e in events], "journey": [journey_member_row(s, url) for s in siblings]},
        "active": not st.is_final(m.status),
        "resend": resend_offer(engine, m),
    }


def resend_offer(engine: Engine, m: Row) -> dict[str, Any]:
    """Whether the message page offers a resend: a failed or rejected message whose class says a
    new attempt can succeed (retry_later, template), not resent yet; ``resent_as`` when it was."""
    if m.status not in RESENDABLE:
        return {"offer": False, "resent_as": None}
    with engine.connect() as conn:  # the unique index on resent_from
        later = conn.scalar(select(Message.id).where(Message.resent_from == m.id))
    fits = reasons.reason_class(m.error_code) in reasons.RESEND_CLASSES
    return {"offer": fits and later is None, "resent_as": later}


def journey_data(engine: Engine, order_id: str, url: UrlFor) -> dict[str, Any] | None:
    members = lookups.journey(engine, order_id, limit=MAX_JOURNEY_MESSAGES)
    if not members:
        return None
    events = lookups.events_by_time(engine, [m.id for m in members], limit=MAX_JOURNEY_EVENTS)
    # One timeline: each message's creation, then every send attempt and callback, by time.
    entries: list[tuple[Any, int, list[Cell]]] = []
    for m in members:
        entries.append(
            (
                m.created_at,
                0,
                [
                    cell(when_short(m.created_at)),
                    cell(f"#{m.id}", url("dashboard.message", message_id=m.id)),
                    cell(
                        _(
                            "stored (%(source)s, template %(template)s)",
                            source=label(SOURCE_LABELS, m.source),
                            template=m.template_id or "—",
                        )
                    ),
                    cell(""),
                    status_cell(st.QUEUED),
                    cell(""),
                ],
            )
        )
    for e in events:
        entries.append(
            (
                e.created_at,
                e.id,
                [
                    cell(when_short(e.created_at)),
                    cell(f"#{e.message_id}", url("dashboard.message", message_id=e.message_id)),
                    cell(label(KIND_LABELS, e.kind)),
                    outcome_cell(e.outcome),
                    status_cell(e.status),
                    cell(error_text(e.error_code, e.error_message), cls="err"),
                ],
            )
        )
    entries.sort(key=lambda x: (x[0], x[1]))
    finals = [m for m in members if st.is_final(m.status)]
    return {
        "messages": members,
        "text": {
            "summary": ngettext(
                "%(count)s message, %(final)s with a final status, %(delivered)s delivered",
                "%(count)s messages, %(final)s with a final status, %(delivered)s delivered",
                len(members),
                count=number(len(members)),
                final=number(len(finals)),
                delivered=number(sum(m.status == st.DELIVERED for m in members)),
            )
        },
        "tables": {
            "members": [journey_member_row(m, url) for m in members],
            "timeline": [row for _, _, row in entries],
        },
        "active": len(finals) < len(members),
    }
