"""Prometheus metrics: GET /metrics (prometheus_client's text format).

- ``tracker_callbacks_total{outcome}``: webhook calls by what they did (applied, duplicate,
  stale, conflict, invalid, spooled, not_found, rejected: refused before storing, error);
- ``tracker_webhook_duration_seconds``: webhook latency, as the web process saw it;
- ``tracker_sends_total{result}``: send attempts by what they made of the message
  (accepted, rejected, failed, queued = retry later, error), counted by the sender worker;
- ``tracker_queue_depth``: messages queued or sending, computed at scrape time;
- ``tracker_sending_paused{scope,oa_id,code}``: 1 per standing account/OA pause (circuit
  breaker, tracker/sending/pause.py), at scrape time; ``tracker_sending_paused_total`` is
  how many stand (0: sending normally);
- ``tracker_esms_balance_vnd`` and ``tracker_esms_balance_age_seconds``: the latest eSMS balance
  the worker read (tracker/worker/readings.py) and how old that reading is;
  ``tracker_zns_quota_remaining{oa_id}`` and ``tracker_zns_quota_daily{oa_id}``: each OA's ZNS
  quota as last read (absent until a first reading);
- ``tracker_reconcile_lag_seconds``: how long ago the least recently updated non-final
  message with an SMSID last changed, at scrape time (what the reconciler catches up on).

Under gunicorn several worker processes serve the app: gunicorn.conf.py sets
PROMETHEUS_MULTIPROC_DIR before they start, every process writes its counters there,
and a scrape adds them up (prometheus_client's multiprocess mode). A sender worker
started with the same PROMETHEUS_MULTIPROC_DIR (same host, as `make run` does) shows up
in the web's /metrics too; elsewhere TRACKER_WORKER_METRICS_PORT makes it serve its own.

TRACKER_METRICS=0 turns collection off. /metrics needs an API bearer token, except in
simulator mode or when the API is open.
"""

from __future__ import annotations

import json
import logging
import os
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from tracker.db import UTCDateTime, utcnow
from tracker.sending import pause
from tracker.web import auth
from tracker.worker import readings

