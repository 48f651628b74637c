"""Engines and pools: a sender worker at full speed keeps its PostgreSQL connections (issue 15)."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support import OAID, make_settings, replace_settings
from tracker import create_app
from tracker import status as st
from tracker.db import utcnow
from tracker.models import Message
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker.loop import Worker, make_client

BURST = 200
WARM_UP = BURST // 4  # sent before the steady part: by then the pool has grown to what sending needs

_BACKENDS = "SELECT pid, backend_start, query FROM pg_stat_activity WHERE application_name = %s"


def queue_burst(engine, n: int) -> None:
    now = utcnow()
    with Session(engine) as s:
        s.add_all(
            [
                Message(
                    source="api",
                    status=st.QUEUED,
                    request_id=f"burst-{i}",
                    phone="+84901888484",
                    template_id="523194",
                    oa_id=OAID,
                    params=["x"],
                    order_id=f"B{i}",
                    sandbox=False,
                    attempts=0,
                    due_at=now,
                    created_at=now,
                    updated_at=now,
                )
                for i in range(n)
            ]
        )
        s.commit()


def accepted(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Message).where(Message.status == st.ACCEPTED))


class Backends:
    """Polls pg_stat_activity for one application_name: every backend seen, and when it started."""

    def __init__(self, url: str, application_name: str):
        self.conn = psycopg.connect(url.replace("+psycopg", ""), autocommit=True)
        self.name = application_name
        self.started: dict[int, object] = {}
        # The worker's LISTEN connection (opened when it goes idle) is its own, outside the pool.
        self.listeners: set[int] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def now(self) -> set[int]:
        """The backends open now (and every one seen so far is recorded)."""
        rows = self.conn.execute(_BACKENDS, (self.name,)).fetchall()
        for pid, started, query in rows:
            self.started.setdefault(pid, started)
            if query.startswith("LISTEN"):
                self.listeners.add(pid)
        return {pid for pid, _, _ in rows}

    def seen(self) -> dict[int, object]:
        return {pid: started for pid, started in self.started.items() if pid not in self.listeners}

    def _poll(self) -> None:
        while not self.stop.is_set():
            self.now()
            time.sleep(0.002)  # a connection opened for one use lives a few milliseconds

    def server_clock(self):
        return self.conn.execute("SELECT clock_timestamp()").fetchone()[0]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_worker_sending_at_full_speed_opens_no_new_connections(engine, db_url, tmp_path):
    name = f"tracker-test-{uuid.uuid4().hex[:8]}"
    sim = start_in_thread(SimSettings(seed=3, speed=0, drop_callback_rate=1.0))
    url = f"{db_url}{'&' if '?' in db_url else '?'}application_name={name}"  # names its backends
    settings = make_settings(url, tmp_path / "instance", TRACKER_SEND_RATE="0")
    settings = replace_settings(settings, esms_base_url=sim.base_url, esms_status_url=sim.status_url)
    # The engine `tracker worker` runs on: the app's, made from the settings (16 send threads).
    worker_engine = create_app(settings).extensions["engine"]
    worker = Worker(worker_engine, settings, make_client(settings))
    queue_burst(engine, BURST)
    backends = Backends(db_url, name)
    backends.thread.start()
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while accepted(engine) < WARM_UP and time.monotonic() < deadline:
            time.sleep(0.01)
        steady_from = backends.server_clock()
        while accepted(engine) < BURST and time.monotonic() < deadline:
            time.sleep(0.02)
        assert accepted(engine) == BURST
        backends.stop.set()
        backends.thread.join()
        alive = backends.now()
    finally:
        backends.stop.set()
        worker.stop.set()
        thread.join(20)
        sim.stop()
        worker_engine.dispose()
        backends.conn.close()
    pool_size = worker_engine.pool.size()
    seen = backends.seen()
    opened_steady = sorted(pid for pid, started in seen.items() if started > steady_from)
    closed = sorted(set(seen) - alive)
    report = (
        f"pool size {pool_size}, {len(seen)} backends seen, {len(opened_steady)} opened after "
        f"the warm-up, {len(closed)} closed during the burst"
    )
    # Every backend the worker used stayed open: none was forked for one use and closed again...
    assert closed == [], report
    # ...and the pool, not its overflow, covered the work: the steady part opened no more than it holds.
    assert len(seen) <= pool_size, report
    assert len(opened_steady) <= pool_size, report
