"""Serving the simulator (tracker/simulator/server.py): in a thread for tests, or blocking until
SIGINT/SIGTERM. Not an eSMS behaviour: the URLs it gives are what ESMS_BASE_URL (eSMS's REST base
path, esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md) and ESMS_STATUS_URL should be.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.simulator.support import body, quiet_settings, send
from tracker.simulator.app import BASE
from tracker.simulator.server import POLL_INTERVAL, start_in_thread

ROOT = Path(__file__).resolve().parents[2]


def test_start_in_thread_serves_at_once_and_stop_ends_it() -> None:
    running = start_in_thread(quiet_settings(seed=3))
    try:
        assert running.url.startswith("http://127.0.0.1:") and not running.url.endswith(":0")
        assert (running.base_url, running.status_url) == (running.url + BASE, running.url)
        assert running.fake.settings.seed == 3 and running.thread.is_alive()
        assert send(running)["CodeResult"] == "100"
    finally:
        running.stop()
    assert not running.thread.is_alive() and running.fake.stopping.is_set()
    with pytest.raises(requests.ConnectionError):
        requests.get(running.url, timeout=1)


def test_stop_ends_every_thread_even_a_handler_holding_back_an_answer() -> None:
    """An injected send timeout holds its answer ``timeout_delay`` seconds; stopping wakes that
    handler, and the dispatcher's threads end too."""
    before = set(threading.enumerate())
    running = start_in_thread(quiet_settings(send_timeout_rate=1.0, timeout_delay=60.0))
    with pytest.raises(requests.Timeout):
        requests.post(f"{running.base_url}/SendZaloMessage_V4_post_json/", json=body(), timeout=0.5)
    started = time.monotonic()
    running.stop()
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5.0)
        assert not thread.is_alive(), thread.name
    assert time.monotonic() - started < 10.0 and POLL_INTERVAL < 0.5


def run(quiet: bool) -> subprocess.Popen[str]:
    code = f"from tracker.simulator import run_simulator; run_simulator(port=0, quiet={quiet})"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_simulator_serves_until_a_signal_then_exits_cleanly(signum: signal.Signals) -> None:
    process = run(quiet=False)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        assert f"ESMS_BASE_URL={url}{BASE}" in banner and f"ESMS_STATUS_URL={url})" in banner
        assert requests.get(url + "/", timeout=5).json()["service"] == "eSMS simulator"
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
        assert "GET / HTTP" in process.stderr.read()  # not quiet: one log line per request
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_quiet_simulator_logs_no_requests() -> None:
    process = run(quiet=True)
    try:
        assert process.stderr is not None
        url = process.stderr.readline().split(" on ", 1)[1].split(" ", 1)[0]
        requests.get(url + "/", timeout=5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
