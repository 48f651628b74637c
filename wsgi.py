"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

import sys

from tracker import create_app
from tracker.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One clear line naming the variable, instead of a traceback.
    print(f"tracker: configuration error: {exc}", file=sys.stderr)
    sys.exit(2)
