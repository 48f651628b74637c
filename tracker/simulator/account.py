"""The eSMS account behind the simulator: scripted error windows, balance, OA quota, journey tokens, TPS.

Each is a documented eSMS or Zalo behaviour: 101/103/799 ... are CodeResults of
esms-api/bang-ma-loi.md; the balance is GetBalance_json's (ham-lay-so-du-tai-khoan.md);
the quota is ZNS/GetQuota's (lay-qouta-tin-zalo-theo-oaid.md), and going over it is Zalo's
-144; journey tokens are what eSMS obtains from Zalo per journey (tin-zalo-hanh-trinh.md),
failing with Zalo's -148/-149/-1491/-150.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.simulator import wire
from tracker.simulator.settings import SimSettings
from tracker.simulator.validate import SendRequest

# CodeResults a send can get (bang-ma-loi.md, "all message types" or "Zalo" rows); a scripted
# window may answer any of them.
SEND_CODES: frozenset[str] = frozenset(
    {"99", "101", "102", "103", "108", "118", "124", "140", "143", "204", "789", "790", "791", "799", "801", "802"}
)


class WindowError(ValueError):
    """A scripted window with an undocumented code or no end."""


@dataclass
class Window:
    """Every send (of one OA, when ``oa_id`` is set) answers ``code`` until it ends."""

    id: int
    code: str
    oa_id: str | None
    until: float | None  # monotonic time
    sends_left: int | None
    answered: int = 0

    def active(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return self.sends_left is None or self.sends_left > 0

    def view(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "oaid": self.oa_id,
            "seconds_left": None if self.until is None else round(max(0.0, self.until - now), 3),
            "sends_left": self.sends_left,
            "answered": self.answered,
            "active": self.active(now),
        }


class RateLimiter:
    """Sliding one-second window, like eSMS's TPS limits on status queries."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._times and now - self._times[0] >= 1.0:
                self._times.popleft()
            if len(self._times) >= self.per_second:
                return False
            self._times.append(now)
            return True


class Account:
    """Account-level state; the FakeEsms lock guards it."""

    def __init__(self) -> None:
        self.windows: list[Window] = []
        self._ids = itertools.count(1)
        self.spent = 0.0
        # (OAID, Vietnam date) -> ZNS counted against the OA's daily quota.
        self.quota_used: dict[tuple[str, str], int] = {}
        # (OAID, phone, OrderId) -> monotonic time of the journey's first message.
        self.journeys: dict[tuple[str, str, str], float] = {}

    # -- scripted error windows ---------------------------------------------

    def add_window(self, spec: dict[str, Any]) -> Window:
        """``{"code": "101", "seconds": 30}``, optionally ``"oaid"`` and/or ``"sends"`` (a count)."""
        code = str(spec.get("code", "")).strip()
        if code not in SEND_CODES:
            raise WindowError(f"code must be one of eSMS's send codes {sorted(SEND_CODES, key=int)}")
        seconds, sends = spec.get("seconds"), spec.get("sends")
        if seconds is None and sends is None:
            raise WindowError("give seconds and/or sends")
        try:
            until = None if seconds is None else time.monotonic() + max(0.0, float(seconds))
            left = None if sends is None else max(0, int(sends))
        except (TypeError, ValueError) as exc:
            raise WindowError(str(exc)) from exc
        oa_id = spec.get("oaid")
        window = Window(next(self._ids), code, None if oa_id in (None, "") else str(oa_id), until, left)
        self.windows.append(window)
        return window

    def window_code(self, oa_id: str) -> str | None:
        """The code of the first active window covering a send from ``oa_id``; counts the send."""
        now = time.monotonic()
        self.windows = [w for w in self.windows if w.active(now)]
        for window in self.windows:
            if window.oa_id is None or window.oa_id == oa_id:
                window.answered += 1
                if window.sends_left is not None:
                    window.sends_left -= 1
                return window.code
        return None

    def windows_view(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [w.view(now) for w in self.windows if w.active(now)]

    # -- balance and quota ----------------------------------------------------

    def balance(self, initial: float) -> float:
        return initial - self.spent

    def quota_key(self, oa_id: str, at: datetime) -> tuple[str, str]:
        return oa_id, at.astimezone(wire.VN_TZ).date().isoformat()

    def count_quota(self, oa_id: str, at: datetime) -> int:
        """Counts one ZNS against the OA's quota of that (Vietnam) day; returns the count."""
        key = self.quota_key(oa_id, at)
        self.quota_used[key] = self.quota_used.get(key, 0) + 1
        return self.quota_used[key]

    # -- journey tokens -------------------------------------------------------

    def journey_age(self, key: tuple[str, str, str]) -> float:
        """Seconds since the journey's first message; 0 (and remembered) for a new one."""
        now = time.monotonic()
        started = self.journeys.setdefault(key, now)
        return now - started

    def zalo_refusal(self, req: SendRequest, settings: SimSettings, now: datetime) -> int | None:
        """Zalo's code when it must refuse this send whatever the draw said, else None:
        -144 over the OA's daily quota; for a journey, -148 without OrderId (no token can be
        found), -1491 with a template not registered as a journey at Zalo, -150 once the
        journey's token has expired (``journey_token_ttl``)."""
        if self.count_quota(req.oa_id, now) > settings.daily_quota:
            return wire.DAILY_QUOTA_EXCEEDED
        if not req.is_journey:
            return None
        if not req.order_id:
            return wire.JOURNEY_TOKEN_NOT_FOUND
        if not req.template.journey:
            return wire.JOURNEY_TOKEN_TYPE_MISMATCH
        ttl = settings.journey_token_ttl
        if ttl is not None and self.journey_age((req.oa_id, req.local_phone, req.order_id)) > ttl:
            return wire.JOURNEY_TOKEN_EXPIRED
        return None
