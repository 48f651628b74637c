"""Helpers shared by the dashboard tests: seeding messages, signing in, CSRF tokens, English.

The dashboard speaks Vietnamese unless asked otherwise (issue 13). Tests that check its
English words ask for English the way a browser does, with ``Accept-Language: en``
(tests/dashboard/conftest.py's ``client``); the Vietnamese tests use ``reader``.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tracker.config import DEFAULT_TIMEZONE
from tracker.db import utcnow
from tracker.esms.client import make_client
from tracker.models import Message
from tracker.sending import pause
from tracker.worker.loop import Worker

PASSWORD = "mật-khẩu đúng 123"
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add(engine, n: int = 1, *, created_at: datetime | None = None, **fields: Any) -> list[int]:
    """Insert ``n`` messages straight into the database; returns their ids (oldest first)."""
    now = created_at or utcnow()
    ids = []
    with Session(engine) as s:
        for i in range(n):
            values: dict[str, Any] = dict(
                source="api",
                status="queued",
                phone="+84901888484",
                template_id="523194",
                oa_id="4097311281936189049",
                params=["Nguyễn Văn An", f"DH{i}"],
                order_id="DH1",
                sandbox=False,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            values.update(fields)
            if isinstance(values.get("price"), (str, int)):
                values["price"] = Decimal(str(values["price"]))
            msg = Message(**values)
            s.add(msg)
            s.flush()
            ids.append(msg.id)
        s.commit()
    return ids


def ago(**delta: float) -> datetime:
    return utcnow() - timedelta(**delta)


def local_input(moment: datetime) -> str:
    """``moment`` as a datetime-local field holds it: the tracker's local time (TRACKER_TIMEZONE)."""
    return f"{moment.astimezone(ZoneInfo(DEFAULT_TIMEZONE)):%Y-%m-%dT%H:%M:%S}"


def english(client):
    """The same test client, asking for the dashboard in English on every request."""
    client.environ_base.update(ENGLISH)
    return client


def csrf(client, path: str = "/messages") -> str:
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, password: str = PASSWORD, next_path: str = "/"):
    token = csrf(client, "/login")
    return client.post("/login", data={"password": password, "csrf_token": token, "next": next_path})


def send_until_paused(engine, cfg) -> None:
    """Run a sender worker (against a simulator failing every send) until it pauses sending."""
    worker = Worker(engine, cfg, make_client(cfg))
    try:
        deadline = time.monotonic() + 5
        while not pause.current(engine) and time.monotonic() < deadline:
            worker.run_once()
            time.sleep(0.05)
    finally:
        worker.pool.shutdown()
    assert pause.current(engine)
