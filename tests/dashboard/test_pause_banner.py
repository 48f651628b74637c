"""The pause banner (tracker/dashboard/pause_banner.py) on every dashboard page, on both databases: a
sender worker meets the simulator's scripted account (103) or OA (799) error window over HTTP, the
circuit breaker pauses, and every page says so, in Vietnamese first, until eSMS accepts again."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
import requests
from sqlalchemy.orm import Session

from tests.dashboard.support import english, send_until_paused
from tests.simulator.support import quiet_settings
from tests.support import OAID, replace_settings
from tracker.db import make_engine
from tracker.esms.client import make_client
from tracker.schemas import NewMessage
from tracker.sending import pause, sender
from tracker.sending.queue import queue
from tracker.simulator import start_in_thread
from tracker.worker.loop import Worker

OTHER_OA = "1111111111111111111"
BANNER = re.compile(r'<div class="banner paused" role="alert" data-pauses>(.*?)</div>', re.S)


@pytest.fixture
def sim():
    running = start_in_thread(quiet_settings(drop_callback_rate=1.0))
    yield running
    running.stop()


@pytest.fixture
def cfg(settings, sim, monkeypatch):
    monkeypatch.setattr(sender, "_last_accepted", -sender.WARM_SECONDS)  # a cold worker: one send first
    return replace_settings(
        settings,
        esms_base_url=sim.base_url,
        esms_status_url=sim.status_url,
        send_timeout=2.0,
        pause_probe_base=0.5,
        pause_probe_cap=1.0,
    )


def queue_one(engine, cfg, oa_id: str, request_id: str) -> int:
    data = NewMessage.model_validate(
        {
            "phone": "0901888484",
            "template_id": "523194",
            "params": ["A"],
            "order_id": "DH7",
            "oa_id": oa_id,
            "request_id": request_id,
        }
    )
    with Session(engine) as s:
        return queue(s, cfg, data, source="api")[0].id


def banner(client, path: str) -> str | None:
    resp = client.get(path)
    assert resp.status_code == 200, path
    found = BANNER.search(resp.get_data(as_text=True))
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))).strip() if found else None


def test_an_account_pause_shows_on_every_page_until_it_lifts(engine, cfg, sim, reader):
    requests.post(f"{sim.url}/_sim/windows", json={"code": "103", "seconds": 60}, timeout=5)
    mid = queue_one(engine, cfg, OAID, "pb-1")
    assert banner(reader, "/") is None
    send_until_paused(engine, cfg)
    pages = ["/", "/messages", f"/messages/{mid}", "/journeys/DH7", "/upload"]
    for path in pages:
        text = banner(reader, path)
        assert text is not None, path
        assert text.startswith("Tạm dừng gửi tin cho toàn bộ tài khoản eSMS từ "), text
        assert "103" in text and "Số dư tài khoản không đủ để gửi tin" in text
    english(reader)
    text = banner(reader, "/messages")
    assert text.startswith("Sending is paused for the whole eSMS account since ")
    assert "eSMS answered 103 (Balance too low to send)" in text
    assert "Fix the eSMS account" in text and "next probe at " in text
    # Since when and the next probe, on the tracker's clock (dd/MM/yyyy HH:mm:ss).
    assert len(re.findall(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", text)) == 2
    # eSMS accepts again: the next probe lifts the pause, and the banner goes.
    requests.delete(f"{sim.url}/_sim/windows", timeout=5)
    worker = Worker(engine, cfg, make_client(cfg))
    try:
        deadline = time.monotonic() + 10
        while pause.current(engine) and time.monotonic() < deadline:
            worker.run_once()
            time.sleep(0.1)
    finally:
        worker.pool.shutdown()
    assert banner(reader, "/") is None


def test_an_oa_pause_names_the_oa(engine, cfg, sim, client):
    requests.post(f"{sim.url}/_sim/windows", json={"code": "799", "seconds": 60, "oaid": OTHER_OA}, timeout=5)
    queue_one(engine, cfg, OTHER_OA, "pb-2")
    send_until_paused(engine, cfg)
    text = banner(client, "/")
    assert text.startswith(f"Sending is paused for OA {OTHER_OA} since ")
    assert "799" in text and "Fix the Zalo OA" in text and "Its messages stay queued" in text


def test_not_shown_before_signing_in(engine, cfg, sim, locked):
    requests.post(f"{sim.url}/_sim/windows", json={"code": "101", "seconds": 60}, timeout=5)
    queue_one(engine, cfg, OAID, "pb-3")
    send_until_paused(engine, cfg)
    assert banner(locked, "/login") is None


def test_a_database_that_cannot_be_read_shows_no_banner(app):
    from tracker.dashboard import pause_banner

    dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    with app.test_request_context("/"):
        assert pause_banner.lines(dead) == []
    dead.dispose()
