"""Alembic migrations: one chain, no drift from the models, a clean round trip on both databases."""

from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tracker import config, migrate
from tracker.db import make_engine

from .conftest import reset_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path) -> str:
    """An empty database of its own (not the shared test database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        pytest.skip("PostgreSQL: TEST_DATABASE_URL is not set")
    # Its own database, so the session's migrated test schema is left alone.
    url = config.normalize_database_url(raw)
    base, name = url.rsplit("/", 1)
    fresh_name = f"{name.split('?')[0]}_migrations"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{fresh_name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{fresh_name}"')
    admin.dispose()
    fresh = f"{base}/{fresh_name}"
    reset_postgres(fresh)
    return fresh


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
