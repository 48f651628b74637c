"""The sender loop: claim due messages, send them side by side, record each result."""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine

from tracker.config import Settings
from tracker.esms.client import EsmsClient, make_client
from tracker.sending import sender
from tracker.sending.queue import QUEUE_CHANNEL
from tracker.sending.ratelimit import PerKey
from tracker.web import metrics
from tracker.worker import background

log = logging.getLogger("tracker.worker.loop")

IDLE_POLL = 0.1  # seconds between looks at the queue on SQLite (no LISTEN there)


class Worker:
    def __init__(self, engine: Engine, settings: Settings, client: EsmsClient | None = None):
        self.engine = engine
        self.settings = settings
        self.client = client or make_client(settings)
        self.pool = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="send")
        self.stop = threading.Event()
        # Per OA, so one OA's burst never trips eSMS's TPS (per worker process).
        self.limiter = PerKey(settings.send_rate)
        self._listener = _Listener(engine) if engine.dialect.name == "postgresql" else None

    def process(self, job: sender.Job) -> str:
        try:
            self.limiter.acquire(job.oa_id)
            if sender.held(self.engine, job):
                # A pause opened after this batch was claimed: keep the message for later.
                sender.release(self.engine, job)
                metrics.count_send("held")
                return "held"
            result = sender.send(self.client, self.settings, job)
            status = sender.record(self.engine, self.settings, job, result)
            metrics.count_send(status)
            return status
        except Exception:
            # The lease expires and another pass retries with the same RequestId.
            log.exception("send of message %s failed unexpectedly", job.id)
            metrics.count_send("error")
            return "error"

    def run_once(self) -> int:
        """Claim one batch and send it; returns how many messages were handled."""
        # Cold (nothing accepted lately): one send first, to learn whether eSMS accepts at all.
        limit = self.settings.worker_threads * 2 if sender.warm() else 1
        jobs = sender.claim(self.engine, self.settings, limit=limit)
        if jobs:
            list(self.pool.map(self.process, jobs))
        return len(jobs)

    def run(self) -> None:
        log.info("worker started (%d send threads)", self.settings.worker_threads)
        metrics.serve_worker_metrics()
        helpers = background.start(self.engine, self.settings, self.client, self.stop)
        while not self.stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception:
                log.exception("claiming work failed; retrying shortly")
                self.stop.wait(1.0)
                continue
            self._idle()
        self.pool.shutdown(wait=True)
        for thread in helpers:
            thread.join(timeout=15)
        log.info("worker stopped")

    def _idle(self) -> None:
        if self._listener is not None:
            self._listener.wait(1.0, self.stop)
        else:
            self.stop.wait(IDLE_POLL)

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())


class _Listener:
    """Waits for NOTIFY on the queue channel so an idle worker reacts at once."""

    def __init__(self, engine: Engine):
        self.url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = None

    def wait(self, timeout: float, stop: threading.Event) -> None:
        import psycopg

        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(self.url, autocommit=True)
                self.conn.execute(f"LISTEN {QUEUE_CHANNEL}")
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                pass
        except Exception:
            # The database may be restarting; fall back to a plain pause.
            self.conn = None
            stop.wait(min(timeout, 1.0))
