"""Params checked against their template before a message is queued (SPEC section 3, issue 11).

eSMS lists an OA's templates with each variable's ``Limit`` and ``RequireType`` (GetTemplate,
tracker/esms/template_api.py); the pure check is tracker/esms/templates.py. A template eSMS
lists for the message's OA is checked, and a violation refuses the message (400 naming the
parameter) before anything is stored. A template eSMS does not list, or a listing that cannot
be had (eSMS down, slow, a wrong key), never blocks a send: eSMS has the last word (789/790).

The listings are cached in the process, one per (settings, OA), for ``TRACKER_TEMPLATE_TTL``
seconds (600 by default; 0 turns the check off). Process-local because a listing changes
rarely (a changed template goes back through Zalo's review), is small, and is the same
wherever it is asked; each web process asking eSMS once per OA and TTL costs nothing, and
needs no shared store or invalidation protocol. Two things keep it honest between fetches:

- a 790 ("wrong ZNS template") means the listing may be out of date. 790s are answered to the
  worker, another process, so a listing in use looks in the database, at most every
  ``RECHECK`` seconds, for a message of its OA rejected 790 since it was fetched, and is
  fetched again if there is one;
- eSMS unreachable (or answering no listing) is remembered for ``FAILURE_RETRY`` seconds, so
  it costs one short timeout (``TRACKER_TEMPLATE_TIMEOUT``, 2 s) per minute, not one per
  request; a request that finds another thread asking eSMS waits at most that long, then skips.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.config import Settings
from tracker.db import utcnow
from tracker.esms.template_api import get_templates
from tracker.esms.templates import Template, violations
from tracker.models import Message

RECHECK = 30.0
FAILURE_RETRY = 60.0
# How long before its rejection a message rejected 790 may have been created (an index on
# status and created_at finds them); a later one is caught by the TTL instead.
LOOKBACK = timedelta(hours=1)
WRONG_TEMPLATE = "790"

Probe = Callable[[datetime], bool]


@dataclass
class _Entry:
    listing: dict[str, Template] | None
    fetched: float  # monotonic, for the TTL
    fetched_at: datetime  # wall clock (UTC), for the 790 probe
    probed: float


class TemplateCache:
    """The OA listings of one eSMS account; safe to share between threads."""

    def __init__(
        self,
        fetch: Callable[[str], dict[str, Template] | None],
        ttl: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch, self.ttl, self.timeout, self._clock = fetch, ttl, timeout, clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _fresh(self, entry: _Entry | None, now: float) -> bool:
        if entry is None:
            return False
        life = self.ttl if entry.listing is not None else min(self.ttl, FAILURE_RETRY)
        return now - entry.fetched < life

    def template(self, oa_id: str, template_id: str, saw_790: Probe) -> Template | None:
        """The template as eSMS lists it for the OA, or None (not listed, or no listing)."""
        now = self._clock()
        entry = self._entries.get(oa_id)
        if self._fresh(entry, now) and entry is not None:
            if entry.listing is not None and now - entry.probed >= RECHECK:
                entry.probed = now
                if saw_790(entry.fetched_at):
                    self._entries.pop(oa_id, None)
                    entry = None
            if entry is not None:
                return entry.listing.get(template_id) if entry.listing else None
        with self._guard:
            lock = self._locks.setdefault(oa_id, threading.Lock())
        if not lock.acquire(timeout=self.timeout):
            return None  # another request is asking eSMS: skip rather than wait longer
        try:
            entry = self._entries.get(oa_id)
            if not self._fresh(entry, self._clock()) or entry is None:
                fetched_at = utcnow()
                listing = self._fetch(oa_id)
                done = self._clock()
                entry = self._entries[oa_id] = _Entry(listing, done, fetched_at, done)
        finally:
            lock.release()
        return entry.listing.get(template_id) if entry.listing else None


_caches: dict[Settings, TemplateCache] = {}
_caches_lock = threading.Lock()


def cache_for(settings: Settings) -> TemplateCache:
    """The process's cache for these settings (one per account, and per test's settings)."""
    with _caches_lock:
        cache = _caches.get(settings)
        if cache is None:
            timeout = settings.template_timeout
            cache = _caches[settings] = TemplateCache(
                lambda oa_id: get_templates(settings, oa_id, timeout), settings.template_ttl, timeout
            )
        return cache


def saw_790(db: Session | Connection, oa_id: str) -> Probe:
    """Whether a message of the OA was rejected 790 since a time."""

    def probe(since: datetime) -> bool:
        stmt = (
            select(Message.id)
            .where(
                Message.status == st.REJECTED,
                Message.created_at >= since - LOOKBACK,
                Message.error_code == WRONG_TEMPLATE,
                Message.oa_id == oa_id,
                Message.final_at >= since,
            )
            .limit(1)
        )
        return db.execute(stmt).first() is not None

    return probe


def check(
    settings: Settings, db: Session | Connection, oa_id: str, template_id: str, params: Sequence[str]
) -> dict[str, str]:
    """``{"params[i]": why}`` for the values that break the template as eSMS lists it; empty when
    they fit, when eSMS does not list it, when no listing can be had, or when the check is off."""
    if settings.template_ttl <= 0:
        return {}
    template = cache_for(settings).template(oa_id, template_id, saw_790(db, oa_id))
    if template is None:
        return {}
    return violations(template, params)
