"""Sending under faults on both databases: 5xx, 429 and resets retried with backoff and the same
RequestId, a worker SIGKILLed mid-send replaced after its lease, and the per-OA send rate."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support import OAID, ROOT, SECRET, replace_settings
from tracker.esms.client import SendResult, make_client
from tracker.models import Event, Message
from tracker.schemas import NewMessage
from tracker.sending import sender
from tracker.sending.queue import queue as queue_message
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker.loop import Worker


def queue(engine, cfg, rid: str, oa_id: str = OAID) -> int:
    data = NewMessage(
        phone="+84901888484", template_id="523194", params=["x"], order_id="F1", request_id=rid, oa_id=oa_id
    )
    with Session(engine) as s:
        return queue_message(s, cfg, data, source="api")[0].id


def get(engine, mid: int) -> Message:
    with Session(engine) as s:
        return s.get(Message, mid)


def send_events(engine, mid: int) -> list[Event]:
    with Session(engine) as s:
        return list(s.scalars(select(Event).where(Event.message_id == mid, Event.kind == "send").order_by(Event.id)))


class FlakyEsms:
    """Answers the first sends with a fault, then accepts; remembers each RequestId it saw."""

    def __init__(self, fault: str, times: int) -> None:
        self.fault, self.times, self.request_ids = fault, times, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.request_ids.append(__import__("json").loads(body)["RequestId"])
                if len(owner.request_ids) <= owner.times:
                    if owner.fault == "reset":
                        # SO_LINGER 0: close with a RST, as a crashing load balancer would.
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                        self.connection.close()
                        return
                    self.send_response(int(owner.fault))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                reply = b'{"CodeResult":"100","CountRegenerate":0,"SMSID":"FLAKY1"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/MainService.svc/json"


@pytest.mark.parametrize(
    ("fault", "code"), [("503", "http_503"), ("500", "http_500"), ("429", "http_429"), ("reset", "connection")]
)
def test_transport_faults_are_retried_with_the_same_request_id(engine, settings, fault, code):
    esms = FlakyEsms(fault, times=3)
    cfg = replace_settings(settings, esms_base_url=esms.base_url, backoff_base=0.01, backoff_cap=0.02)
    mid = queue(engine, cfg, "rid-faulty")
    worker = Worker(engine, cfg, make_client(cfg))
    deadline = time.monotonic() + 10
    while get(engine, mid).status != "accepted" and time.monotonic() < deadline:
        worker.run_once()
        time.sleep(0.02)
    worker.pool.shutdown()
    esms.server.shutdown()
    m = get(engine, mid)
    assert (m.status, m.smsid, m.attempts) == ("accepted", "FLAKY1", 4)
    assert esms.request_ids == ["rid-faulty"] * 4
    events = send_events(engine, mid)
    assert [(e.data["result"], e.error_code) for e in events] == [("retry", code)] * 3 + [("accepted", None)]


@pytest.mark.parametrize("attempt", range(1, 12))
def test_backoff_is_exponential_capped_and_jittered(settings, attempt):
    cfg = replace_settings(settings, backoff_base=2.0, backoff_cap=300.0)
    ceiling = min(300.0, 2.0 * 2 ** (attempt - 1))
    delays = [sender.backoff(cfg, attempt) for _ in range(200)]
    assert all(ceiling * 0.5 <= d <= ceiling for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # jittered, so a burst's retries spread out


def _worker_env(db_url: str, sim_url: str, tmp_path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_SIMULATOR": "1",
        "TRACKER_SIMULATOR_URL": sim_url,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),
        "TRACKER_LEASE_SECONDS": "2",
        "TRACKER_BACKOFF_BASE": "0.1",
        "TRACKER_BACKOFF_CAP": "0.2",
        **extra,
    }


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_worker_killed_mid_send_is_replaced_after_its_lease_without_a_second_accept(
    engine, db_url, settings, tmp_path
):
    # The simulator accepts the send, then holds its answer: the worker is killed while it waits.
    # Callbacks are dropped so the message stays `sending` until the lease runs out.
    sim = start_in_thread(
        SimSettings(seed=9, speed=0, drop_callback_rate=1.0, send_timeout_rate=1.0, timeout_delay=60.0)
    )
    first = second = None
    try:
        mid = queue(engine, settings, "rid-killed")
        first = subprocess.Popen(
            [sys.executable, "-m", "tracker", "worker"],
            cwd=ROOT,
            env=_worker_env(db_url, sim.url, tmp_path, TRACKER_SEND_TIMEOUT="120"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        sends = lambda: requests.get(f"{sim.url}/_sim/sends", timeout=5).json()["sends"]  # noqa: E731
        _wait(lambda: len(sends()) == 1, 30, "the first send")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert get(engine, mid).status == "sending"
        requests.post(f"{sim.url}/_sim/config", json={"send_timeout_rate": 0.0}, timeout=5)

        second = subprocess.Popen(
            [sys.executable, "-m", "tracker", "worker"],
            cwd=ROOT,
            env=_worker_env(db_url, sim.url, tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(lambda: get(engine, mid).status == "accepted", 30, "the retry")
        m = get(engine, mid)
        assert m.attempts == 2
        assert [s["request_id"] for s in sends()] == ["rid-killed", "rid-killed"]
        assert [s["code"] for s in sends()] == ["100", "124"]
        (truth,) = requests.get(f"{sim.url}/_sim/messages", params={"request_id": "rid-killed"}, timeout=5).json()[
            "messages"
        ]
        assert (truth["accept_count"], truth["repeat_count"]) == (1, 1)
        assert [e.data["result"] for e in send_events(engine, mid)] == ["accepted_earlier"]
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(15)
        sim.stop()


class RecordingEsms:
    """Accepts every send at once and notes when each OA's sends arrived."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def send_journey(self, *, oa_id: str, request_id: str, **_) -> SendResult:
        with self._lock:
            self.times[oa_id].append(time.monotonic())
        return SendResult("accepted", "100", smsid=f"S-{request_id}")


@pytest.mark.parametrize(
    ("rate", "busy", "min_span", "max_span"),
    [
        (10, 25, 1.4, 4.0),  # 10 at once (one second's burst), then 10 per second: the 25th at 1.5 s
        (0, 25, 0.0, 1.2),  # 0: unlimited
    ],
)
def test_send_rate_is_kept_per_oa(engine, settings, rate, busy, min_span, max_span):
    cfg = replace_settings(settings, send_rate=rate, worker_threads=8)
    for i in range(busy):
        queue(engine, cfg, f"busy-{i}")
    for i in range(5):
        queue(engine, cfg, f"quiet-{i}", oa_id="quiet-oa")
    esms = RecordingEsms()
    worker = Worker(engine, cfg, esms)
    start = time.monotonic()
    while worker.run_once():
        pass
    worker.pool.shutdown()
    busy_times, quiet_times = esms.times[OAID], esms.times["quiet-oa"]
    assert len(busy_times) == busy and len(quiet_times) == 5
    assert min_span <= max(busy_times) - start <= max_span
    # The other OA has its own bucket: its five go out together, not paced behind the busy one.
    assert max(quiet_times) - min(quiet_times) < 0.3
