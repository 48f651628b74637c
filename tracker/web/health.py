"""GET /healthz: is the database reachable, and how many callbacks wait in the outage spool."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from tracker import db
from tracker.callbacks import spool
from tracker.config import Settings

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    settings: Settings = current_app.config["SETTINGS"]
    # Callbacks kept on disk during a database outage, not yet replayed: measured at most every
    # few seconds (this URL is public; it must not make every caller read the spool).
    spooled = spool.for_app(current_app).health()
    try:
        with db.get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return jsonify(status="unavailable", database=False, spool=spooled), 503
    return jsonify(status="ok", database=True, simulator=settings.simulator_mode, spool=spooled)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
