"""Engine, session and declarative Base, shared by the web app, worker and CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from sqlalchemy import BigInteger, DateTime, Integer, create_engine, event
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from tracker.config import Settings

# SQLite only auto-increments an INTEGER PRIMARY KEY, so BIGINT falls back there.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """A stored time as the API shows it: ISO 8601 UTC ending in ``Z`` (None stays None)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def make_engine(url: str, **kwargs) -> Engine:
    """An engine tuned for the backend: WAL and a busy timeout on SQLite."""
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing with "database is locked".
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine)
    # What tracker.driver.twin needs to make this engine's autocommit twin the same way.
    engine.__dict__["_tracker_made_with"] = (url, kwargs)
    return engine


# A pooled connection idle longer than this is checked before use. pool_pre_ping would
# check every checkout: one extra round trip per webhook call, ~20 % of its time (issue 5).
IDLE_PING_AFTER = 5.0


def ping_when_idle(engine: Engine) -> None:
    """Ping a connection on checkout only when it sat idle; a dead one is replaced at once."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_AFTER:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError(str(exc)) from exc


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def pool_size(settings: Settings) -> int:
    """Connections a process of the app keeps: one for each thread that may hold one at once.

    In a sender worker that is its ``worker_threads`` sends plus its duties beside them
    (tracker/worker/background.py): the spool replay, the counters' fold, the account readings,
    the forwarder's parallel deliveries and the reconciler's status queries. A smaller pool sends the rest through the overflow, whose
    connections are closed after each use: a new PostgreSQL backend (a fork on the database
    host) per send, ~35 a second at full speed (issue 15). A web process (one request at a time
    per gunicorn sync worker) costs nothing more: the pool connects only when a connection is
    wanted and none is free, so it holds what was in use at once, never more.
    """
    return settings.worker_threads + 3 + settings.forward_threads + settings.reconcile_threads


def init_app(app: Flask, engine: Engine | None = None) -> None:
    settings = app.config["SETTINGS"]
    engine = engine or make_engine(settings.database_url, pool_size=pool_size(settings))
    app.extensions["engine"] = engine
    app.extensions["sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return current_app.extensions["engine"]


def get_session() -> Session:
    """One session per request/app context, closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["sessionmaker"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def all_rows(bind: Engine | Connection, stmt: Any) -> list[Row[Any]]:
    """Every row of ``stmt``: on the caller's connection when given one (its transaction), else
    on a connection of its own."""
    if isinstance(bind, Connection):
        return list(bind.execute(stmt).all())
    with bind.connect() as conn:
        return list(conn.execute(stmt).all())


@lru_cache(maxsize=16)
def autocommit(engine: Engine) -> Engine:
    """The engine's pool, handing out connections in autocommit mode (a client-side flag)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")
