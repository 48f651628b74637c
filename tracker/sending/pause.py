"""The circuit breaker for account and OA errors (issue 11, part 5).

A send eSMS answers with an account-class CodeResult (101 wrong keys, 102, 103 balance,
104, 140 IP not whitelisted, 143 locked) pauses sending for the whole account; an OA-class
one (204, 799, 802) pauses that OA (tracker/esms/codes.py ``pauses``). The message that
got the answer goes back to ``queued`` with the code as its visible reason; nothing ends.

While a pause stands the claim (tracker/sending/sender.py) takes nothing of its scope but
one probe at a time, at ``probe_at``: base·2^probes seconds after the last refusal, capped
at TRACKER_PAUSE_PROBE_CAP (≤ 60 s). The first answer that is not a pausing one deletes
the pause, and the queue drains as usual. The state is a row in ``send_pauses``, so every
worker process on every host obeys the same pause, and taking the probe is one conditional
UPDATE, so only one process probes at a time.

``current()`` is what /healthz, /metrics and (for its banner) the dashboard read.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from tracker.config import Settings
from tracker.db import all_rows, iso, utcnow
from tracker.esms import codes
from tracker.esms.code_table import ACCOUNT as ACCOUNT_CLASS
from tracker.models import SendPause

ACCOUNT = "account"
_OA_PREFIX = "oa:"

# How long a process trusts its copy of the pauses before reading the table again, so a
# pause opened by another process stops this one's in-flight batch too (at 2 reads a second).
LOCAL_TTL = 0.5


def scope_of(kind: str, oa_id: str | None) -> str:
    """The pause scope for a pausing class (``account`` or ``oa``) and the send's OA."""
    return ACCOUNT if kind == ACCOUNT_CLASS else f"{_OA_PREFIX}{oa_id or ''}"


def probe_delay(settings: Settings, probes: int) -> float:
    """Seconds until the next probe after ``probes`` refused ones: base·2^probes, capped."""
    return float(min(settings.pause_probe_cap, settings.pause_probe_base * 2 ** min(probes, 20)))


@dataclass(frozen=True)
class Pause:
    scope: str
    oa_id: str | None
    code: str
    reason: str | None
    since: datetime
    probe_at: datetime
    probes: int
    refused: int

    def to_dict(self) -> dict[str, Any]:
        """As /healthz and the dashboard show it: what is paused, why, and what to do."""
        return {
            "scope": ACCOUNT if self.scope == ACCOUNT else "oa",
            "oa_id": self.oa_id,
            "code": self.code,
            "reason": self.reason or codes.describe(self.code),
            "reason_vi": codes.describe_vi(self.code),
            "advice": codes.advice(self.code),
            "since": iso(self.since),
            "next_probe_at": iso(self.probe_at),
            "probes": self.probes,
            "refused_sends": self.refused,
        }


def current(engine: Engine | Connection) -> list[Pause]:
    """Every pause standing now, account first (one small read)."""
    stmt = select(
        SendPause.scope,
        SendPause.oa_id,
        SendPause.code,
        SendPause.reason,
        SendPause.since,
        SendPause.probe_at,
        SendPause.probes,
        SendPause.refused,
    ).order_by(SendPause.scope)
    rows = all_rows(engine, stmt)
    return [Pause(**row._mapping) for row in rows]


def covers(pauses: list[Pause], oa_id: str | None) -> Pause | None:
    """The pause that holds a message of ``oa_id``, if any (the account's first)."""
    for p in pauses:
        if p.scope == ACCOUNT or p.oa_id == oa_id:
            return p
    return None


def take_probe(engine: Engine, settings: Settings, scope: str) -> bool:
    """Claim the right to send the one probe of ``scope`` now; True for exactly one caller.

    Pushing ``probe_at`` a lease ahead means a worker that dies mid-probe leaves the next
    probe to another process after the lease, as for any claimed message.
    """
    now = utcnow()
    stmt = (
        update(SendPause)
        .where(SendPause.scope == scope, SendPause.probe_at <= now)
        .values(probe_at=now + timedelta(seconds=settings.lease_seconds), updated_at=now)
    )
    with engine.begin() as conn:
        return bool(conn.execute(stmt).rowcount)


