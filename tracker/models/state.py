"""The tracker's working state beside the messages: SendPause (the circuit breaker), AccountReading
(balance and quotas) and the dashboard's sign-in state (LoginAttempt, DashboardSession,
PhoneSearch). Kept in the database so that every worker process and every host shares it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, UTCDateTime


class SendPause(Base):
    """Sending paused for the whole account (``scope`` "account") or one OA ("oa:<OAID>").

    Opened by the first send eSMS answers with an account- or OA-class CodeResult
    (tracker/esms/codes.py), shared by every worker process through the database, and
    deleted once eSMS accepts again. While it stands, only one probe send at a time goes
    out, at ``probe_at``; tracker/sending/pause.py keeps the rules.
    """

    __tablename__ = "send_pauses"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    oa_id: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    probe_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Probes eSMS refused since the pause opened: the next probe waits base·2^probes, capped.
    probes: Mapped[int] = mapped_column(Integer, default=0)
    # Sends eSMS answered with a pausing code while this pause stood (the wasted ones).
    refused: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Failed dashboard sign-ins of one client (an address, an IPv6 /64, or ``*`` for everyone).

    In the database so that every gunicorn worker and every host counts the same failures
    (``tracker.web.login_throttle``).
    """

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # No sign-in is taken from this client (even with the right password) before then.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DashboardSession(Base):
    """A signed-in dashboard session; the cookie names it, and it ends when the row is gone.

    ``id`` is the SHA-256 of the cookie's session id, so reading this table gives no session.
    """

    __tablename__ = "dashboard_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PhoneSearch(Base):
    """A phone number searched on the dashboard, under the opaque token its list URL carries.

    Kept here rather than in the session cookie (which is signed, not encrypted, and sent on
    every request); rows expire with the longest session.
    """

    __tablename__ = "phone_searches"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AccountReading(Base):
    """The latest eSMS balance (``key`` "balance") or one OA's ZNS quota ("quota:<OAID>"),
    written by the worker every few minutes (tracker/worker/readings.py), read by the overview."""

    __tablename__ = "account_readings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    oa_id: Mapped[str | None] = mapped_column(String(64))
    balance: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # VND
    daily_quota: Mapped[int | None] = mapped_column(Integer)
    remaining_quota: Mapped[int | None] = mapped_column(Integer)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when eSMS last answered: the values' time
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it was last asked
    error: Mapped[str | None] = mapped_column(String(32))  # that ask's code when it got no reading
