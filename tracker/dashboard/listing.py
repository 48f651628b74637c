"""The message list's filters: from the query string and the search form, with opaque phone-search tokens.

A phone number never travels in a GET URL (proxies and access logs keep those):
the search form is POSTed, the number is kept under an HMAC of it, and the list's URL
carries only that token. The number is kept in the database (``phone_searches``), never
in the session cookie, which is signed but readable and sent with every request
(issue 12); the cookie holds only a random searcher id, without which a token finds
nothing, so a list URL passed on does not carry the search to anyone else. Times typed into the
filters are local (TRACKER_TIMEZONE), like every time the dashboard shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import session
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from tracker import keys, phones
from tracker import status as st
from tracker.dashboard.present import GROUP_LABELS, GROUPS, STATUS_LABELS
from tracker.dashboard.problems import translate as translate_problem
from tracker.dashboard.ranges import parse_time
from tracker.db import utcnow
from tracker.models import PhoneSearch
from tracker.queries.lists import MessageFilter

# Query argument -> column, for the plain equality filters.
COLUMNS: dict[str, str] = {
    "template": "template_id",
    "oa": "oa_id",
    "campaign": "campaign_id",
    "order": "order_id",
    "smsid": "smsid",
    "code": "error_code",
}
TEXT_ARGS = (*COLUMNS, "status", "since", "until", "batch")
# A CSV upload's id (bulk.batch_id); its messages' request ids are csv-<batch>-<line>.
_BATCH = re.compile(r"[0-9a-f]{24}")
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


def status_choices() -> list[tuple[str, Any]]:
    """The status filter's options, in the request's language."""
    return [(g, _("%(group)s (all)", group=GROUP_LABELS[g])) for g in ("in_flight",)] + [
        (s, STATUS_LABELS[s]) for s in st.ALL
    ]


def phone_token(secret: str, phone: str) -> str:
    # A key for this purpose alone: search tokens show in URLs, and must say nothing of other keys.
    key = keys.derive(secret, keys.PHONE_SEARCH)
    mac = hmac.new(key, b"phone-search:" + phone.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:15]).decode()


# As long as the longest session: a search outlives no sign-in.
SEARCH_LIFETIME = timedelta(hours=24)


class PhoneSearches:
    """This browser's phone searches, in the database under (searcher id, token).

    Reads like the mapping ``{token: phone}`` that :func:`from_args` takes.
    """

    def __init__(self, engine: Engine, searcher: str) -> None:
        self.engine, self.searcher = engine, searcher

    def _key(self, token: str) -> str:
        return hashlib.sha256(f"{self.searcher}|{token}".encode()).hexdigest()[:32]

    def get(self, token: str, default: str | None = None) -> str | None:
        since = utcnow() - SEARCH_LIFETIME
        with self.engine.connect() as conn:
            phone = conn.execute(
                select(PhoneSearch.phone).where(PhoneSearch.token == self._key(token), PhoneSearch.created_at >= since)
            ).scalar()
        return default if phone is None else phone

    def remember(self, token: str, phone: str) -> None:
        now, key = utcnow(), self._key(token)
        with self.engine.begin() as conn:
            conn.execute(
                delete(PhoneSearch).where((PhoneSearch.created_at < now - SEARCH_LIFETIME) | (PhoneSearch.token == key))
            )
            conn.execute(PhoneSearch.__table__.insert().values(token=key, phone=phone, created_at=now))


def saved_searches(engine: Engine) -> PhoneSearches:
    """The current browser's searches (its random searcher id is made on first use)."""
    searcher = session.get("searcher")
    if not isinstance(searcher, str) or not searcher:
        searcher = session["searcher"] = secrets.token_urlsafe(16)
    return PhoneSearches(engine, searcher)


def remember_phone(saved: PhoneSearches, secret: str, phone: str) -> tuple[str, PhoneSearches]:
    """Keep ``phone`` under its token among this browser's searches; returns (token, saved)."""
    token = phone_token(secret, phone)
    saved.remember(token, phone)
    return token, saved


def from_args(args: Mapping[str, str], saved_phones: Mapping[str, str] | PhoneSearches) -> Filters:
    values = {k: (args.get(k) or "").strip()[:MAX_ARG_CHARS] for k in TEXT_ARGS}
    errors: list[str] = []
    status = values["status"]
    if status and status not in st.ALL and status not in GROUPS:
        errors.append(_("Unknown status %(status)s.", status=repr(status)))
        values["status"] = ""
    if values["batch"] and not _BATCH.fullmatch(values["batch"]):
        errors.append(_("Unknown upload id."))
        values["batch"] = ""
    times: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        try:
            times[name] = parse_time(values[name])
        except ValueError:
            errors.append(
                _("The start time could not be read.") if name == "since" else _("The end time could not be read.")
            )
            values[name], times[name] = "", None
    token = (args.get("pq") or "").strip()[:MAX_ARG_CHARS] or None
    phone = saved_phones.get(token) if token else None
    if token and phone is None:
        errors.append(_("This phone search has expired (it lives in your session); search again."))
    return Filters(values, phone, token, times["since"], times["until"], tuple(errors))


def from_form(
    form: Mapping[str, str], secret: str, saved: PhoneSearches
) -> tuple[dict[str, str], PhoneSearches, str | None]:
    """The POSTed search form as (query args, saved phones, error)."""
    args = {k: (form.get(k) or "").strip()[:MAX_ARG_CHARS] for k in TEXT_ARGS}
    args = {k: v for k, v in args.items() if v}
    raw_phone = (form.get("phone") or "").strip()
    if not raw_phone:
        return args, saved, None
    try:
        phone = phones.normalize(raw_phone)
    except ValueError as exc:
        return args, saved, _("Phone: %(problem)s.", problem=translate_problem(str(exc)))
    token, saved = remember_phone(saved, secret, phone)
    args["pq"] = token
    return args, saved, None


def message_filter(f: Filters) -> MessageFilter:
    """The filters as the shared query of the list, its pages and its CSV export."""
    q = MessageFilter()
    for name, column in COLUMNS.items():
        if f.values.get(name):
            q = q.where(column, "=", f.values[name])
    status = f.values.get("status")
    if status:
        q = q.where("status", "in", GROUPS.get(status, (status,)))
    if f.values.get("batch"):
        q = q.where("request_id", "startswith", f"csv-{f.values['batch']}-")
    if f.since:
        q = q.where("created_at", ">=", f.since)
    if f.until:
        q = q.where("created_at", "<", f.until)
    if f.phone:
        q = q.where("phone", "=", f.phone)
    elif f.phone_token:
        q = q.match_nothing()
    return q


def int_arg(args: Mapping[str, str], name: str) -> int | None:
    raw = args.get(name) or ""
    # ASCII digits only: isdigit() alone accepts '²', which int() refuses.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
