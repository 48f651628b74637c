"""Fixtures: a migrated SQLite and (with TEST_DATABASE_URL) PostgreSQL database, app, client.

Plain helpers and constants live in tests/support.py, so test modules import them by name."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest

from tests.support import API_TOKEN, OAID, clear, make_settings, reset_postgres
from tracker import config, create_app
from tracker.db import make_engine
from tracker.ops import migrate


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
        values = dict(
            source="api",
            status="accepted",
            phone="+84901888484",
            template_id="523194",
            oa_id=OAID,
            params=["a"],
            order_id="DH1",
            request_id=uuid.uuid4().hex,
            sandbox=False,
            attempts=1,
            created_at=now,
            updated_at=now,
        )
        values.update(fields)
        with Session(engine) as s:
            msg = Message(**values)
            s.add(msg)
            s.commit()
            return msg.id

    return make


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
