"""The journey tracker: send Zalo ZNS journey messages through eSMS and track their delivery."""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tracker import config, db
from tracker.config import Settings


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Flask:
    """Build the web app; settings come from the environment unless given."""
    settings = settings or config.load()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body,
        JSON_SORT_KEYS=False,
    )
    # Vietnamese text stays readable in JSON answers.
    app.json.ensure_ascii = False
    # What JSON_SORT_KEYS=False meant (Flask 3 reads it here): sorting costs every answer time.
    app.json.sort_keys = False
    db.init_app(app, engine)

    from tracker.web import api, security
    from tracker import dashboard
    from tracker.callbacks import webhook

    # First, so its checks run before any view and its headers land on every answer.
    security.init_app(app)
    webhook.init_app(app)
    api.init_app(app)
    dashboard.init_app(app)
    # Request id, one JSON log line per request, Prometheus /metrics (issue 5).
    from tracker.web import logs, metrics

    logs.init_app(app)
    metrics.init_app(app)

    @app.get("/healthz")
    def healthz():
        from tracker.callbacks import spool

        # Callbacks kept on disk during a database outage, not yet replayed.
        spooled = spool.size(spool.directory(settings))
        try:
            with db.get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return jsonify(status="unavailable", database=False, spool=spooled), 503
        return jsonify(status="ok", database=True, simulator=settings.simulator_mode, spool=spooled)

    return app
