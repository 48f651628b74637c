"""The journey tracker: send Zalo ZNS journey messages through eSMS and track their delivery."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.engine import Engine

from tracker import config, db, keys
from tracker.config import Settings


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Flask:
    """Build the web app; settings come from the environment unless given."""
    # Flask with two per-request costs trimmed; kept out of `import tracker` like the web parts below.
    from tracker.web.flask_app import TrackerFlask

    settings = settings or config.load()
    app = TrackerFlask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SETTINGS=settings,
        # Sessions are signed with a key of their own (tracker.keys), never the secret itself.
        SECRET_KEY=keys.derive(settings.secret_key, keys.SESSIONS),
        MAX_CONTENT_LENGTH=settings.max_body,
    )
    db.init_app(app, engine)

    # Imported here, not at the top: every `import tracker.x` runs this file first, and the
    # worker or the CLI should neither load the web parts nor cycle back into them.
    from tracker import dashboard, errors
    from tracker.callbacks import webhook
    from tracker.web import api, health, logs, metrics, read_path, security

    errors.init_app(app)
    # The API's lookups answered before Flask builds a request; inside ProxyFix (security's).
    read_path.init_app(app)
    # First, so its checks run before any view and its headers land on every answer.
    security.init_app(app)
    webhook.init_app(app)
    api.init_app(app)
    dashboard.init_app(app)
    health.init_app(app)
    # Request id, one JSON log line per request, Prometheus /metrics (issue 5).
    logs.init_app(app)
    metrics.init_app(app)
    return app
