"""The overview's eSMS account panel (tracker/dashboard/account_panel.py) on both databases: the balance
in đồng with Vietnamese digits, each OA's quota, the reading's time on the tracker's clock, the
low-balance warning, and a failed check shown beside the previous reading. The readings are made by
the worker's duty against the simulator over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.support import OAID, replace_settings
from tracker import create_app
from tracker.db import utcnow
from tracker.esms.client import make_client
from tracker.models import AccountReading
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker.readings import Readings


@pytest.fixture
def sim():
    running = start_in_thread(SimSettings(seed=2, speed=0.0, balance=1_234_567.0, daily_quota=5000))
    yield running
    running.stop()


@pytest.fixture
def read(engine, settings, sim):
    """One pass of the worker's readings against the simulator (or against nothing, ``down=True``)."""

    def run(down: bool = False) -> int:
        base = "http://127.0.0.1:9/MainService.svc/json" if down else sim.base_url
        real = replace_settings(settings, esms_base_url=base, esms_status_url=sim.status_url, send_timeout=1.0)
        return Readings(engine, real, make_client(real)).run_once()

    return run


def overview(client) -> str:
    resp = client.get("/")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def live(client) -> dict:
    return client.get("/dashboard/data/overview").get_json()


def test_nothing_read_yet_says_so(client):
    html = overview(client)
    assert "Not read yet" in html and "No quota read yet" in html
    assert live(client)["text"]["acct-warning"] == {"t": ""}


def test_balance_and_quota_in_vietnamese(reader, read):
    assert read() == 2
    html = overview(reader)
    assert "Số dư eSMS" in html
    assert "1.234.567" in html and "₫" in html  # Vietnamese digit grouping, đồng
    data = live(reader)
    assert data["text"]["acct-balance"].replace("\xa0", " ") == "1.234.567 ₫"
    assert data["text"]["acct-read"].startswith("đọc lúc ")
    (row,) = data["tables"]["quotas"]
    assert [c["t"] for c in row[:4]] == [OAID, "5.000", "5.000", "0,0%"]


def test_the_readings_time_is_on_the_vietnam_clock(client, read, engine):
    read()
    at = utcnow().replace(hour=17, minute=5, second=9, microsecond=0) - timedelta(days=1)  # 00:05:09 in Hà Nội
    with engine.begin() as conn:
        conn.execute(update(AccountReading).values(read_at=at, checked_at=at))
    text = live(client)["text"]["acct-read"]
    # 17:05:09 UTC is 00:05:09 the next day in Hà Nội; the age is about a day.
    assert text.startswith(f"read {(at + timedelta(hours=7)):%d/%m/%Y} 00:05:09 (")
    assert "h " in text and text.endswith(" ago)")


def test_a_balance_under_tracker_low_balance_warns(db_url, engine, settings, read):
    read()
    for limit, warned in ((1_000_000, False), (2_000_000, True)):
        app = create_app(replace_settings(settings, low_balance=limit), engine=engine)
        client = app.test_client()
        client.environ_base.update({"HTTP_ACCEPT_LANGUAGE": "en"})
        warning = live(client)["text"]["acct-warning"]
        assert bool(warning["t"]) is warned
        if warned:
            assert warning["cls"] == "warning"
            assert "Low eSMS balance: ₫1,234,567, below ₫2,000,000 (TRACKER_LOW_BALANCE)" in warning["t"]
            assert "Low eSMS balance" in overview(client)


def test_esms_unreachable_keeps_the_reading_and_shows_its_age(client, read):
    read()
    assert read(down=True) == 0
    data = live(client)
    assert data["text"]["acct-balance"] == "₫1,234,567"  # the previous reading
    failure = data["text"]["acct-failure"]
    assert failure["cls"] == "err"
    assert "eSMS did not answer the last check" in failure["t"] and "connection" in failure["t"]
    assert "Could not connect to eSMS" in failure["t"]
    (row,) = data["tables"]["quotas"]
    assert row[1]["t"] == "5,000" and "connection" in row[5]["t"]
