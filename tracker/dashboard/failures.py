"""The overview's failures: the top error codes with their meaning and class, and the failures of the
range grouped by class (tracker/esms/codes.py) with what to do about each class.

Both come from one grouped query over the range's failed and rejected messages, which the
(status, created_at) index finds; the codes are few, so every one is read and the classes
add up exactly, while the code table shows the most frequent TOP_ROWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.dashboard import reasons
from tracker.dashboard.present import Cell, cell, number, percent
from tracker.dashboard.ranges import Range
from tracker.esms import code_table, codes
from tracker.models import Message

LinkFor = Callable[..., str]
TOP_ROWS = 10
# The failure classes in the order a person acts on them; "ok" is no failure.
CLASS_ORDER = (
    code_table.ACCOUNT,
    code_table.OA,
    code_table.TEMPLATE,
    code_table.RETRY_LATER,
    code_table.UNREACHABLE,
    code_table.FINAL,
    code_table.UNKNOWN,
)
# retry_later's advice depends on the code (when); for the class as a whole:
RETRY_LATER_SUMMARY = lazy_gettext(
    "A passing condition (Zalo's night window, a daily quota, eSMS unreachable …): send these again later; "
    "each code's advice says when. The message page has a resend button."
)


def _codes(session: Session, rng: Range) -> list[tuple[str | None, int, str | None]]:
    """(error_code, messages, one error_message) of every code among the range's failures, most first."""
    n = func.count().label("n")
    rows = session.execute(
        select(Message.error_code, n, func.max(Message.error_message))
        .where(
            Message.status.in_((st.FAILED, st.REJECTED)),
            Message.created_at >= rng.since,
            Message.created_at < rng.until,
        )
        .group_by(Message.error_code)
        .order_by(n.desc(), Message.error_code)
    ).all()
    return [(code, int(count), example) for code, count, example in rows]


def tables(session: Session, rng: Range, link: LinkFor, span: dict[str, str]) -> dict[str, list[list[Cell]]]:
    """``failures`` (the top codes) and ``failure-classes`` (every failure, by class)."""
    rows = _codes(session, rng)
    failed = sum(count for _code, count, _example in rows)
    return {"failures": code_rows(rows[:TOP_ROWS], failed, link, span), "failure-classes": class_rows(rows, failed)}


def code_rows(
    rows: list[tuple[str | None, int, str | None]], failed: int, link: LinkFor, span: dict[str, str]
) -> list[list[Cell]]:
    out = []
    for code, count, example in rows:
        meaning = reasons.meaning(code) if code else _("No code")
        cls = reasons.reason_class(code) or code_table.UNKNOWN
        out.append(
            [
                cell(code or _("none"), link(code=code or "", **span)),
                cell(meaning),
                cell(reasons.class_label(cls), cls=f"class-tag c-{cls}"),
                cell(number(count), cls="num"),
                cell(percent(count, failed), cls="num"),
                cell(example if example and example not in (meaning, codes.describe(code)) else ""),
                cell(reasons.advice(code) or reasons.advice("unknown"), cls="advice"),
            ]
        )
    return out


def class_rows(rows: list[tuple[str | None, int, str | None]], failed: int) -> list[list[Cell]]:
    """One row per class with failures: its name, messages, share, the codes seen, what to do."""
    per_class: dict[str, int] = {}
    seen: dict[str, list[str]] = {}
    for code, count, _example in rows:
        cls = reasons.reason_class(code) or code_table.UNKNOWN
        per_class[cls] = per_class.get(cls, 0) + count
        seen.setdefault(cls, []).append(code or _("none"))
    ranked = sorted(per_class, key=lambda c: (-per_class[c], CLASS_ORDER.index(c) if c in CLASS_ORDER else 99))
    return [
        [
            cell(reasons.class_label(cls), cls=f"class-tag c-{cls}"),
            cell(number(per_class[cls]), cls="num"),
            cell(percent(per_class[cls], failed), cls="num"),
            cell(", ".join(seen[cls][:TOP_ROWS]) + (" …" if len(seen[cls]) > TOP_ROWS else "")),
            cell(str(RETRY_LATER_SUMMARY) if cls == code_table.RETRY_LATER else str(reasons.ADVICE[cls]), cls="advice"),
        ]
        for cls in ranked
    ]


def phone_share(delivered: int, on_phone: int) -> dict[str, Any]:
    """The overview's "reached the phone" text: of the delivered ZNS messages, how many Zalo says
    were put on the recipient's phone (``delivered_to_phone_at``, from GetZaloMessageStatus)."""
    return {
        "phone-rate": percent(on_phone, delivered),
        "phone-note": _(
            "%(on_phone)s of %(delivered)s delivered messages reached the phone",
            on_phone=number(on_phone),
            delivered=number(delivered),
        ),
    }
