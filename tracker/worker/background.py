"""The worker's duties beside sending, each in its own thread: spool replay, forwarding, folding
the status counters, reconciliation, the account readings (balance and quotas)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from tracker.callbacks import replay, spool
from tracker.config import Settings
from tracker.esms.client import EsmsClient
from tracker.queries import counters
from tracker.worker.forwarding import Forwarder
from tracker.worker.readings import Readings
from tracker.worker.reconcile import Reconciler

log = logging.getLogger("tracker.worker.loop")

SPOOL_EVERY = 1.0
# PostgreSQL's status changes reach daily_counts this often (readers add the rest meanwhile).
FOLD_EVERY = 1.0
FORWARD_IDLE = 0.5
# After a failure (the database restarting, say), wait this long before trying again.
FAILURE_PAUSE = 2.0


def _loop(name: str, stop: threading.Event, every: float, step: Callable[[], int | None]) -> threading.Thread:
    """Run ``step`` every ``every`` seconds, at once again while it reports work done."""

    def run() -> None:
        while not stop.is_set():
            try:
                busy = step()
            except spool.DATABASE_DOWN:
                log.warning("%s: database unreachable; retrying in %.0f s", name, FAILURE_PAUSE)
                busy, pause = 0, FAILURE_PAUSE
            except Exception:
                log.exception("%s failed; retrying in %.0f s", name, FAILURE_PAUSE)
                busy, pause = 0, FAILURE_PAUSE
            else:
                pause = every
            if not busy:
                stop.wait(pause)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def start(engine: Engine, settings: Settings, client: EsmsClient, stop: threading.Event) -> list[threading.Thread]:
    forwarder = Forwarder(engine, settings)
    reconciler = Reconciler(engine, settings, client)
    readings = Readings(engine, settings, client)
    return [
        _loop("spool-replay", stop, SPOOL_EVERY, lambda: replay.replay(engine, settings)),
        _loop("forwarding", stop, FORWARD_IDLE, forwarder.run_once),
        # Never "busy": one fold takes everything there is.
        _loop("count-fold", stop, FOLD_EVERY, lambda: counters.fold(engine) and None),
        # The pass itself reports no "busy": it always waits the full interval before the next.
        _loop("reconcile", stop, settings.reconcile_interval, lambda: reconciler.run_once() and None),
        # Balance and quotas every few minutes; a pass that read nothing waits the same.
        _loop("account-readings", stop, settings.account_refresh, lambda: readings.run_once() and None),
    ]
