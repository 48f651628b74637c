"""Alembic migrations: one chain, no drift from the models, a clean round trip on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text, update

from tests.support import ROOT, fresh_database
from tracker import config, models
from tracker.db import make_engine, utcnow
from tracker.ops import migrate


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path):
    """An empty database of its own (not the shared test database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        pytest.skip("PostgreSQL: TEST_DATABASE_URL is not set")
    with fresh_database(config.normalize_database_url(raw), "migrations") as url:
        yield url


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_single_head():
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1, heads


def test_upgrade_downgrade_upgrade_and_no_drift(fresh_url):
    migrate.upgrade(fresh_url)
    assert {"messages", "events", "alembic_version"} <= tables(fresh_url)
    # `alembic check`: the models and the migrations describe the same schema.
    command.check(migrate.alembic_config(fresh_url))
    migrate.downgrade(fresh_url, "base")
    assert tables(fresh_url) <= {"alembic_version"}
    migrate.upgrade(fresh_url)
    command.check(migrate.alembic_config(fresh_url))
    assert {"messages", "events"} <= tables(fresh_url)


def test_delivery_ids_fill_waiting_rows_and_the_outbox_trigger_survives_both_ways(fresh_url):
    """Rows already waiting get ids of their own; on SQLite the upgrade rebuilds forward_outbox,
    and the trigger on messages must still write rows after the upgrade and the downgrade."""
    migrate.upgrade(fresh_url, "955626b20dbc")
    engine = make_engine(fresh_url)
    messages, outbox = models.Message.__table__, models.ForwardDelivery.__table__
    now = utcnow()

    def change(status: str) -> None:
        with engine.begin() as conn:
            conn.execute(update(messages).values(status=status, updated_at=utcnow()))

    def outbox_count() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM forward_outbox")).scalar()

    try:
        with engine.begin() as conn:
            conn.execute(
                insert(messages).values(
                    source="api",
                    status="accepted",
                    params=[],
                    sandbox=False,
                    attempts=1,
                    created_at=now,
                    updated_at=now,
                )
            )
        change("waiting")
        change("sent")
        migrate.upgrade(fresh_url)
        change("delivered")
        with engine.connect() as conn:
            ids = conn.execute(select(outbox.c.delivery_id).order_by(outbox.c.id)).scalars().all()
        assert len(ids) == len(set(ids)) == 3 and all(i.version == 4 for i in ids)
        migrate.downgrade(fresh_url, "955626b20dbc")
        change("failed")
        assert outbox_count() == 4
    finally:
        engine.dispose()


def _upgrade_process(url: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "DATABASE_URL": url, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "db", "upgrade"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.postgres
def test_releases_started_together_take_turns(postgresql_url):
    """Four hosts run their release step at once: each succeeds, the schema is made once."""
    with fresh_database(postgresql_url, "releases") as url:
        procs = [_upgrade_process(url) for _ in range(4)]
        outputs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, outputs
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        engine.dispose()
        command.check(migrate.alembic_config(url))


@pytest.mark.postgres
def test_a_migration_gives_up_behind_a_long_lock_instead_of_waiting_forever(postgresql_url):
    with fresh_database(postgresql_url, "locktimeout") as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.connect() as blocker:
            # A long query holding the version table, as a stuck report would hold a table.
            blocker.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            proc = _upgrade_process(url, TRACKER_MIGRATION_LOCK_TIMEOUT="1")
            out = proc.communicate(timeout=60)[0]
            elapsed = time.monotonic() - started
            blocker.rollback()
        engine.dispose()
        assert proc.returncode != 0 and "lock timeout" in out, out
        assert elapsed < 20
