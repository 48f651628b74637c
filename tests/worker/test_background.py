"""tracker.worker.background: the worker's side duties (spool replay, forwarding, the counters' fold,
reconciliation, account readings), each
started in its own daemon thread, run again at once while busy, paused after a failure, and ended by
the stop event. The duties themselves are replaced by recorders: they have their own tests."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from tests.support import make_settings, replace_settings
from tracker.worker import background


def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def calls(monkeypatch):
    """Each duty's calls, by name; the duties' classes and the spool replay are recorders."""
    seen: dict[str, list[tuple]] = {"spool": [], "forward": [], "fold": [], "reconcile": [], "readings": []}

    class Forwarder:
        def __init__(self, engine, settings):
            self.args = (engine, settings)

        def run_once(self):
            seen["forward"].append(self.args)
            return 0

    class Reconciler:
        def __init__(self, engine, settings, client):
            self.args = (engine, settings, client)

        def run_once(self):
            seen["reconcile"].append(self.args)
            return {"asked": 3}  # truthy, as a Summary is: must not count as "busy"

    class Readings:
        def __init__(self, engine, settings, client):
            self.args = (engine, settings, client)

        def run_once(self):
            seen["readings"].append(self.args)
            return 2  # readings made: not "busy", the next pass waits TRACKER_ACCOUNT_REFRESH

    monkeypatch.setattr(background, "Forwarder", Forwarder)
    monkeypatch.setattr(background, "Readings", Readings)
    monkeypatch.setattr(background, "Reconciler", Reconciler)
    monkeypatch.setattr(
        background.replay, "replay", lambda engine, settings: seen["spool"].append((engine, settings)) or 0
    )
    monkeypatch.setattr(background.counters, "fold", lambda engine: seen["fold"].append((engine,)) or 0)
    return seen


@pytest.fixture
def settings(tmp_path):
    return replace_settings(
        make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), reconcile_interval=30.0, account_refresh=30.0
    )


def test_each_duty_thread_is_started_and_stops_on_the_stop_event(calls, settings):
    stop = threading.Event()
    engine, client = object(), object()
    threads = background.start(engine, settings, client, stop)
    try:
        assert [t.name for t in threads] == [
            "spool-replay",
            "forwarding",
            "count-fold",
            "reconcile",
            "account-readings",
        ]
        assert all(t.daemon and t.is_alive() for t in threads)
        assert wait_for(lambda: all(calls.values()))
        assert calls["spool"][0] == (engine, settings)
        assert calls["forward"][0] == (engine, settings)
        assert calls["fold"][0] == (engine,)
        assert calls["reconcile"][0] == (engine, settings, client)
        assert calls["readings"][0] == (engine, settings, client)
    finally:
        stop.set()
    for t in threads:
        t.join(timeout=3)
    assert not any(t.is_alive() for t in threads)


def test_reconciliation_and_readings_wait_their_full_interval_between_passes(calls, settings):
    stop = threading.Event()
    threads = background.start(object(), settings, object(), stop)
    try:
        assert wait_for(lambda: calls["reconcile"] and calls["readings"])
        time.sleep(0.3)
        assert len(calls["reconcile"]) == 1  # the 30 s interval, not again at once
        assert len(calls["readings"]) == 1
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=3)


def test_a_busy_step_runs_again_at_once_an_idle_one_waits():
    stop = threading.Event()
    busy = iter([5, 5, 5, 5])
    runs: list[float] = []

    def step():
        runs.append(time.monotonic())
        return next(busy, 0)

    thread = background._loop("t", stop, 60.0, step)
    try:
        assert wait_for(lambda: len(runs) == 5, seconds=2)
        time.sleep(0.2)
        assert len(runs) == 5  # idle now: waits the 60 s
    finally:
        stop.set()
        thread.join(timeout=2)
    assert not thread.is_alive()


@pytest.mark.parametrize(
    "error, level, text",
    [
        (RuntimeError("boom"), logging.ERROR, "t failed; retrying"),
        (OperationalError("SELECT 1", {}, Exception("down")), logging.WARNING, "t: database unreachable"),
    ],
)
def test_a_failing_step_is_logged_and_retried_after_a_pause(monkeypatch, caplog, error, level, text):
    monkeypatch.setattr(background, "FAILURE_PAUSE", 0.05)
    stop = threading.Event()
    runs: list[int] = []

    def step():
        runs.append(1)
        if len(runs) == 1:
            raise error
        return 0

    with caplog.at_level(logging.WARNING, logger="tracker.worker.loop"):
        thread = background._loop("t", stop, 60.0, step)
        try:
            assert wait_for(lambda: len(runs) == 2, seconds=2)
        finally:
            stop.set()
            thread.join(timeout=2)
    assert any(r.levelno == level and text in r.getMessage() for r in caplog.records)


def test_a_failure_pauses_rather_than_spinning(monkeypatch):
    monkeypatch.setattr(background, "FAILURE_PAUSE", 0.2)
    stop = threading.Event()
    runs: list[int] = []

    def step():
        runs.append(1)
        raise RuntimeError("always")

    thread = background._loop("t", stop, 0.0, step)
    time.sleep(0.5)
    stop.set()
    thread.join(timeout=2)
    assert 2 <= len(runs) <= 4


def test_the_stop_event_ends_a_waiting_loop_promptly():
    stop = threading.Event()
    thread = background._loop("t", stop, 3600.0, lambda: 0)
    time.sleep(0.05)
    started = time.monotonic()
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0
