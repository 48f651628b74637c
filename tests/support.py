"""Constants and plain helpers shared by the tests (fixtures are in conftest.py)."""

from __future__ import annotations

import dataclasses
import socket
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker import config
from tracker.db import make_engine
from tracker.models import Event, Message

ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = "test-api-token"
WEBHOOK_TOKEN = "shared-webhook-token"
SECRET = "test-secret-key-0123456789abcdef"
OAID = "4097311281936189049"
# eSMS's own sample callbacks (shared/esms/callback-samples.txt), one URL a line, host as {callback}.
CALLBACK_SAMPLES = ROOT / "tests" / "data" / "callback-samples.txt"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_postgres(url: str) -> None:
    """Start from an empty schema so every run migrates from scratch."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def clear(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE events, messages RESTART IDENTITY CASCADE"))
            # A forwarder run without a URL switches the outbox trigger off (tracker/worker/forwarding.py).
            conn.execute(text("ALTER TABLE messages ENABLE TRIGGER messages_forward"))
        else:
            conn.execute(text("DELETE FROM events"))
            conn.execute(text("DELETE FROM messages"))
        # A circuit-breaker pause left by one test would hold every later test's sends.
        conn.execute(text("DELETE FROM send_pauses"))
        # The last balance and quota readings (issue 11) would show on every later overview.
        conn.execute(text("DELETE FROM account_readings"))
        # Sign-in counters, sessions and phone searches (issue 12) must not leak between tests.
        for table in ("login_attempts", "dashboard_sessions", "phone_searches"):
            conn.execute(text(f"DELETE FROM {table}"))


def make_settings(db_url: str, instance_dir: Path, **env) -> config.Settings:
    base = {
        "DATABASE_URL": db_url,
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_INSTANCE_DIR": str(instance_dir),
        "TRACKER_API_TOKENS": API_TOKEN,
        "TRACKER_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "TRACKER_PUBLIC_URL": "http://tracker.test",
        "ESMS_OAID": OAID,
    }
    if not env.get("ESMS_API_KEY") and not env.get("ESMS_SECRET_KEY"):
        base["TRACKER_SIMULATOR"] = "1"
    base.update({k: v for k, v in env.items() if v is not None})
    return config.load({k: v for k, v in base.items() if v != ""})


def replace_settings(settings: config.Settings, **changes) -> config.Settings:
    return dataclasses.replace(settings, **changes)


def pointed_at(settings: config.Settings, sim, api_key: str, secret_key: str, **changes) -> config.Settings:
    """``settings`` sending to (and asking) the simulator ``sim`` with these keys."""
    return replace_settings(
        settings,
        esms_base_url=sim.base_url,
        esms_status_url=sim.status_url,
        esms_api_key=api_key,
        esms_secret_key=secret_key,
        **changes,
    )


@contextmanager
def fresh_database(url: str, suffix: str):
    """An empty PostgreSQL database of its own beside ``url``'s, dropped afterwards."""
    base, name = url.rsplit("/", 1)
    fresh_name = f"{name.split('?')[0]}_{suffix}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{fresh_name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{fresh_name}"')
    try:
        yield f"{base}/{fresh_name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{fresh_name}" WITH (FORCE)')
        admin.dispose()


# What a journey callback carries besides its status (callback-samples.txt, TypeId 27).
JOURNEY_FIELDS = {
    "TotalReceiver": 1,
    "TotalSent": 1,
    "RequestId": "",
    "TypeId": 27,
    "telcoid": 2,
    "phonenumber": "0901888484",
}


def callback_query(smsid: str, send_status: int, success: int = 0, failed: int = 0, **extra: object) -> str:
    """An eSMS delivery callback's query string (without the ``?``), as eSMS appends it to a CallbackUrl."""
    return urlencode({"SMSID": smsid, "SendStatus": send_status, "SendSuccess": success, "SendFailed": failed, **extra})


def message(engine, mid: int) -> Message:
    with Session(engine) as s:
        return s.get(Message, mid)


def events(engine, mid: int | None = None) -> list[Event]:
    """Every stored event in order, or one message's."""
    with Session(engine) as s:
        q = select(Event).order_by(Event.id)
        if mid is not None:
            q = q.where(Event.message_id == mid)
        return list(s.scalars(q))


def add_events(engine, message_id: int, *specs: tuple[str, int], start: datetime) -> list[int]:
    """Store callback events of ``message_id``, each (outcome, seconds after ``start``); their ids in insert order."""
    with Session(engine) as s:
        stored = [
            Event(
                message_id=message_id,
                kind="callback",
                outcome=outcome,
                status="delivered",
                smsid="S1",
                data={"send_status": 5},
                raw="SendStatus=5",
                created_at=start + timedelta(seconds=at),
            )
            for outcome, at in specs
        ]
        s.add_all(stored)
        s.commit()
        return [e.id for e in stored]
