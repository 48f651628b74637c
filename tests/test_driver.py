"""tracker.driver: fixed statements on an autocommit twin pool, and the connection a process holds (issue 14)."""

from __future__ import annotations

import os
import threading
import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tracker import db, driver

# -- the autocommit twin (issue 14) ----------------------------------------------------------------


@pytest.mark.parametrize("made_by", ["make_engine", "create_engine"])
def test_driver_statements_commit_by_themselves_on_either_kind_of_engine(db_url, made_by):
    """make_engine's engines get an autocommit twin pool; any other engine is switched per use.
    Either way a statement is committed on its own, and the shared pool is left as it was."""
    if not db_url.startswith("postgresql"):
        return  # driver statements are PostgreSQL's (SQLite goes through SQLAlchemy)
    eng = db.make_engine(db_url) if made_by == "make_engine" else create_engine(db_url)
    other = db.make_engine(db_url)
    name = f"twin-{uuid.uuid4().hex[:8]}"
    try:
        driver.rows(
            eng,
            ("INSERT INTO login_attempts (key, failures, last_at) VALUES (%(k)s, 1, now()) RETURNING key",),
            {"k": name},
        )
        with other.connect() as conn:
            assert conn.execute(text("SELECT failures FROM login_attempts WHERE key = :k"), {"k": name}).scalar() == 1
        with eng.connect() as conn:  # the shared pool's connections still open transactions
            conn.execute(text("DELETE FROM login_attempts WHERE key = :k"), {"k": name})
            conn.rollback()
        with other.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM login_attempts WHERE key = :k"), {"k": name}).scalar() == 1
        assert ("_tracker_driver_pool" in eng.__dict__) is (made_by == "make_engine")
    finally:
        with other.begin() as conn:
            conn.execute(text("DELETE FROM login_attempts WHERE key = :k"), {"k": name})
        twin = eng.__dict__.get("_tracker_driver_pool")
        eng.dispose()
        other.dispose()
    if twin is not None:
        assert twin.pool.checkedin() == 0  # disposed with its engine: no connection left open


# -- the held connection (issue 14) ----------------------------------------------------------------

_PID = ("SELECT pg_backend_pid() AS pid",)


def _pid(eng) -> int:
    return driver.rows(eng, _PID, {})[0][0].pid


@pytest.fixture
def pg_engine(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("driver statements are PostgreSQL's (SQLite goes through SQLAlchemy)")
    eng = db.make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def admin(db_url):
    with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as conn:
        yield conn


def _alive(admin, pid: int) -> bool:
    return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0] == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_one_connection_is_held_between_uses_not_checked_in(pg_engine):
    first = _pid(pg_engine)
    assert [_pid(pg_engine) for _ in range(5)] == [first] * 5
    twin = driver.twin(pg_engine)
    # Kept checked out between uses: the pool has lent it and holds nothing idle.
    assert (twin.pool.checkedout(), twin.pool.checkedin()) == (1, 0)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_thread_finding_it_in_use_takes_its_own_and_gives_it_back(pg_engine):
    held = _pid(pg_engine)
    seen: list[int] = []
    with driver.cursor(pg_engine) as cur:  # this thread holds it...
        assert driver.run(cur, _PID[0], {})[0].pid == held
        other = threading.Thread(target=lambda: seen.append(_pid(pg_engine)))
        other.start()
        other.join(10)
    assert seen and seen[0] != held  # ...so the other thread used another connection, without waiting
    twin = driver.twin(pg_engine)
    assert (twin.pool.checkedout(), twin.pool.checkedin()) == (1, 1)
    assert _pid(pg_engine) == held


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_held_connection_killed_fails_one_statement_then_is_replaced(pg_engine, admin):
    held = _pid(pg_engine)
    admin.execute("SELECT pg_terminate_backend(%s)", (held,))
    with pytest.raises(DBAPIError):  # as through SQLAlchemy's pool: the statement that finds it dead fails
        _pid(pg_engine)
    fresh = _pid(pg_engine)
    assert fresh != held and _alive(admin, fresh)
    assert driver.twin(pg_engine).pool.checkedout() == 1  # the dead one went back as invalid


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_held_connection_idle_long_enough_is_pinged_and_replaced_before_use(pg_engine, admin, monkeypatch):
    held = _pid(pg_engine)
    admin.execute("SELECT pg_terminate_backend(%s)", (held,))
    monkeypatch.setattr(db, "IDLE_PING_AFTER", 0.0)  # every use counts as after an idle spell
    fresh = _pid(pg_engine)  # no error: the ping found it dead first
    assert fresh != held


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_disposing_of_the_engine_closes_the_held_connection(pg_engine, admin):
    held = _pid(pg_engine)
    pg_engine.dispose()
    assert not _alive(admin, held)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_forked_child_never_uses_its_parents_held_connection(pg_engine):
    held = _pid(pg_engine)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write, str(_pid(pg_engine)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_pid = int(pipe.read() or 0)
    os.waitpid(child, 0)
    assert child_pid and child_pid != held
    assert _pid(pg_engine) == held  # and the parent's is still sound
