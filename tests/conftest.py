"""Fixtures: a migrated SQLite and (with TEST_DATABASE_URL) PostgreSQL database, app, client."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tracker import config, create_app
from tracker.ops import migrate
from tracker.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = "test-api-token"
WEBHOOK_TOKEN = "shared-webhook-token"
SECRET = "test-secret-key-0123456789abcdef"
OAID = "4097311281936189049"


def pytest_report_header(config):
    pg = os.environ.get("TEST_DATABASE_URL")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    return [
        f"PostgreSQL tests: {'on (' + pg.split('@')[-1] + ')' if pg else 'SKIPPED (TEST_DATABASE_URL not set)'}",
        f"browser tests: {'on (' + chromium + ')' if chromium else 'SKIPPED (chromium not installed)'}",
    ]


def pytest_sessionstart(session):
    # CI sets this so a missing database fails loudly instead of skipping quietly.
    if os.environ.get("TRACKER_REQUIRE_POSTGRES") == "1" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.exit("TRACKER_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set", returncode=3)


def reset_postgres(url: str) -> None:
    """Start from an empty schema so every run migrates from scratch."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'tracker.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgresql_url() -> str:
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        pytest.skip("PostgreSQL: TEST_DATABASE_URL is not set")
    url = config.normalize_database_url(raw)
    reset_postgres(url)
    migrate.upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """Each test using the database runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


def clear(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE events, messages RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("DELETE FROM events"))
            conn.execute(text("DELETE FROM messages"))
        # Sign-in counters, sessions and phone searches (issue 12) must not leak between tests.
        for table in ("login_attempts", "dashboard_sessions", "phone_searches"):
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine(db_url):
    """A migrated database, emptied before each test (the code under test commits, from
    several connections and processes, so a per-test rollback could not see its work)."""
    eng = make_engine(db_url)
    clear(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def make_message(engine):
    """Store a message directly (as if sent long ago) and return its id; fields override defaults."""
    def make(**fields) -> int:
        from sqlalchemy.orm import Session

        from tracker.db import utcnow
        from tracker.models import Message

        now = utcnow()
        values = dict(source="api", status="accepted", phone="+84901888484", template_id="523194", oa_id=OAID,
                      params=["a"], order_id="DH1", request_id=uuid.uuid4().hex, sandbox=False, attempts=1,
                      created_at=now, updated_at=now)
        values.update(fields)
        with Session(engine) as s:
            msg = Message(**values)
            s.add(msg)
            s.commit()
            return msg.id
    return make


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


@pytest.fixture
def settings(db_url, tmp_path) -> config.Settings:
    return make_settings(db_url, tmp_path / "instance")


@pytest.fixture
def app(settings, engine):
    app = create_app(settings, engine=engine)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {API_TOKEN}"}


def replace_settings(settings: config.Settings, **changes) -> config.Settings:
    return dataclasses.replace(settings, **changes)