def open_or_refuse(
    conn: Connection, settings: Settings, scope: str, oa_id: str | None, code: str, reason: str | None, probe: bool
) -> None:
    """Record a pausing answer: open the pause, or (a refused probe) back the next probe off."""
    now = utcnow()
    existing = conn.execute(select(SendPause.probes).where(SendPause.scope == scope).with_for_update()).scalar()
    if existing is None:
        values = dict(
            scope=scope,
            oa_id=None if scope == ACCOUNT else oa_id,
            code=code,
            reason=reason,
            since=now,
            probe_at=now + timedelta(seconds=probe_delay(settings, 0)),
            probes=0,
            refused=1,
            updated_at=now,
        )
        if _insert_if_absent(conn, values):
            return
        existing = 0
    changes: dict[str, Any] = dict(code=code, reason=reason, refused=SendPause.refused + 1, updated_at=now)
    if probe:
        changes.update(
            probes=SendPause.probes + 1, probe_at=now + timedelta(seconds=probe_delay(settings, existing + 1))
        )
    conn.execute(update(SendPause).where(SendPause.scope == scope).values(**changes))


def _insert_if_absent(conn: Connection, values: dict[str, Any]) -> bool:
    """INSERT the pause unless another process just did (both databases: ON CONFLICT DO NOTHING)."""
    stmt: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(SendPause).values(**values).on_conflict_do_nothing(index_elements=["scope"])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(SendPause).values(**values).on_conflict_do_nothing(index_elements=["scope"])
    return bool(conn.execute(stmt).rowcount)


def reschedule(conn: Connection, settings: Settings, scope: str) -> None:
    """A probe that got no answer (transport): probe again after the current delay."""
    now = utcnow()
    probes = conn.execute(select(SendPause.probes).where(SendPause.scope == scope)).scalar()
    if probes is not None:
        conn.execute(
            update(SendPause)
            .where(SendPause.scope == scope)
            .values(probe_at=now + timedelta(seconds=probe_delay(settings, probes)), updated_at=now)
        )


def clear(conn: Connection, scopes: list[str]) -> int:
    """eSMS accepted again: lift these pauses; returns how many stood."""
    return conn.execute(delete(SendPause).where(SendPause.scope.in_(scopes))).rowcount or 0


class LocalView:
    """This process's recent copy of the pauses, so a send already claimed when a pause
    opened is put back rather than wasted (refreshed every LOCAL_TTL, and at once when
    this process opens or lifts a pause)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pauses: list[Pause] = []
        self._read_at = 0.0

    def get(self, engine: Engine) -> list[Pause]:
        with self._lock:
            if time.monotonic() - self._read_at < LOCAL_TTL:
                return self._pauses
        pauses = current(engine)
        self.set(pauses)
        return pauses

    def peek(self) -> list[Pause]:
        """The copy as it is, without reading the table."""
        with self._lock:
            return self._pauses

    def set(self, pauses: list[Pause]) -> None:
        with self._lock:
            self._pauses, self._read_at = pauses, time.monotonic()

    def hold(self, scope: str, oa_id: str | None, code: str) -> None:
        """Hold ``scope`` in this process at once, before the pause is even written, so
        sends of the same batch stop while the first answer is being recorded."""
        now = utcnow()
        with self._lock:
            if all(p.scope != scope for p in self._pauses):
                self._pauses = [
                    *self._pauses,
                    Pause(scope, None if scope == ACCOUNT else oa_id, code, None, now, now, 0, 0),
                ]
                self._read_at = time.monotonic()

    def expire(self) -> None:
        with self._lock:
            self._read_at = 0.0
