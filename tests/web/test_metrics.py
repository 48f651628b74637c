"""/metrics: counters by outcome, latency histogram, scrape-time gauges, protection, multiprocess mode."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from tests.support import API_TOKEN, OAID, ROOT, SECRET, make_settings, replace_settings
from tracker import tokens
from tracker.db import utcnow
from tracker.esms.client import make_client
from tracker.simulator import SimSettings, start_in_thread
from tracker.web import metrics
from tracker.worker.readings import Readings


def sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in the text exposition (0 when absent)."""
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" ([0-9.e+-]+)$"
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else 0.0


def callback(mid: int, smsid: str, send_status: int, success: int = 0) -> str:
    q = urlencode(
        {
            "SMSID": smsid,
            "SendStatus": send_status,
            "SendSuccess": success,
            "SendFailed": 0,
            "TotalPrice": "220.0000" if success else "0.0000",
            "TelcoId": 2,
        }
    )
    return f"/webhooks/esms/{tokens.make(SECRET, mid)}?{q}"


@pytest.fixture
def scrape(client, auth):
    def get() -> str:
        resp = client.get("/metrics", headers=auth)
        assert resp.status_code == 200, resp.data
        assert resp.mimetype == "text/plain"
        return resp.get_data(as_text=True)

    return get


def test_callbacks_are_counted_by_outcome_and_timed(client, make_message, scrape):
    mid = make_message(smsid="m-1")
    before = scrape()
    assert client.get(callback(mid, "m-1", 2)).status_code == 200  # applied
    assert client.get(callback(mid, "m-1", 2)).status_code == 200  # duplicate
    assert client.get(callback(mid, "m-1", 5, success=1)).status_code == 200  # applied (final)
    assert client.get(callback(mid, "m-1", 7)).status_code == 200  # stale
    assert client.get(f"/webhooks/esms/{tokens.make('another-secret-0123456789', mid)}?SMSID=x").status_code == 404
    assert client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?SMSID=m-1&SendStatus=banana").status_code == 400
    after = scrape()

    def delta(outcome: str) -> float:
        return sample(after, "tracker_callbacks_total", f'outcome="{outcome}"') - sample(
            before, "tracker_callbacks_total", f'outcome="{outcome}"'
        )

    assert (delta("applied"), delta("duplicate"), delta("stale"), delta("not_found"), delta("invalid")) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert (
        sample(after, "tracker_webhook_duration_seconds_count")
        - sample(before, "tracker_webhook_duration_seconds_count")
    ) == 6
    assert 'tracker_webhook_duration_seconds_bucket{le="0.05"}' in after


def test_queue_depth_and_reconcile_lag_are_read_at_scrape_time(client, make_message, scrape):
    text = scrape()
    assert sample(text, "tracker_queue_depth") == 0
    assert sample(text, "tracker_reconcile_lag_seconds") == 0
    assert sample(text, "tracker_database_up") == 1
    for i in range(3):
        make_message(status="queued", request_id=f"q{i}", due_at=utcnow())
    make_message(status="sending", request_id="s1", due_at=utcnow())
    old = utcnow() - timedelta(hours=2)
    make_message(status="waiting", smsid="open-1", created_at=old, updated_at=old)
    make_message(status="sent", smsid="open-2", updated_at=utcnow() - timedelta(minutes=5))
    # Final, or without an SMSID: not what the reconciler waits on.
    make_message(status="delivered", smsid="done", updated_at=utcnow() - timedelta(days=3))
    make_message(status="accepted", updated_at=utcnow() - timedelta(days=3), request_id="nosms")
    text = scrape()
    assert sample(text, "tracker_queue_depth") == 4
    assert 7100 < sample(text, "tracker_reconcile_lag_seconds") < 7300


