"""tracker.dashboard.forward_panel: the overview's forwarding panel (outbox counts, the oldest pending delivery,
the latest error, hidden when forwarding is off) and its retry button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.dashboard.support import csrf, english
from tests.support import replace_settings
from tracker import create_app
from tracker.dashboard import forward_panel
from tracker.worker import forwarding

NOW = datetime(2024, 6, 5, 16, 30, tzinfo=UTC)
URL = "http://receiver.test/hook"


def fake_stats(pending=0, failed=0, oldest=None, error=None):
    def stats(engine, settings):
        return forwarding.ForwardStats(
            enabled=True,
            pending=pending,
            failed=failed,
            oldest_pending_at=oldest.isoformat() if oldest else None,
            last_error=error,
        )

    return stats


@pytest.fixture
def fwd_settings(settings):
    return replace_settings(settings, forward_url=URL)


@pytest.fixture
def fwd_app(fwd_settings, engine):
    app = create_app(fwd_settings, engine=engine)
    app.config["TESTING"] = True
    return app


def panel(app, engine, settings, lang="en"):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        return forward_panel.text(engine, settings)


def test_no_panel_and_no_query_when_forwarding_is_off(app, engine, settings, monkeypatch):
    def boom(*a):
        raise AssertionError("the outbox was queried")

    monkeypatch.setattr(forwarding, "stats", boom)
    assert panel(app, engine, settings) == {}


def test_a_quiet_outbox(fwd_app, engine, fwd_settings, monkeypatch):
    monkeypatch.setattr(forwarding, "stats", fake_stats())
    assert panel(fwd_app, engine, fwd_settings) == {
        "fwd-pending": "0",
        "fwd-failed": {"t": "0"},
        "fwd-oldest": "none pending",
        "fwd-error": "none",
    }


def test_counts_oldest_and_latest_error(fwd_app, engine, fwd_settings, monkeypatch):
    monkeypatch.setattr(forwarding, "stats", fake_stats(1234, 3, NOW - timedelta(seconds=184), "HTTP 502"))
    monkeypatch.setattr(forward_panel, "utcnow", lambda: NOW)
    out = panel(fwd_app, engine, fwd_settings)
    assert out["fwd-pending"] == "1,234"
    # Red only when something failed.
    assert out["fwd-failed"] == {"t": "3", "cls": "err"}
    assert out["fwd-oldest"] == "3m 4s ago"
    assert out["fwd-error"] == "HTTP 502"


def test_the_panel_in_vietnamese(fwd_app, engine, fwd_settings, monkeypatch):
    monkeypatch.setattr(forwarding, "stats", fake_stats(1234, 0, NOW - timedelta(seconds=10)))
    monkeypatch.setattr(forward_panel, "utcnow", lambda: NOW)
    out = panel(fwd_app, engine, fwd_settings, "vi")
    assert out["fwd-pending"] == "1.234"
    assert out["fwd-failed"] == {"t": "0"}
    assert "10,0" in out["fwd-oldest"] and "ago" not in out["fwd-oldest"]
    assert out["fwd-error"] not in ("none", "")


def test_the_real_outbox_empty(fwd_app, engine, fwd_settings):
    out = panel(fwd_app, engine, fwd_settings)
    assert out["fwd-pending"] == "0" and out["fwd-error"] == "none"


def test_retry_puts_failed_deliveries_back_and_says_how_many(fwd_app, monkeypatch):
    calls = []
    monkeypatch.setattr(forwarding, "retry_failed", lambda engine: calls.append(engine) or 2)
    client = english(fwd_app.test_client())
    resp = client.post("/forwarding/retry", data={"csrf_token": csrf(client)})
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    assert len(calls) == 1
    assert "2 failed deliveries put back in the queue." in client.get("/").get_data(as_text=True)


def test_retry_of_one(fwd_app, monkeypatch):
    monkeypatch.setattr(forwarding, "retry_failed", lambda engine: 1)
    client = english(fwd_app.test_client())
    client.post("/forwarding/retry", data={"csrf_token": csrf(client)})
    assert "1 failed delivery put back in the queue." in client.get("/").get_data(as_text=True)


def test_retry_with_nothing_failed(fwd_app, monkeypatch):
    monkeypatch.setattr(forwarding, "retry_failed", lambda engine: 0)
    client = english(fwd_app.test_client())
    client.post("/forwarding/retry", data={"csrf_token": csrf(client)})
    assert "No failed deliveries to retry." in client.get("/").get_data(as_text=True)


def test_retry_when_forwarding_is_off_is_404(client, monkeypatch):
    monkeypatch.setattr(forwarding, "retry_failed", lambda engine: pytest.fail("retried without a receiver"))
    resp = client.post("/forwarding/retry", data={"csrf_token": csrf(client)})
    assert resp.status_code == 404
    assert "Forwarding is off" in resp.get_data(as_text=True)
