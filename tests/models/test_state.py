"""tracker.models.state: the working-state tables (circuit breaker, account readings, sign-in state)
round-trip through the real migrations on both databases, times as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tracker.models import AccountReading, DashboardSession, LoginAttempt, PhoneSearch, SendPause

HANOI = timezone(timedelta(hours=7))


def test_every_state_table_keeps_its_times_as_aware_utc(engine):
    at = datetime(2026, 11, 30, 9, 15, tzinfo=HANOI)  # stored as 02:15 UTC
    rows = [
        SendPause(scope="account", code="101", since=at, probe_at=at, probes=2, refused=5, updated_at=at),
        LoginAttempt(key="10.0.0.1", failures=3, locked_until=at, last_at=at),
        DashboardSession(id="a" * 64, created_at=at),
        PhoneSearch(token="t" * 32, phone="+84901888484", created_at=at),
        AccountReading(key="balance", balance=Decimal("45000.50"), read_at=at, checked_at=at),
    ]
    with Session(engine) as s:
        s.add_all(rows)
        s.commit()
    with Session(engine) as s:
        pause = s.get(SendPause, "account")
        attempt = s.get(LoginAttempt, "10.0.0.1")
        reading = s.get(AccountReading, "balance")
        times = [
            pause.since,
            pause.probe_at,
            attempt.locked_until,
            s.get(DashboardSession, "a" * 64).created_at,
            s.get(PhoneSearch, "t" * 32).created_at,
            reading.read_at,
        ]
        assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
        assert set(times) == {datetime(2026, 11, 30, 2, 15, tzinfo=UTC)}
        assert (pause.probes, pause.refused, attempt.failures) == (2, 5, 3)
        assert reading.balance == Decimal("45000.50") and reading.remaining_quota is None
        for table in (SendPause, LoginAttempt, DashboardSession, PhoneSearch, AccountReading):
            s.execute(delete(table))
        s.commit()
