"""How values look on the dashboard: status words, table cells, error codes, JSON; numbers and times via formats.

A cell is a small dict (``t`` text, optional ``href``, ``cls``, ``pre``, ``title``)
rendered the same way by the Jinja macro on first load and by live.js afterwards,
always as text, never as markup. Every word in a cell is already in the reader's
language: live.js adds none of its own. Status words are translated here only; the API
and the JSON keys keep the status words of the contract.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import lazy_pgettext

from tracker import status as st
from tracker.dashboard import reasons

# Re-exported: the pages import every formatter from here.
from tracker.dashboard.formats import duration, money, number, percent, when, when_short  # noqa: F401
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
# Lazy: translated when shown, in the language of the request showing them.
GROUP_LABELS = {
    "queued": lazy_pgettext("status group", "Queued"),
    "in_flight": lazy_pgettext("status group", "In flight"),
    "delivered": lazy_pgettext("status group", "Delivered"),
    "failed": lazy_pgettext("status group", "Failed"),
    "rejected": lazy_pgettext("status group", "Rejected"),
}
GROUP_OF = {s: g for g, members in GROUPS.items() for s in members}
STATUS_LABELS = {
    st.QUEUED: lazy_pgettext("status", "queued"),
    st.SENDING: lazy_pgettext("status", "sending"),
    st.ACCEPTED: lazy_pgettext("status", "accepted"),
    st.PENDING_APPROVAL: lazy_pgettext("status", "pending approval"),
    st.WAITING: lazy_pgettext("status", "waiting"),
    st.SENT: lazy_pgettext("status", "sent"),
    st.DELIVERED: lazy_pgettext("status", "delivered"),
    st.FAILED: lazy_pgettext("status", "failed"),
    st.REJECTED: lazy_pgettext("status", "rejected"),
}
# What a callback or a status answer did to its message (events.outcome).
OUTCOME_LABELS = {
    "applied": lazy_pgettext("outcome", "applied"),
    "duplicate": lazy_pgettext("outcome", "duplicate"),
    "stale": lazy_pgettext("outcome", "stale"),
    "conflict": lazy_pgettext("outcome", "conflict"),
    "invalid": lazy_pgettext("outcome", "invalid"),
}
KIND_LABELS = {
    "send": lazy_pgettext("event", "send attempt"),
    "callback": lazy_pgettext("event", "callback"),
    "reconcile": lazy_pgettext("event", "status query"),
}
SOURCE_LABELS = {
    "api": lazy_pgettext("source", "API"),
    "cli": lazy_pgettext("source", "command line"),
    "csv": lazy_pgettext("source", "CSV file"),
    "external": lazy_pgettext("source", "sent elsewhere"),
}


def cell(
    text: Any, href: str | None = None, cls: str | None = None, *, pre: bool = False, title: str | None = None
) -> Cell:
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


def outcome_cell(outcome: str) -> Cell:
    return cell(OUTCOME_LABELS.get(outcome, outcome), cls=f"badge o-{outcome}")


def label(labels: dict[str, Any], word: str | None) -> str:
    """A stored word (kind, source, ...) in the reader's language; unknown words as they are."""
    return "" if word is None else str(labels.get(word, word))


def error_text(code: str | None, message: str | None = None) -> str:
    """A code with its meaning in words, plus what eSMS or Zalo said when that adds something."""
    if not code:
        return ""
    meaning = reasons.meaning(code)
    text = f"{code}: {meaning}"
    # Leaves out a message that only repeats the meaning (in English, when the tracker wrote it).
    if message and message not in (meaning, codes.describe(code)):
        text += f" ({message})"
    return text


def pretty_json(value: Any, *, skip_empty: bool = False) -> str:
    """Indented JSON; ``skip_empty`` leaves out a mapping's empty fields, which only add noise."""
    if skip_empty and isinstance(value, dict):
        value = {k: v for k, v in value.items() if v not in (None, "", [], {})}
    if value in (None, {}, []):
        return ""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)
