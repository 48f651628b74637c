"""The circuit breaker for account and OA errors (issue 11, part 5), against the simulator's
scripted error windows (POST /_sim/windows; codes of esms-api/bang-ma-loi.md), on both databases."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.simulator.support import quiet_settings
from tests.support import API_TOKEN, OAID, replace_settings
from tracker.db import utcnow
from tracker.esms.client import make_client
from tracker.models import Event, Message, SendPause
from tracker.schemas import NewMessage
from tracker.sending import pause, sender
from tracker.sending.queue import queue as queue_message
from tracker.simulator import start_in_thread
from tracker.worker.loop import Worker

OTHER_OA = "1111111111111111111"


@pytest.fixture
def sim():
    running = start_in_thread(quiet_settings(drop_callback_rate=1.0))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def cold(monkeypatch):
    """A worker that has sent nothing lately (the first of these tests warms the process)."""
    monkeypatch.setattr(sender, "_last_accepted", -sender.WARM_SECONDS)


@pytest.fixture
def cfg(settings, sim):
    # Probes 0.5, 1, 2, 2 ... seconds apart: the 60 s cap of production scaled down.
    return replace_settings(
        settings,
        esms_base_url=sim.base_url,
        esms_status_url=sim.status_url,
        backoff_base=0.01,
        backoff_cap=0.02,
        send_timeout=2.0,
        max_attempts=2,
        pause_probe_base=0.5,
        pause_probe_cap=2.0,
    )


def window(sim, **spec) -> None:
    assert requests.post(f"{sim.url}/_sim/windows", json=spec, timeout=5).ok


def queue_many(engine, cfg, n: int, oa_id: str = OAID, prefix: str = "m") -> list[int]:
    ids = []
    with Session(engine) as s:
        for i in range(n):
            data = NewMessage.model_validate(
                {
                    "phone": "0901888484",
                    "template_id": "523194",
                    "params": ["A"],
                    "order_id": f"DH{i}",
                    "oa_id": oa_id,
                    "request_id": f"{prefix}{i}",
                }
            )
            msg, _ = queue_message(s, cfg, data, source="api")
            ids.append(msg.id)
    return ids


def statuses(engine) -> dict[str, int]:
    with Session(engine) as s:
        return dict(s.execute(select(Message.status, func.count()).group_by(Message.status)).all())


def wasted(engine) -> int:
    """Sends eSMS answered with a pausing code (the breaker's cost)."""
    with Session(engine) as s:
        return sum(1 for e in s.scalars(select(Event).where(Event.kind == "send")) if e.data["result"] == "paused")


def paused_log(engine) -> list[tuple[int, float]]:
    """(message id, seconds after the first) of every wasted send, for a failure's message."""
    with Session(engine) as s:
        events = [
            e
            for e in s.scalars(select(Event).where(Event.kind == "send").order_by(Event.id))
            if e.data["result"] == "paused"
        ]
    return [(e.message_id, round((e.created_at - events[0].created_at).total_seconds(), 3)) for e in events]


class Running:
    """A sender worker looping in a thread, as `tracker worker` does."""

    def __init__(self, engine, cfg):
        self.worker = Worker(engine, cfg, make_client(cfg))
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.worker.stop.is_set():
            if not self.worker.run_once():
                self.worker.stop.wait(0.02)

    def close(self):
        self.worker.stop.set()
        self.thread.join(10)
        self.worker.pool.shutdown()


def wait_for(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_101_window_pauses_then_everything_is_accepted(engine, cfg, sim):
    """The issue's measurement scaled down: 101 for 5 s with 100 messages queued; a handful
    of sends are wasted, nothing ends, and all 100 are accepted soon after the fault clears."""
    window(sim, code="101", seconds=5)
    cleared_at = time.monotonic() + 5
    queue_many(engine, cfg, 100)
    worker = Running(engine, cfg)
    try:
        assert wait_for(lambda: pause.current(engine), 3)
        time.sleep(2)
        during = statuses(engine)
        # Held, not ended: every message is still waiting, none final (max_attempts is 2).
        assert set(during) <= {"queued", "sending"} and sum(during.values()) == 100
        assert wait_for(lambda: statuses(engine).get("accepted") == 100, 15)
        resumed_after = time.monotonic() - cleared_at
    finally:
        worker.close()
    assert resumed_after < 5, resumed_after
    # One cold first send, then one per probe (0.5, 1.5, 3.5 s; the one at 5.5 s is accepted).
    assert wasted(engine) <= 5, paused_log(engine)
    assert pause.current(engine) == []


def test_the_reason_is_visible_while_paused_and_goes_when_it_lifts(engine, cfg, sim, client):
    window(sim, code="103", seconds=60)
    first, *_ = queue_many(engine, cfg, 3)
    worker = Running(engine, cfg)
    try:
        assert wait_for(lambda: pause.current(engine), 5)
        with Session(engine) as s:
            msg = s.get(Message, first)
            assert (msg.status, msg.error_code, msg.final_at) == ("queued", "103", None)
            data = msg.to_dict()
            assert data["error_class"] == "account" and "pauses for the whole account" in data["error_advice"]
        health = client.get("/healthz").get_json()
        assert health["status"] == "ok" and health["sending"] == "paused"
        [shown] = health["pauses"]
        assert (shown["scope"], shown["code"], shown["oa_id"]) == ("account", "103", None)
        assert shown["advice"] and shown["reason_vi"] and shown["next_probe_at"]
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"}).text
        assert 'tracker_sending_paused{code="103",oa_id="",scope="account"} 1.0' in metrics
        assert "tracker_sending_paused_total 1.0" in metrics
        # The balance is topped up: the next probe goes through and the queue drains.
        requests.delete(f"{sim.url}/_sim/windows", timeout=5)
        assert wait_for(lambda: statuses(engine).get("accepted") == 3, 10)
    finally:
        worker.close()
    with Session(engine) as s:
        assert s.get(Message, first).to_dict()["error_class"] is None
    health = client.get("/healthz").get_json()
    assert health["sending"] == "ok" and health["pauses"] == []
    assert (
        "tracker_sending_paused_total 0.0"
        in client.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"}).text
    )


def test_an_oa_code_pauses_only_that_oa(engine, cfg, sim):
    window(sim, code="799", seconds=60, oaid=OTHER_OA)
    held = queue_many(engine, cfg, 5, oa_id=OTHER_OA, prefix="x")
    queue_many(engine, cfg, 5, prefix="y")
    worker = Running(engine, cfg)
    try:
        assert wait_for(lambda: statuses(engine).get("accepted") == 5, 10)
        [p] = pause.current(engine)
        assert (p.scope, p.oa_id, p.code) == (f"oa:{OTHER_OA}", OTHER_OA, "799")
        with Session(engine) as s:
            assert {s.get(Message, i).status for i in held} <= {"queued", "sending"}
        requests.delete(f"{sim.url}/_sim/windows", timeout=5)
        assert wait_for(lambda: statuses(engine).get("accepted") == 10, 10)
    finally:
        worker.close()
    assert pause.current(engine) == []


def test_one_probe_at_a_time_across_processes(engine, cfg):
    """Taking the probe is one conditional UPDATE: of many claimants, exactly one wins."""
    now = utcnow()
    with engine.begin() as conn:
        pause.open_or_refuse(conn, cfg, pause.ACCOUNT, OAID, "101", "Wrong keys", probe=False)
        conn.execute(update(SendPause).values(probe_at=now))
    winners = [pause.take_probe(engine, cfg, pause.ACCOUNT) for _ in range(5)]
    assert winners == [True, False, False, False, False]


@pytest.mark.parametrize("probes, delay", [(0, 0.5), (1, 1.0), (2, 2.0), (3, 2.0), (50, 2.0)])
def test_probe_backoff_is_capped(cfg, probes, delay):
    assert pause.probe_delay(cfg, probes) == delay


def test_the_cap_may_not_exceed_a_minute(tmp_path, db_url):
    from tests.support import make_settings
    from tracker.config import ConfigError

    assert make_settings(db_url, tmp_path, TRACKER_PAUSE_PROBE_CAP="60").pause_probe_cap == 60
    with pytest.raises(ConfigError, match="TRACKER_PAUSE_PROBE_CAP"):
        make_settings(db_url, tmp_path, TRACKER_PAUSE_PROBE_CAP="61")
