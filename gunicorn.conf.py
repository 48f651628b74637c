"""gunicorn settings for the web process (Procfile `web`, and `make run`)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Sync workers: on 2 cores they beat gthread for this CPU-bound app (issue 5 measurements).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# eSMS retries a callback only on timeout; answer well before its timeout.
timeout = 30
graceful_timeout = 10
accesslog = "-" if os.environ.get("TRACKER_ACCESS_LOG") == "1" else None
