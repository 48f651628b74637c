"""The dispatcher: delivers planned callbacks by HTTP GET at their due time, retrying timeouts.

esms-api/callback-url.md: eSMS calls the CallbackUrl with GET, the data in the query string
(built by plan.py / wire.py in the samples' parameter order and encodings), and retries it up
to 5 times when the receiver times out, then gives up; an HTTP error is not retried.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.simulator import wire
from tracker.simulator.plan import Delivery
from tracker.simulator.settings import SimSettings

WORKERS = 8
USER_AGENT = "eSMS-Simulator/1.0"


@dataclass
class Job:
    """One delivery of one message's callback."""

    smsid: str
    url: str
    delivery: Delivery
    generation: int


@dataclass
class Attempt:
    http_status: int | None
    error: str | None
    timed_out: bool


def http_get(url: str, timeout: float) -> Attempt:
    """GET ``url`` byte for byte: a generic client would re-quote the braces of error_info."""
    parts = urlsplit(url)
    prefix = f"{parts.scheme}://{parts.netloc}"
    target = url[len(prefix) :] if url.startswith(prefix) else url
    if not target.startswith("/"):
        target = "/" + target
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return Attempt(response.status, None, False)
    except TimeoutError:
        return Attempt(None, "timeout", True)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}", False)
    finally:
        conn.close()


class Dispatcher:
    """A due-time heap, one lane per message (its callbacks go out one at a time), a worker pool."""

    def __init__(
        self,
        records_lock: threading.RLock,
        settings: Callable[[], SimSettings],
        count: Callable[[str, int], None],
    ) -> None:
        self._records_lock = records_lock
        self._settings = settings
        self._count = count
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._busy: set[str] = set()
        self._parked: dict[str, deque[Job]] = {}
        self._outstanding = 0
        self._generation = 0
        self._work: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._stopping = False

    @property
    def generation(self) -> int:
        return self._generation

    def start(self) -> None:
        """Idempotent, so the app also works when nobody called start explicitly."""
        with self._cond:
            if self._threads or self._stopping:
                return
            self._threads.append(threading.Thread(target=self._loop, name="sim-dispatcher", daemon=True))
            for i in range(WORKERS):
                self._threads.append(threading.Thread(target=self._worker, name=f"sim-callback-{i}", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for _ in range(WORKERS):
            self._work.put(None)
        for thread in self._threads:
            thread.join(timeout=1.0)

    def reset(self) -> None:
        """Forget everything queued; deliveries already in flight finish but no longer count."""
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self._parked.clear()
            self._busy.clear()
            self._outstanding = 0
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return self._outstanding

    def schedule(self, jobs: list[Job], base: float) -> None:
        """Queue jobs whose ``delivery.due`` is relative to the monotonic time ``base``."""
        self.start()
        with self._cond:
            for job in jobs:
                heapq.heappush(self._heap, (base + job.delivery.due, next(self._seq), job))
                self._outstanding += 1
            self._cond.notify_all()

    def deliver_now(self, job: Job) -> None:
        """Deliver in the caller's thread (an early callback, before the send's response)."""
        self.start()
        with self._cond:
            self._outstanding += 1
        self._run_job(job)

    def _loop(self) -> None:
        while True:
            ready: list[Job] = []
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    self._cond.wait(None if not self._heap else self._heap[0][0] - now)
                if self._stopping:
                    return
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    job = heapq.heappop(self._heap)[2]
                    if job.smsid in self._busy:
                        self._parked.setdefault(job.smsid, deque()).append(job)
                    else:
                        self._busy.add(job.smsid)
                        ready.append(job)
            for job in ready:
                self._work.put(job)

    def _worker(self) -> None:
        while True:
            job = self._work.get()
            if job is None:
                return
            try:
                self._run_job(job)
            finally:
                self._release_lane(job)

    def _release_lane(self, job: Job) -> None:
        with self._cond:
            if job.generation != self._generation:
                return
            waiting = self._parked.get(job.smsid)
            if waiting:
                self._work.put(waiting.popleft())
                if not waiting:
                    del self._parked[job.smsid]
            else:
                self._busy.discard(job.smsid)

    def _finish(self, job: Job) -> None:
        with self._cond:
            if job.generation == self._generation:
                self._outstanding -= 1

    def _run_job(self, job: Job) -> None:
        d = job.delivery
        settings = self._settings()
        if d.dropped:
            with self._records_lock:
                d.state, d.at = "dropped", wire.now_iso()
            self._count("dropped", 1)
            self._finish(job)
            return
        attempt = http_get(job.url, settings.callback_timeout)
        self._count("attempted", 1)
        with self._records_lock:
            d.attempts += 1
            d.at, d.http_status, d.error = wire.now_iso(), attempt.http_status, attempt.error
            # eSMS retries only when the receiver times out, never on an HTTP error.
            retry = attempt.timed_out and d.attempts <= settings.callback_retries
            if retry:
                d.state = "retrying"
            elif attempt.http_status is not None and 200 <= attempt.http_status < 300:
                d.state = "delivered"
            else:
                d.state = "failed"
        if retry:
            self._count("retried", 1)
            with self._cond:
                if job.generation == self._generation and not self._stopping:
                    due = time.monotonic() + settings.callback_retry_delay * settings.speed
                    heapq.heappush(self._heap, (due, next(self._seq), job))
                    self._cond.notify_all()
            return
        self._count("delivered" if d.state == "delivered" else "failed", 1)
        self._finish(job)
