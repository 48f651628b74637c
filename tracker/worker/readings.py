"""The eSMS balance and each OA's ZNS quota, read every few minutes into ``account_readings``.

The worker asks GetBalance_json and ZNS/GetQuota (tracker/esms/account_api.py) every
TRACKER_ACCOUNT_REFRESH seconds (300) and keeps the latest reading of each in the database,
where the web process's overview and /metrics read it (web and worker are separate
processes). Which OAs: ESMS_OAID, every OA already read, and the OAs of messages created
since the previous pass (the first pass looks back a day), at most MAX_OAS of them.

When eSMS cannot be reached, or answers with an error, the previous reading stays as it was
(``read_at`` tells its age) and only ``checked_at`` and ``error`` change: nothing waits on
these readings, and a failure is shown, never raised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from tracker.config import Settings
from tracker.db import all_rows, utcnow
from tracker.esms import account_api
from tracker.esms.client import EsmsClient
from tracker.models import AccountReading, Message

log = logging.getLogger("tracker.worker.readings")

BALANCE_KEY = "balance"
QUOTA_PREFIX = "quota:"
MAX_OAS = 50
FIRST_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Reading:
    """One row of ``account_readings`` as the overview and /metrics read it."""

    key: str
    oa_id: str | None
    balance: Decimal | None
    daily_quota: int | None
    remaining_quota: int | None
    read_at: datetime | None
    checked_at: datetime
    error: str | None

    @property
    def is_balance(self) -> bool:
        return self.key == BALANCE_KEY


def latest(engine: Engine | Connection) -> list[Reading]:
    """Every reading, the balance first, then the quotas by OA (one small read)."""
    stmt = select(
        AccountReading.key,
        AccountReading.oa_id,
        AccountReading.balance,
        AccountReading.daily_quota,
        AccountReading.remaining_quota,
        AccountReading.read_at,
        AccountReading.checked_at,
        AccountReading.error,
    ).order_by(AccountReading.key)
    rows = all_rows(engine, stmt)
    readings = [Reading(**row._mapping) for row in rows]
    return sorted(readings, key=lambda r: (not r.is_balance, r.key))


def store(conn: Connection, key: str, oa_id: str | None, values: dict[str, Any] | None, error: str | None) -> None:
    """Record one ask: its ``values`` (a reading) or, with none, its ``error`` beside the last reading."""
    now = utcnow()
    changes: dict[str, Any] = {"checked_at": now, "error": error}
    if values is not None:
        changes.update(values, read_at=now, error=None)
    stmt: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(AccountReading)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(AccountReading)
    stmt = stmt.values(key=key, oa_id=oa_id, **changes).on_conflict_do_update(index_elements=["key"], set_=changes)
    conn.execute(stmt)


class Readings:
    """The worker's duty: one pass asks eSMS about the balance and every OA's quota."""

    def __init__(self, engine: Engine, settings: Settings, client: EsmsClient):
        self.engine, self.settings, self.client = engine, settings, client
        self._since: datetime | None = None

    def oas(self) -> list[str]:
        """The OAs to ask about, at most MAX_OAS: configured, already read, seen in new messages."""
        since = self._since or utcnow() - FIRST_LOOKBACK
        with self.engine.connect() as conn:
            known = conn.scalars(select(AccountReading.oa_id).where(AccountReading.oa_id.is_not(None))).all()
            # The (created_at) index bounds this to the messages created since the last pass.
            seen = conn.scalars(
                select(Message.oa_id).where(Message.created_at >= since, Message.oa_id.is_not(None)).distinct()
            ).all()
        configured = [self.settings.esms_oaid] if self.settings.esms_oaid else []
        ordered = dict.fromkeys([*configured, *sorted(known), *sorted(seen)])
        return [oa for oa in ordered if oa][:MAX_OAS]

    def run_once(self) -> int:
        """Ask eSMS once about everything; returns how many readings it gave."""
        started, oas = utcnow(), self.oas()
        balance = account_api.get_balance(self.client)
        quotas = [account_api.get_quota(self.client, oa) for oa in oas]
        with self.engine.begin() as conn:
            store(
                conn,
                BALANCE_KEY,
                None,
                {"balance": balance.balance} if balance.ok else None,
                None if balance.ok else balance.code,
            )
            for q in quotas:
                values = {"daily_quota": q.daily, "remaining_quota": q.remaining} if q.ok else None
                store(conn, QUOTA_PREFIX + q.oa_id, q.oa_id, values, None if q.ok else q.code)
        # Only once stored: an OA seen in a pass that could not be recorded is looked for again.
        self._since = started
        read = int(balance.ok) + sum(q.ok for q in quotas)
        if read < 1 + len(quotas):
            log.warning(
                "account readings: %d of %d answered (balance: %s)", read, 1 + len(quotas), balance.code or "none"
            )
        return read
