"""GET /healthz: is the database reachable, how many callbacks wait in the outage spool, and
whether sending is paused for the account or an OA (tracker/sending/pause.py).

A pause leaves the service "ok" (HTTP 200: restarting it would not help) but says
``sending: "paused"`` with each pause's scope, code, reason and advice."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from tracker import db
from tracker.callbacks import spool
from tracker.config import Settings
from tracker.sending import pause

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
            pauses = pause.current(conn)
    except Exception:
        return jsonify(status="unavailable", database=False, spool=spooled), 503
    return jsonify(
        status="ok",
        database=True,
        simulator=settings.simulator_mode,
        spool=spooled,
        sending="paused" if pauses else "ok",
        pauses=[p.to_dict() for p in pauses],
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
