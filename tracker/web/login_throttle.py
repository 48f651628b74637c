"""Sign-in throttling: failed dashboard passwords per client address, slowed down and then locked."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from tracker.web.security import client_address, parse_address

log = logging.getLogger("tracker.web.login_throttle")


@dataclass
class _Record:
    failures: int = 0
    next_try: float = 0.0
    last: float = 0.0


class LoginLimiter:
    """Failed sign-ins per client address: a few free, then doubling waits, then a lock.

    Waits are enforced by refusing early tries (429), never by sleeping, so an
    attacker cannot tie up web workers. State is per process: with N gunicorn
    workers an address gets at most N times the tries before every one locks it.
    """

    def __init__(self, *, free: int = 5, lock_after: int = 10, lock_seconds: float = 900.0,
                 max_delay: float = 60.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.lock_after, self.lock_seconds = free, lock_after, lock_seconds
        self.max_delay, self.max_entries = max_delay, max_entries
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(address: str) -> str:
        """IPv6 callers are counted per /64: one host usually holds the whole block."""
        addr = parse_address(address)
        if isinstance(addr, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((addr, 64), strict=False))
        return str(addr) if addr is not None else address

    def wait(self, address: str) -> float:
        """Seconds before ``address`` may try a password again (0: now)."""
        with self._lock:
            rec = self._records.get(self.key(address))
            if rec is None:
                return 0.0
            now = self._clock()
            if rec.failures >= self.lock_after and now >= rec.next_try:
                # The lock has run out: start afresh.
                del self._records[self.key(address)]
                return 0.0
            return max(0.0, rec.next_try - now)

    def failed(self, address: str) -> None:
        with self._lock:
            now = self._clock()
            key = self.key(address)
            rec = self._records.get(key)
            if rec is None:
                self._forget_oldest()
                rec = self._records[key] = _Record()
            rec.failures += 1
            rec.last = now
            if rec.failures >= self.lock_after:
                rec.next_try = now + self.lock_seconds
                log.warning("sign-in locked for %.0f s after %d failures from %s", self.lock_seconds,
                            rec.failures, key)
            elif rec.failures > self.free:
                rec.next_try = now + min(self.max_delay, 2.0 ** (rec.failures - self.free))

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._records.pop(self.key(address), None)

    def _forget_oldest(self) -> None:
        # Bounded memory even when someone cycles through many addresses.
        if len(self._records) < self.max_entries:
            return
        now = self._clock()
        stale = [k for k, r in self._records.items() if r.next_try <= now]
        for k in stale or sorted(self._records, key=lambda k: self._records[k].last)[: self.max_entries // 10]:
            del self._records[k]


def init_app(app: Flask) -> None:
    # One limiter per app (and so per process): see LoginLimiter on gunicorn workers.
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
