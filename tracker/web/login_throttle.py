"""Sign-in throttling: failed dashboard passwords per client address, slowed down and then locked.

The counters live in the database (``login_attempts``), so every gunicorn worker and every
host behind the same database counts the same failures: N workers no longer give N times
the tries. While a client waits or is locked, no password is checked, the right one
included, and every attempt gets the same ``429`` (issue 12: the right password used to get
in between the refusals). A lock does not start afresh when it runs out: the failures stay
until a success or a day without any, so after ``lock_after`` failures a client gets one
guess per ``lock_seconds``.

Beside each client's counter, one global counter (key ``*``) sees every failure: past
``global_free`` of them within an hour, every sign-in anywhere waits ``global_delay`` after
each further failure, so guesses spread over many addresses are slowed too. (The price: while
such a guess runs, the rightful user may also have to wait a few seconds.)

The client address is what ``TRACKER_PROXY_HOPS`` makes of ``X-Forwarded-For``: behind a
proxy it must be set, or every client shares the proxy's address (and its lock).
"""

from __future__ import annotations

import ipaddress
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from tracker.models import LoginAttempt
from tracker.web.security import client_address, parse_address

log = logging.getLogger("tracker.web.login_throttle")

GLOBAL_KEY = "*"
_T = LoginAttempt.__table__


class LoginLimiter:
    """Failed sign-ins per client address (and in all), counted in the database.

    Waits are enforced by refusing early tries (429), never by sleeping, so an attacker
    cannot tie up web workers. ``engine`` None means the app's (``tracker.db.get_engine``).
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        free: int = 5,
        lock_after: int = 10,
        lock_seconds: float = 900.0,
        max_delay: float = 60.0,
        global_free: int = 100,
        global_delay: float = 5.0,
        forget_after: float = 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.free, self.lock_after, self.lock_seconds = free, lock_after, lock_seconds
        self.max_delay, self.global_free, self.global_delay = max_delay, global_free, global_delay
        self.forget_after = forget_after
        self._clock = clock

    @staticmethod
    def key(address: str) -> str:
        """IPv6 callers are counted per /64: one host usually holds the whole block."""
        addr = parse_address(address)
        if isinstance(addr, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((addr, 64), strict=False))
        return (str(addr) if addr is not None else address)[:64]

    def _engine(self) -> Engine:
        if self.engine is not None:
            return self.engine
        from tracker.db import get_engine  # the app's, inside a request

        return get_engine()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def wait(self, address: str) -> float:
        """Seconds before ``address`` may try a password again (0: now)."""
        now = self._now()
        forget = now - timedelta(seconds=self.forget_after)
        keys = (self.key(address), GLOBAL_KEY)
        with self._engine().connect() as conn:
            rows = conn.execute(
                select(LoginAttempt.locked_until, LoginAttempt.last_at).where(LoginAttempt.key.in_(keys))
            ).all()
        waits = [(until - now).total_seconds() for until, last in rows if until is not None and last >= forget]
        return max([0.0, *waits])

    def _count(self, conn: Connection, key: str, now: datetime, forget: datetime) -> int:
        """Add one failure to ``key`` (starting over when its last one is older than ``forget``)."""
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(_T).values(key=key, failures=1, last_at=now, locked_until=None)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_T.c.key],
            set_={
                "failures": case((_T.c.last_at < forget, 1), else_=_T.c.failures + 1),
                "last_at": now,
            },
        ).returning(_T.c.failures)
        return conn.execute(stmt).scalar_one()

    def failed(self, address: str) -> None:
        now = self._now()
        key = self.key(address)
        with self._engine().begin() as conn:
            failures = self._count(conn, key, now, now - timedelta(seconds=self.forget_after))
            until = None
            if failures >= self.lock_after:
                until = now + timedelta(seconds=self.lock_seconds)
                log.warning("sign-in locked for %.0f s after %d failures from %s", self.lock_seconds, failures, key)
            elif failures > self.free:
                until = now + timedelta(seconds=min(self.max_delay, 2.0 ** (failures - self.free)))
            if until is not None:
                conn.execute(_T.update().where(_T.c.key == key).values(locked_until=until))
            # The budget of all clients together counts failures within the last hour.
            total = self._count(conn, GLOBAL_KEY, now, now - timedelta(hours=1))
            if total > self.global_free:
                conn.execute(
                    _T.update()
                    .where(_T.c.key == GLOBAL_KEY)
                    .values(locked_until=now + timedelta(seconds=self.global_delay))
                )
                if total % self.global_free == 1:
                    log.warning(
                        "!!! %d failed sign-ins within an hour from many addresses: every sign-in "
                        "now waits %.0f s after each failure !!!",
                        total,
                        self.global_delay,
                    )
            if random.random() < 0.02:  # now and then, forget clients quiet for a day
                conn.execute(
                    delete(LoginAttempt).where(LoginAttempt.last_at < now - timedelta(seconds=self.forget_after))
                )

    def succeeded(self, address: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(delete(LoginAttempt).where(LoginAttempt.key == self.key(address)))


def init_app(app: Flask) -> None:
    # State is in the database; the limiter only holds the policy (tests swap in their own).
    app.extensions["login_limiter"] = LoginLimiter()


def limiter(app: Flask | None = None) -> LoginLimiter:
    return (app or current_app).extensions["login_limiter"]


def login_wait() -> float:
    """For the login view, before checking a password: seconds this client must still wait (0: go ahead).

    A non-zero answer means: do not check the password, answer 429 with Retry-After.
    """
    return limiter().wait(client_address())


def login_failed() -> None:
    """For the login view: a wrong password came from this client."""
    limiter().failed(client_address())


def login_succeeded() -> None:
    """For the login view: this client signed in; its failures are forgotten."""
    limiter().succeeded(client_address())
