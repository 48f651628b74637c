"""Fixed PostgreSQL statements straight to psycopg: the hot paths' way to the database (issue 14).

The webhook's statements and the API's lookups skip SQLAlchemy's per-call processing. They run
on an autocommit *twin* of the app's engine (its own small pool, so the shared pool's
connections never switch modes), and a process keeps one of the twin's connections checked out
between uses: in a gunicorn sync worker every request finds it waiting, and psycopg's prepared
statements with it. Errors come out as SQLAlchemy's exception classes, as they would through
SQLAlchemy (the spool and the error pages expect them).
"""

from __future__ import annotations

import os
import threading
import time
from collections import namedtuple
from typing import Any

import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from tracker import db

# Called with (sql, params) before each driver statement; bench/lookup_bench.py EXPLAINs them.
observers: list[Any] = []

# Waiting this long for the user of a held connection before disposing of it anyway.
_DISPOSE_WAIT = 10.0


class _Held:
    """The twin connection a process keeps checked out between uses, for one user at a time.

    Checking a connection out of the pool and back in cost each lookup about 50 µs of its
    ~600 µs (bench/README.md). A thread that finds it in use takes one from the pool as before,
    so a threaded server never waits for it; one lock per process, not a connection per thread,
    so short-lived threads leave nothing behind.
    """

    def __init__(self, twin: Engine) -> None:
        self.twin = twin
        self.lock = threading.Lock()
        self.pooled: Any = None
        self.pid = 0
        self.used_at = 0.0

    def take(self) -> Any:
        """The held connection (the caller holds ``lock``): checked out on first use, made again
        after a fork, and pinged first when it sat idle, as the pool pings on checkout."""
        now = time.monotonic()
        if self.pooled is not None and self.pid != os.getpid():
            # Forked: the connection and the pool's idle ones are the parent's. A new pool, with
            # the old one left as it is (SQLAlchemy's advice for a child process), not closing them.
            self.pooled = None
            self.twin.dispose(close=False)
        if self.pooled is not None and now - self.used_at >= db.IDLE_PING_AFTER:
            try:
                self.twin.dialect.do_ping(self.pooled.dbapi_connection)
            except Exception:
                self.drop(invalidate=True)
        if self.pooled is None:
            self.pooled = _checkout(self.twin)
            self.pid = os.getpid()
        self.used_at = now
        return self.pooled

    def drop(self, *, invalidate: bool) -> None:
        pooled, self.pooled = self.pooled, None
        if pooled is not None:
            pooled.invalidate() if invalidate else pooled.close()

    def release_for_dispose(self) -> None:
        # If its user does not finish in time it keeps the connection; the disposed pool takes it back.
        if self.lock.acquire(timeout=_DISPOSE_WAIT):
            try:
                if self.pid == os.getpid():
                    self.drop(invalidate=False)
            finally:
                self.lock.release()


def _checkout(twin: Engine) -> Any:
    try:
        return twin.raw_connection()
    except psycopg.Error as exc:  # the pool lets the driver's own errors out; SQLAlchemy's wrap them
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc


def twin(engine: Engine) -> Engine | None:
    """A twin of ``engine`` whose connections are autocommit for good (None for an engine
    :func:`tracker.db.make_engine` did not make: it has no recipe for a twin).

    Through the shared pool every checkout switched the connection to autocommit and every
    checkin switched it back (with a Connection object around it): about a tenth of the
    webhook's Python time (bench/README.md). The twin keeps its own small pool and is disposed
    with ``engine``.
    """
    found = engine.__dict__.get("_tracker_driver_pool")
    if found is None:
        made_with = engine.__dict__.get("_tracker_made_with")
        if made_with is None:
            return None
        url, kwargs = made_with
        # Nothing to roll back on return: every statement committed itself.
        found = create_engine(url, **{**kwargs, "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None})
        if not kwargs.get("pool_pre_ping"):
            db.ping_when_idle(found)
        held = _Held(found)
        found.__dict__["_tracker_held"] = held

        def _disposed(_engine: Engine) -> None:
            held.release_for_dispose()
            found.dispose()

        event.listen(engine, "engine_disposed", _disposed)
        engine.__dict__["_tracker_driver_pool"] = found
    return found


def cursor(engine: Engine) -> _Use:
    """A psycopg cursor on an autocommit connection, for fixed SQL
    (psycopg placeholders), as a context manager: the held connection when it is free, else
    one from the twin's pool (or, for an engine with no twin, from the shared pool)."""
    return _Use(engine)


class _Use:
    """One use of a connection: a class, not a generator, as it runs on every hot request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.held: _Held | None = None
        self.pooled: Any = None
        self.conn: Any = None  # a SQLAlchemy Connection, for an engine with no twin

    def __enter__(self) -> Any:
        found = twin(self.engine)
        if found is None:
            # The shared pool, switched to autocommit for this use (SQLAlchemy switches it back).
            self.conn = db.autocommit(self.engine).connect()
            self.pooled = self.conn.connection
        else:
            held: _Held = found.__dict__["_tracker_held"]
            if held.lock.acquire(blocking=False):
                try:
                    self.pooled = held.take()
                except BaseException:
                    held.lock.release()
                    raise
                self.held = held
            else:
                self.pooled = _checkout(found)
        try:
            self.cur = self.pooled.driver_connection.cursor()
        except BaseException:
            self._give_back(broken=False)
            raise
        return self.cur

    def __exit__(self, kind: Any, exc: Any, _tb: Any) -> None:
        self.cur.close()
        driver = self.pooled.driver_connection
        broken = isinstance(exc, psycopg.Error) and (driver.broken or driver.closed)
        self._give_back(broken=broken)
        if isinstance(exc, psycopg.Error):
            raise DBAPIError.instance(getattr(exc, "_tracker_sql", None), None, exc, psycopg.Error) from exc

    def _give_back(self, *, broken: bool) -> None:
        if self.held is not None:
            if broken:
                self.held.drop(invalidate=True)
            self.held.lock.release()
        elif self.conn is not None:
            if broken:
                self.conn.invalidate()
            self.conn.close()
        else:
            self.pooled.invalidate() if broken else self.pooled.close()


# Each statement's row class, made from its first result. psycopg's namedtuple_row decodes every
# column name and looks its class up again on every execute: ~15 µs of a ~100 µs lookup.
_ROW_CLASSES: dict[tuple[str, int], type] = {}
# Statements are fixed texts (the message list's filters make a few dozen); this only bounds a surprise.
_MAX_ROW_CLASSES = 1024


def run(cur: Any, sql: str, params: dict[str, Any]) -> list[Any]:
    """Execute one statement on a :func:`cursor`; its rows, as named tuples."""
    for observe in observers:
        observe(sql, params)
    try:
        cur.execute(sql, params)
    except Exception as exc:
        exc._tracker_sql = sql  # type: ignore[attr-defined]  # named in the error, as SQLAlchemy would
        raise
    found = cur.fetchall()
    if not found:
        return found
    key = (sql, len(found[0]))
    row_class = _ROW_CLASSES.get(key)
    if row_class is None:
        if len(_ROW_CLASSES) >= _MAX_ROW_CLASSES:
            _ROW_CLASSES.clear()
        row_class = _ROW_CLASSES[key] = namedtuple("Row", [c.name for c in cur.description], rename=True)  # type: ignore[misc]
    make = row_class._make
    return [make(r) for r in found]


def rows(engine: Engine, statements: tuple[str, ...], params: dict[str, Any]) -> list[list[Any]]:
    """The rows of each statement, run in order on one :func:`cursor`."""
    with cursor(engine) as cur:
        return [run(cur, sql, params) for sql in statements]
