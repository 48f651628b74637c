"""Every table, in two modules: :mod:`tracker.models.messages` (messages, their events, the
counters and the forwarding outbox) and :mod:`tracker.models.state` (the circuit breaker, the
account readings, the dashboard's sign-in state). Importing this package declares them all,
so ``Base.metadata`` is the whole schema (migrations/env.py relies on that).
"""

from tracker.models.messages import (
    EVENT_KINDS,
    FORWARD_FAILED,
    FORWARD_PENDING,
    SOURCES,
    DailyCount,
    Event,
    ForwardDelivery,
    Message,
    daily_count_changes,
)
from tracker.models.state import AccountReading, DashboardSession, LoginAttempt, PhoneSearch, SendPause

__all__ = [
    "EVENT_KINDS",
    "FORWARD_FAILED",
    "FORWARD_PENDING",
    "SOURCES",
    "AccountReading",
    "DailyCount",
    "DashboardSession",
    "Event",
    "ForwardDelivery",
    "LoginAttempt",
    "Message",
    "PhoneSearch",
    "SendPause",
    "daily_count_changes",
]
