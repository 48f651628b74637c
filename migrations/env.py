"""Alembic environment: migrates the database named by DATABASE_URL (or the given URL).

On PostgreSQL the whole run holds an advisory lock, so releases started together on several
hosts take turns instead of running the same migration twice, and every statement runs under
a ``lock_timeout``, so a migration fails fast behind a long query instead of queueing every
other query behind its own lock request (GOV.UK Notify's migrations/env.py does the same).
"""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text

from tracker import models  # noqa: F401  (declares every table on Base)
from tracker.db import Base, make_engine
from tracker.ops.migrate import database_url, lock_timeout_ms

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Importing tracker.models declares every table, so Base's metadata is the whole schema.
target_metadata = Base.metadata
# Any fixed 64-bit number names the lock; this one is "jtracker" read as ASCII.
MIGRATION_LOCK_KEY = 0x6A747261636B6572


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(config), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url(config), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # Waits for another release's run to end (no timeout: that run is itself bounded by
        # lock_timeout); session-level, so it spans every migration's transaction.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.execute(text(f"SET lock_timeout = {lock_timeout_ms()}"))
        connection.commit()
    try:
        # Batch mode lets the same migrations alter tables on SQLite.
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if postgres:
            connection.rollback()
            connection.execute(text("RESET lock_timeout"))
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
