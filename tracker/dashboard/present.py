"""How values look on the dashboard: numbers, money, times, durations, status badges, table cells.

A cell is a small dict (``t`` text, optional ``href``, ``cls``, ``pre``, ``title``)
rendered the same way by the Jinja macro on first load and by live.js afterwards,
always as text, never as markup.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from tracker import status as st
from tracker.esms import codes

Cell = dict[str, Any]

# The five groups the overview counts and the chart stacks, in stacking order.
GROUPS: dict[str, tuple[str, ...]] = {
    "delivered": (st.DELIVERED,),
    "failed": (st.FAILED,),
    "rejected": (st.REJECTED,),
    "in_flight": (st.SENDING, st.ACCEPTED, st.PENDING_APPROVAL, st.WAITING, st.SENT),
    "queued": (st.QUEUED,),
}
GROUP_LABELS = {"queued": "Queued", "in_flight": "In flight", "delivered": "Delivered",
                "failed": "Failed", "rejected": "Rejected"}
GROUP_OF = {s: g for g, members in GROUPS.items() for s in members}
STATUS_LABELS = {s: s.replace("_", " ") for s in st.ALL}


def cell(text: Any, href: str | None = None, cls: str | None = None, *, pre: bool = False,
         title: str | None = None) -> Cell:
    out: Cell = {"t": "" if text is None else str(text)}
    if href:
        out["href"] = href
    if cls:
        out["cls"] = cls
    if pre:
        out["pre"] = True
    if title:
        out["title"] = title
    return out


def status_cell(status: str | None) -> Cell:
    if not status:
        return cell("—")
    return cell(STATUS_LABELS.get(status, status), cls=f"badge s-{GROUP_OF.get(status, 'other')}")


def number(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def percent(part: int, whole: int) -> str:
    return "—" if not whole else f"{100 * part / whole:.1f} %"


def money(value: Decimal | float | int | None) -> str:
    """Prices as eSMS charges them, in đồng."""
    if value is None:
        return "—"
    value = Decimal(str(value))
    return f"{value:,.0f} ₫" if value == value.to_integral_value() else f"{value:,.2f} ₫"


def when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def when_short(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%m-%d %H:%M:%S}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


def error_text(code: str | None, message: str | None = None) -> str:
    """A code with its meaning in words, plus what eSMS or Zalo said when that adds something."""
    if not code:
        return ""
    meaning = codes.describe(code)
    text = f"{code}: {meaning}"
    if message and message != meaning:
        text += f" ({message})"
    return text


def pretty_json(value: Any, *, skip_empty: bool = False) -> str:
    """Indented JSON; ``skip_empty`` leaves out a mapping's empty fields, which only add noise."""
    if skip_empty and isinstance(value, dict):
        value = {k: v for k, v in value.items() if v not in (None, "", [], {})}
    if value in (None, {}, []):
        return ""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)
