"""The message list: filters from the query string, keyset pages, and opaque phone-search tokens.

A phone number never travels in a GET URL (proxies and access logs keep those):
the search form is POSTed, the number is kept in the signed session under an
HMAC of it, and the list's URL carries only that token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.orm import Session

from tracker import phones
from tracker import status as st
from tracker.models import Message
from tracker.dashboard.present import GROUP_LABELS, GROUPS, STATUS_LABELS
from tracker.dashboard.ranges import parse_time

# Query argument -> column, for the plain equality filters.
COLUMNS: dict[str, Any] = {
    "template": Message.template_id,
    "oa": Message.oa_id,
    "campaign": Message.campaign_id,
    "order": Message.order_id,
    "smsid": Message.smsid,
    "code": Message.error_code,
}
TEXT_ARGS = (*COLUMNS, "status", "since", "until", "batch")
# A CSV upload's id (bulk.batch_id); its messages' request ids are csv-<batch>-<line>.
_BATCH = re.compile(r"[0-9a-f]{24}")
STATUS_CHOICES: list[tuple[str, str]] = (
    [(g, f"{GROUP_LABELS[g]} (all)") for g in ("in_flight",)]
    + [(s, STATUS_LABELS[s]) for s in st.ALL]
)
MAX_SAVED_SEARCHES = 20
MAX_ARG_CHARS = 254


@dataclass(frozen=True)
class Filters:
    values: dict[str, str] = field(default_factory=dict)
    phone: str | None = None
    phone_token: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    errors: tuple[str, ...] = ()

    def args(self) -> dict[str, str]:
        """Query arguments that name these filters again (the phone only as its token)."""
        out = {k: v for k, v in self.values.items() if v}
        if self.phone_token:
            out["pq"] = self.phone_token
        return out

    @property
    def active(self) -> bool:
        return bool(self.args())


def phone_token(secret: str, phone: str) -> str:
    mac = hmac.new(secret.encode(), b"phone-search:" + phone.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:15]).decode()


def remember_phone(saved: dict[str, str], secret: str, phone: str) -> tuple[str, dict[str, str]]:
    """Keep ``phone`` under its token among the session's recent searches; returns (token, saved)."""
    token = phone_token(secret, phone)
    kept = {k: v for k, v in saved.items() if k != token}
    kept[token] = phone
    return token, dict(list(kept.items())[-MAX_SAVED_SEARCHES:])


def from_args(args: Mapping[str, str], saved_phones: Mapping[str, str]) -> Filters:
    values = {k: (args.get(k) or "").strip()[:MAX_ARG_CHARS] for k in TEXT_ARGS}
    errors: list[str] = []
    status = values["status"]
    if status and status not in st.ALL and status not in GROUPS:
        errors.append(f"Unknown status {status!r}.")
        values["status"] = ""
    if values["batch"] and not _BATCH.fullmatch(values["batch"]):
        errors.append("Unknown upload id.")
        values["batch"] = ""
    times: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        try:
            times[name] = parse_time(values[name])
        except ValueError:
            errors.append(f"The {'start' if name == 'since' else 'end'} time could not be read.")
            values[name], times[name] = "", None
    token = (args.get("pq") or "").strip() or None
    phone = saved_phones.get(token) if token else None
    if token and phone is None:
        errors.append("This phone search has expired (it lives in your session); search again.")
    return Filters(values, phone, token, times["since"], times["until"], tuple(errors))


def from_form(form: Mapping[str, str], secret: str, saved: dict[str, str]) -> tuple[dict[str, str], dict[str, str], str | None]:
    """The POSTed search form as (query args, saved phones, error)."""
    args = {k: (form.get(k) or "").strip()[:MAX_ARG_CHARS] for k in TEXT_ARGS}
    args = {k: v for k, v in args.items() if v}
    raw_phone = (form.get("phone") or "").strip()
    if not raw_phone:
        return args, saved, None
    try:
        phone = phones.normalize(raw_phone)
    except ValueError as exc:
        return args, saved, f"Phone: {exc}."
    token, saved = remember_phone(saved, secret, phone)
    args["pq"] = token
    return args, saved, None


def conditions(f: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for name, column in COLUMNS.items():
        if f.values.get(name):
            where.append(column == f.values[name])
    status = f.values.get("status")
    if status:
        where.append(Message.status.in_(GROUPS.get(status, (status,))))
    if f.values.get("batch"):
        where.append(Message.request_id.like(f"csv-{f.values['batch']}-%"))
    if f.since:
        where.append(Message.created_at >= f.since)
    if f.until:
        where.append(Message.created_at < f.until)
    if f.phone:
        where.append(Message.phone == f.phone)
    elif f.phone_token:
        where.append(false())  # an expired phone search must not widen into "every phone"
    return where


@dataclass(frozen=True)
class Page:
    rows: list[Message]
    older: int | None  # pass as ?before= for the next (older) page
    newer: int | None  # pass as ?after= for the previous (newer) page
    first: bool


def page(session: Session, f: Filters, size: int, before: int | None = None,
         after: int | None = None) -> Page:
    """Newest first by id (ids grow with time): each page is an index range, at any depth."""
    base: Select = select(Message).where(*conditions(f))
    if after is not None:
        rows = list(session.scalars(base.where(Message.id > after).order_by(Message.id).limit(size + 1)))
        has_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_older = _exists(session, f, Message.id < (rows[-1].id if rows else after + 1))
    else:
        q = base.order_by(Message.id.desc())
        if before is not None:
            q = q.where(Message.id < before)
        rows = list(session.scalars(q.limit(size + 1)))
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = before is not None and _exists(session, f, Message.id >= (rows[0].id + 1 if rows else before))
    return Page(
        rows=rows,
        older=rows[-1].id if rows and has_older else None,
        newer=rows[0].id if rows and has_newer else None,
        # A cursor that lands past either end still offers the way back to the newest page.
        first=(before is None and after is None) or (bool(rows) and not has_newer),
    )


def _exists(session: Session, f: Filters, extra: ColumnElement[bool]) -> bool:
    return session.scalar(select(Message.id).where(*conditions(f), extra).limit(1)) is not None


def int_arg(args: Mapping[str, str], name: str) -> int | None:
    raw = args.get(name) or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else None
