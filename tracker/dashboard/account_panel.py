"""The overview's eSMS account panel: the balance, each OA's ZNS quota, and a low-balance warning.

The numbers are the worker's latest readings (tracker/worker/readings.py, every
TRACKER_ACCOUNT_REFRESH seconds), read here from the database in one small query: the page
never waits on eSMS. Each reading shows its time on the tracker's clock and its age; when
the worker's last ask failed, the previous reading stays and the failure is said beside it.
The warning appears when the balance read is below TRACKER_LOW_BALANCE (VND).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.engine import Engine

from tracker.config import Settings
from tracker.dashboard import reasons
from tracker.dashboard.present import Cell, cell, duration, money, number, percent, when
from tracker.db import utcnow
from tracker.worker import readings
from tracker.worker.readings import Reading


def _age(moment: datetime, now: datetime) -> str:
    return _("%(duration)s ago", duration=duration(max(0.0, (now - moment).total_seconds())))


def _read_note(r: Reading | None, now: datetime) -> str:
    """When the values were read, or that they never were."""
    if r is None:
        return _("Not read yet: the sender worker reads it every few minutes.")
    if r.read_at is None:
        return _("Never read: eSMS has not answered yet.")
    return _("read %(when)s (%(age)s)", when=when(r.read_at), age=_age(r.read_at, now))


def _failure(r: Reading | None, now: datetime) -> Cell:
    """The last ask's failure, when it failed (its code and meaning): the values shown are older."""
    if r is None or r.error is None:
        return cell("")
    return cell(
        _(
            "eSMS did not answer the last check (%(when)s, %(age)s): %(code)s, %(meaning)s. The reading shown is the "
            "last one eSMS gave.",
            when=when(r.checked_at),
            age=_age(r.checked_at, now),
            code=r.error,
            meaning=reasons.meaning(r.error),
        ),
        cls="err",
    )


def _warning(r: Reading | None, settings: Settings) -> Cell:
    if r is None or r.balance is None or r.balance >= settings.low_balance:
        return cell("")
    return cell(
        _(
            "Low eSMS balance: %(balance)s, below %(limit)s (TRACKER_LOW_BALANCE). Top up the account: at zero, eSMS "
            "refuses every send (103) and sending pauses.",
            balance=money(r.balance),
            limit=money(settings.low_balance),
        ),
        cls="warning",
    )


def quota_row(r: Reading, now: datetime) -> list[Cell]:
    used = (r.daily_quota - r.remaining_quota) if r.daily_quota is not None and r.remaining_quota is not None else None
    return [
        cell(r.oa_id or "—"),
        cell(number(r.remaining_quota), cls="num"),
        cell(number(r.daily_quota), cls="num"),
        cell(percent(used, r.daily_quota) if used is not None and r.daily_quota else "—", cls="num"),
        cell(_read_note(r, now)),
        _failure(r, now),
    ]


def build(engine: Engine, settings: Settings) -> dict[str, Any]:
    """The panel's live text (keys ``acct-*``) and its quota table."""
    now = utcnow()
    found = readings.latest(engine)
    balance = next((r for r in found if r.is_balance), None)
    return {
        "text": {
            "acct-balance": money(balance.balance) if balance and balance.balance is not None else "—",
            "acct-read": _read_note(balance, now),
            "acct-failure": _failure(balance, now),
            "acct-warning": _warning(balance, settings),
        },
        "tables": {"quotas": [quota_row(r, now) for r in found if not r.is_balance]},
    }
