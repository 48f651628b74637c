"""gunicorn settings for the web process (Procfile `web`, and `make run`)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Worker model, from bench/webhook_bench.py on 2 cores with PostgreSQL 15 (bench/README.md):
# - the app is CPU-bound: a callback costs ~0.8 ms of Python and one ~0.3 ms database round
#   trip (a single autocommit statement), so a sync worker waits on PostgreSQL ~25 % of its time;
# - sync workers, one per core + 1: 2 -> 3 workers gave +11 % requests/s, 4 only +2 % more
#   (and 80 MB of RSS each); p99 stayed ~15 ms at 16 concurrent callers;
# - gthread (2 workers x 4 threads) was no faster on its best run, noisier, and its p99 was
#   higher (GIL contention), so no threads;
# - database pool: a sync worker uses one connection at a time (the webhook's autocommit
#   connection comes from the same pool), so SQLAlchemy's pool (tracker/db.py: 5 + 10
#   overflow, created lazily) holds 1-2 per worker: about workers + 2 connections in all.
# WEB_CONCURRENCY overrides the count (a PaaS sets it from the dyno size).
workers = int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))
worker_class = "sync"
# eSMS retries a callback only on timeout; answer well before its timeout.
timeout = 30
graceful_timeout = 10
accesslog = "-" if os.environ.get("TRACKER_ACCESS_LOG") == "1" else None


# -- Prometheus multiprocess mode (tracker/metrics.py) ----------------------------------------
# Each worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them
# up. It must be set before any worker imports prometheus_client: here, in the master. Unset,
# a fresh directory per master is used (and removed at exit); set it yourself to share it
# with a sender worker on the same host, and empty it before starting.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import atexit
    import shutil
    import tempfile

    _metrics_dir = tempfile.mkdtemp(prefix="tracker-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
    atexit.register(shutil.rmtree, _metrics_dir, True)
else:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def on_starting(server):
    """Check the configuration once, in the master, before binding or forking (issue 9).

    A bad setting found in each worker instead would make gunicorn respawn workers forever
    behind a live port; here it stops the whole process with the one line naming the variable.
    """
    import sys

    from tracker.config import ConfigError, load

    try:
        load()
    except ConfigError as exc:
        print(f"tracker: configuration error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)


def child_exit(server, worker):
    """A worker is gone: drop its live gauges (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
