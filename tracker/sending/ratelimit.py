"""Token buckets that pace calls to eSMS (its TPS limits) from many threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` calls per second on average, bursts of at most ``burst``; 0 means unlimited."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        # A burst of one second's worth keeps the average within eSMS's per-second limit
        # without making an idle sender wait for its first call.
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock, self._sleep = clock, sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take one token, possibly on credit; returns how long the caller must wait."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1
            # Waiters queue up in debt, so each one's turn is fixed when it arrives (fair).
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Block until a call is allowed; returns the seconds waited."""
        if self.rate <= 0:
            return 0.0
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class PerKey:
    """One bucket per key (e.g. per OA), created on first use."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, key: str) -> TokenBucket:
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = self._buckets[key] = TokenBucket(self.rate, self.burst)
            return found

    def acquire(self, key: str) -> float:
        if self.rate <= 0:
            return 0.0
        return self.bucket(key).acquire()