def test_balance_and_quotas_as_the_worker_last_read_them(engine, settings, client, scrape):
    text = scrape()
    # None read yet: no sample at all (a balance of 0 would be a lie).
    assert not re.search(r"^tracker_(esms_balance_vnd|zns_quota_remaining)", text, re.M)
    sim = start_in_thread(SimSettings(seed=1, speed=0.0, balance=345_678.0, daily_quota=2000))
    try:
        real = replace_settings(settings, esms_base_url=sim.base_url, esms_status_url=sim.status_url)
        assert Readings(engine, real, make_client(real)).run_once() == 2
    finally:
        sim.stop()
    text = scrape()
    assert sample(text, "tracker_esms_balance_vnd") == 345_678
    assert 0 <= sample(text, "tracker_esms_balance_age_seconds") < 60
    assert sample(text, "tracker_zns_quota_remaining", f'oa_id="{OAID}"') == 2000
    assert sample(text, "tracker_zns_quota_daily", f'oa_id="{OAID}"') == 2000


def test_sends_are_counted_by_result(engine, settings):
    from tracker.worker.loop import Worker

    before = metrics.SENDS.labels("accepted")._value.get()
    error_before = metrics.SENDS.labels("error")._value.get()

    class Boom:
        def send_journey(self, **_):
            raise RuntimeError("boom")

    worker = Worker(engine, settings, client=Boom())
    try:
        from tracker.sending.sender import Job

        job = Job(
            id=1,
            attempts=1,
            phone="+84901888484",
            params=[],
            order_id="o",
            template_id="1",
            oa_id="2",
            request_id="r",
            campaign_id=None,
            sandbox=False,
        )
        assert worker.process(job) == "error"
    finally:
        worker.pool.shutdown()
    assert metrics.SENDS.labels("error")._value.get() == error_before + 1
    assert metrics.SENDS.labels("accepted")._value.get() == before


def test_metrics_need_a_token_outside_simulator_mode(engine, db_url, tmp_path):
    from tracker import create_app

    settings = make_settings(
        db_url, tmp_path / "instance", ESMS_API_KEY="k", ESMS_SECRET_KEY="s", TRACKER_DASHBOARD_PASSWORD="pw"
    )
    client = create_app(settings, engine=engine).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert resp.status_code == 200 and b"tracker_queue_depth" in resp.data


def test_metrics_are_open_in_simulator_mode(engine, db_url, tmp_path):
    from tracker import create_app

    settings = make_settings(db_url, tmp_path / "instance")
    assert settings.simulator_mode
    resp = create_app(settings, engine=engine).test_client().get("/metrics")
    assert resp.status_code == 200 and b"tracker_callbacks" in resp.data


def test_multiprocess_mode_adds_up_every_process(tmp_path, sqlite_url):
    """Two processes write to one PROMETHEUS_MULTIPROC_DIR; a scrape sees the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    script = textwrap.dedent("""
        from tracker.web import metrics
        metrics.CALLBACKS.labels("applied").inc(3)
        metrics.WEBHOOK_LATENCY.observe(0.004)
    """)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=ROOT)
    render = textwrap.dedent(f"""
        from tracker.web import metrics
        from tracker.db import make_engine
        print(metrics.render(make_engine({sqlite_url!r})).decode())
    """)
    out = subprocess.run(
        [sys.executable, "-c", render], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert sample(out, "tracker_callbacks_total", 'outcome="applied"') == 6
    assert sample(out, "tracker_webhook_duration_seconds_count") == 2
    assert "tracker_queue_depth" in out


@pytest.mark.e2e
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the database does not matter here
def test_gunicorn_workers_share_their_counts(sqlite_url, make_message, tmp_path):
    """As the Procfile runs it: /metrics of any worker counts the callbacks all workers took."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_API_TOKENS": API_TOKEN,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": "",
        "TRACKER_SIMULATOR": "1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR")
    log = open(tmp_path / "web.log", "wb")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        mid = make_message(smsid="g-1")
        n = 40
        for _ in range(n):  # sync workers close each connection: the requests spread over both
            assert requests.get(base + callback(mid, "g-1", 2), timeout=5).status_code == 200
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        for _ in range(4):  # whichever worker answers, the sum is the same
            text = requests.get(f"{base}/metrics", headers=headers, timeout=5).text
            assert sample(text, "tracker_callbacks_total", 'outcome="applied"') == 1
            assert sample(text, "tracker_callbacks_total", 'outcome="duplicate"') == n - 1
            assert sample(text, "tracker_webhook_duration_seconds_count") == n
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        log.close()
    text = (tmp_path / "web.log").read_text()
    assert '"path": "/webhooks/esms/' in text and ".***" in text  # the JSON request lines


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