log = logging.getLogger("tracker.web.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WEBHOOK_ENDPOINT = "webhooks.esms_callback"
# Callbacks answer in a few milliseconds; the top buckets catch a database in trouble.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

CALLBACKS = Counter("tracker_callbacks", "Webhook calls received, by what they did", ["outcome"])
SENDS = Counter("tracker_sends", "Send attempts to eSMS, by the status they left the message in", ["result"])
WEBHOOK_LATENCY = Histogram(
    "tracker_webhook_duration_seconds", "Webhook latency seen by the web process", buckets=LATENCY_BUCKETS
)

_OPEN = "('accepted', 'pending_approval', 'waiting', 'sent')"
# Both use partial indexes (ix_messages_due, ix_messages_open): constant time at any table size.
_QUEUE_DEPTH = text("SELECT count(*) FROM messages WHERE status IN ('queued', 'sending')")
_OLDEST_OPEN = text(
    f"SELECT min(updated_at) AS oldest FROM messages WHERE status IN {_OPEN} AND smsid IS NOT NULL"
).columns(oldest=UTCDateTime())


def enabled() -> bool:
    return os.environ.get("TRACKER_METRICS", "1").strip().lower() not in ("0", "false", "no", "off")


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def count_send(result: str) -> None:
    if enabled():
        SENDS.labels(result).inc()


class _DatabaseGauges:
    """Gauges read from the database when scraped, so every process agrees on them."""

    def __init__(self, engine):
        self.engine = engine

    def describe(self):
        return []  # registering must not run the queries (collect() would be called to describe)

    def collect(self):
        depth = GaugeMetricFamily("tracker_queue_depth", "Messages queued or being sent (at scrape time)")
        lag = GaugeMetricFamily(
            "tracker_reconcile_lag_seconds",
            "Seconds since the least recently updated non-final message with an SMSID "
            "last changed (0 when there is none)",
        )
        up = GaugeMetricFamily("tracker_database_up", "1 when the scrape could read the database")
        paused = GaugeMetricFamily(
            "tracker_sending_paused",
            "1 for each account or OA pause of the circuit breaker",
            labels=["scope", "oa_id", "code"],
        )
        paused_n = GaugeMetricFamily("tracker_sending_paused_total", "Account/OA pauses standing (0: sending normally)")
        try:
            with self.engine.connect() as conn:
                n = conn.execute(_QUEUE_DEPTH).scalar() or 0
                oldest = conn.execute(_OLDEST_OPEN).scalar()
                pauses = pause.current(conn)
                account = readings.latest(conn)
        except Exception:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        depth.add_metric([], n)
        lag.add_metric([], max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0)
        up.add_metric([], 1)
        for p in pauses:
            paused.add_metric(["account" if p.scope == pause.ACCOUNT else "oa", p.oa_id or "", p.code], 1)
        paused_n.add_metric([], len(pauses))
        yield paused
        yield paused_n
        yield from _account_gauges(account)
        yield depth
        yield lag
        yield up


def _account_gauges(account: list[readings.Reading]):
    """The balance and quotas as last read; a reading eSMS never gave is left out, not 0."""
    balance = GaugeMetricFamily("tracker_esms_balance_vnd", "The eSMS account balance (VND) as last read")
    age = GaugeMetricFamily("tracker_esms_balance_age_seconds", "Seconds since the balance was last read")
    remaining = GaugeMetricFamily(
        "tracker_zns_quota_remaining", "ZNS messages the OA may still send today, as last read", labels=["oa_id"]
    )
    daily = GaugeMetricFamily("tracker_zns_quota_daily", "The OA's daily ZNS quota, as last read", labels=["oa_id"])
    now = utcnow()
    for r in account:
        if r.is_balance and r.balance is not None and r.read_at is not None:
            balance.add_metric([], float(r.balance))
            age.add_metric([], max(0.0, (now - r.read_at).total_seconds()))
        elif r.oa_id and r.remaining_quota is not None and r.daily_quota is not None:
            remaining.add_metric([r.oa_id], r.remaining_quota)
            daily.add_metric([r.oa_id], r.daily_quota)
    yield from (balance, age, remaining, daily)


def render(engine) -> bytes:
    """The text exposition: this process's (or every process's) counters plus the database gauges."""
    registry = CollectorRegistry(auto_describe=True)
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.MultiProcessCollector(registry)
    else:
        for metric in (CALLBACKS, SENDS, WEBHOOK_LATENCY):
            registry.register(metric)
    registry.register(_DatabaseGauges(engine))
    return generate_latest(registry)


def _metrics_view():
    from tracker.db import get_engine

    settings = current_app.config["SETTINGS"]
    # Simulator mode counts nothing real; otherwise the same tokens as /api/*.
    if not settings.simulator_mode:
        auth.require_token(settings)
    return Response(render(get_engine()), mimetype=CONTENT_TYPE_LATEST)


def _start():
    if request.endpoint == WEBHOOK_ENDPOINT:
        g.metrics_t0 = time.perf_counter()


def _finish(response: Response) -> Response:
    t0 = g.pop("metrics_t0", None)
    if t0 is not None:
        WEBHOOK_LATENCY.observe(time.perf_counter() - t0)
        CALLBACKS.labels(callback_outcome(response)).inc()
    return response


_OUTCOMES = frozenset({"applied", "duplicate", "stale", "conflict", "invalid", "spooled"})


def callback_outcome(response: Response) -> str:
    """What a webhook answer says it did: its JSON's "outcome", else what its status means."""
    cached = g.get("callback_outcome")
    if cached is None:
        cached = g.callback_outcome = _outcome_of(response)
    return cached


def _outcome_of(response: Response) -> str:
    code = response.status_code
    if code in (200, 400) and not response.direct_passthrough:
        try:
            outcome = json.loads(response.get_data()).get("outcome")
        except (ValueError, AttributeError):
            outcome = None
        if outcome in _OUTCOMES:
            return outcome
    if code == 404:
        return "not_found"
    if code >= 500:
        return "error"
    return "rejected" if code >= 400 else "unknown"


def init_app(app: Flask) -> None:
    app.add_url_rule("/metrics", "metrics", _metrics_view, methods=["GET"])
    if enabled():
        # First, so the latency includes the checks other before_request hooks make.
        app.before_request_funcs.setdefault(None, []).insert(0, _start)
        app.after_request(_finish)


def serve_worker_metrics() -> None:
    """In the sender worker: serve /metrics on TRACKER_WORKER_METRICS_PORT ("PORT" on 127.0.0.1,
    or "HOST:PORT") when it is set."""
    where = os.environ.get("TRACKER_WORKER_METRICS_PORT", "").strip()
    if not where or not enabled():
        return
    from prometheus_client import REGISTRY, start_http_server

    host, _, port = where.rpartition(":")
    registry = REGISTRY
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
    start_http_server(int(port), addr=host or "127.0.0.1", registry=registry)
    log.info("worker metrics on %s:%s", host or "127.0.0.1", port)
