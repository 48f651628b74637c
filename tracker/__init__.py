"""The journey tracker: send Zalo ZNS journey messages through eSMS and track their delivery."""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.engine import Engine

from . import config, db
from .config import Settings


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
    db.init_app(app, engine)

    from . import api, webhooks

    webhooks.init_app(app)
    api.init_app(app)

    @app.get("/healthz")
    def healthz():
        try:
            with db.get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return jsonify(status="unavailable", database=False), 503
        return jsonify(status="ok", database=True, simulator=settings.simulator_mode)

    return app
