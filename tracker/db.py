"""Engine, session and declarative Base, shared by the web app, worker and CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from sqlalchemy import BigInteger, DateTime, Integer, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
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
        _ping_when_idle(engine)
    # What _driver_pool needs to make this engine's autocommit twin the same way.
    engine.__dict__["_tracker_made_with"] = (url, kwargs)
    return engine


# A pooled connection idle longer than this is checked before use. pool_pre_ping would
# check every checkout: one extra round trip per webhook call, ~20 % of its time (issue 5).
IDLE_PING_AFTER = 5.0


def _ping_when_idle(engine: Engine) -> None:
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


@lru_cache(maxsize=16)
def autocommit(engine: Engine) -> Engine:
    """The engine's pool, handing out connections in autocommit mode (a client-side flag)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


# Called with (sql, params) before each driver statement; bench/lookup_bench.py EXPLAINs them.
observers: list[Any] = []


def _driver_pool(engine: Engine) -> Engine | None:
    """A twin of ``engine`` whose connections are autocommit for good, for :func:`driver_cursor`
    (None for an engine :func:`make_engine` did not make: it has no recipe for a twin).

    Through the shared pool every checkout switched the connection to autocommit and every
    checkin switched it back (with a Connection object around it): about a tenth of the
    webhook's Python time (bench/README.md). The twin keeps its own small pool (one connection
    per thread that uses it: one per gunicorn sync worker) and is disposed with ``engine``.
    """
    twin = engine.__dict__.get("_tracker_driver_pool")
    if twin is None:
        made_with = engine.__dict__.get("_tracker_made_with")
        if made_with is None:
            return None
        url, kwargs = made_with
        # Nothing to roll back on return: every statement committed itself.
        twin = create_engine(url, **{**kwargs, "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None})
        if not kwargs.get("pool_pre_ping"):
            _ping_when_idle(twin)
        event.listen(engine, "engine_disposed", lambda _engine: twin.dispose())
        engine.__dict__["_tracker_driver_pool"] = twin
    return twin


@contextmanager
def driver_cursor(engine: Engine) -> Iterator[Any]:
    """A psycopg cursor on an autocommit connection, for fixed SQL (psycopg placeholders).

    Skips SQLAlchemy's per-call processing: the webhook's statements and the lookups cost
    less CPU this way (bench/README.md). Errors come out as SQLAlchemy's exception classes,
    as they would through SQLAlchemy (the spool and error pages expect them).
    """
    import psycopg
    from psycopg.rows import namedtuple_row

    twin = _driver_pool(engine)
    with ExitStack() as stack:
        if twin is None:
            # The shared pool, switched to autocommit for this use (SQLAlchemy switches it back).
            conn = stack.enter_context(autocommit(engine).connect())
            pooled, invalidate = conn.connection, conn.invalidate
        else:
            try:
                pooled = twin.raw_connection()
            except psycopg.Error as exc:  # the pool lets the driver's own errors out; SQLAlchemy's wrap them
                raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
            stack.callback(pooled.close)
            invalidate = pooled.invalidate
        driver = pooled.driver_connection
        try:
            with driver.cursor(row_factory=namedtuple_row) as cur:
                yield cur
        except psycopg.Error as exc:
            if driver.broken or driver.closed:
                invalidate()
            raise DBAPIError.instance(getattr(exc, "_tracker_sql", None), None, exc, psycopg.Error) from exc


def run(cur: Any, sql: str, params: dict[str, Any]) -> list[Any]:
    """Execute one statement on a :func:`driver_cursor`; its rows."""
    for observe in observers:
        observe(sql, params)
    try:
        cur.execute(sql, params)
    except Exception as exc:
        exc._tracker_sql = sql  # type: ignore[attr-defined]  # named in the error, as SQLAlchemy would
        raise
    return cur.fetchall()


def driver_rows(engine: Engine, statements: tuple[str, ...], params: dict[str, Any]) -> list[list[Any]]:
    """The rows of each statement, run in order on one :func:`driver_cursor`."""
    with driver_cursor(engine) as cur:
        return [run(cur, sql, params) for sql in statements]
