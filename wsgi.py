"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

import sys

from tracker import create_app
from tracker.config import ConfigError

# gunicorn halts the whole server when a worker exits with this code during boot, instead of
# respawning it forever (gunicorn.arbiter.Arbiter.WORKER_BOOT_ERROR). gunicorn.conf.py checks
# the settings in the master first; this covers `gunicorn wsgi:app` run without it.
BOOT_ERROR = 3

try:
    app = create_app()
except ConfigError as exc:
    # One clear line naming the variable, instead of a traceback.
    print(f"tracker: configuration error: {exc}", file=sys.stderr, flush=True)
    sys.exit(BOOT_ERROR)
