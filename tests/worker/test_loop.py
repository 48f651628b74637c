"""The sender loop: it sends what is queued, wakes at once on PostgreSQL, and stops when told."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.orm import Session

from tests.support import replace_settings
from tracker.esms.client import make_client
from tracker.models import Message
from tracker.schemas import NewMessage
from tracker.sending.queue import queue
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker.loop import Worker, _Listener


def new(engine, cfg, rid: str) -> int:
    data = NewMessage(phone="+84901888484", template_id="523194", params=["x"], order_id="W1", request_id=rid)
    with Session(engine) as s:
        return queue(s, cfg, data, source="api")[0].id


def test_running_worker_sends_new_messages_and_stops(engine, settings):
    sim = start_in_thread(SimSettings(seed=2, speed=0, drop_callback_rate=1.0))
    cfg = replace_settings(settings, esms_base_url=sim.base_url, esms_status_url=sim.status_url)
    worker = Worker(engine, cfg, make_client(cfg))
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        mids = [new(engine, cfg, f"w{i}") for i in range(5)]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with Session(engine) as s:
                if all(s.get(Message, m).status == "accepted" for m in mids):
                    break
            time.sleep(0.05)
        with Session(engine) as s:
            assert [s.get(Message, m).status for m in mids] == ["accepted"] * 5
    finally:
        worker.stop.set()
        thread.join(10)
        sim.stop()
    assert not thread.is_alive()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_idle_worker_is_woken_by_notify_not_by_its_timeout(engine, settings):
    listener = _Listener(engine)
    stop = threading.Event()
    listener.wait(0.01, stop)  # connect and LISTEN
    woke = threading.Event()

    def wait() -> None:
        listener.wait(30, stop)
        woke.set()

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.2)
    assert not woke.is_set()
    new(engine, settings, "notify-1")
    assert woke.wait(5), "queueing a message did not wake the worker"
    t.join()
