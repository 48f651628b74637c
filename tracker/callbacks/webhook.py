"""/webhooks/esms/<token>: where eSMS reports delivery status (GET, or POST form/JSON).

A thin view: it hands the request to :mod:`tracker.callbacks.receive` and turns what that
did into the answer eSMS gets; while the database is down it spools the callback instead.
"""

from __future__ import annotations

import json
import logging
import uuid

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from tracker import status as st
from tracker.callbacks import receive, replay, spool
from tracker.db import get_engine, utcnow
from tracker.errors import error_response

bp = Blueprint("webhooks", __name__)
log = logging.getLogger("tracker.callbacks.webhook")

# The answers of every stored outcome, serialised once: eSMS gets the same few bytes each time.
_OK = {
    outcome: json.dumps({"ok": True, "outcome": outcome}, separators=(",", ":")).encode() + b"\n"
    for outcome in (st.APPLIED, st.DUPLICATE, st.STALE, st.CONFLICT, "spooled")
}


def _ok(outcome: str) -> Response:
    # The request log and the metrics read the outcome from here, not by parsing the answer.
    g.callback_outcome = outcome
    return Response(_OK[outcome], 200, mimetype="application/json")


@bp.route("/webhooks/esms/<token>", methods=["GET", "POST"])
def esms_callback(token: str):
    settings = current_app.config["SETTINGS"]
    # An id from arrival on: if the database drops the answer to our commit, the spooled copy
    # is recognised on replay and not stored a second time.
    callback_id, received_at = uuid.uuid4().hex, utcnow()
    try:
        received = receive.callback(settings, get_engine(), request, token, {spool.CALLBACK_ID: callback_id})
    except spool.DATABASE_DOWN:
        if not settings.spool_enabled:
            raise
        # eSMS retries only on timeouts, so a 5xx would lose this callback: keep it on disk.
        shared_url = receive.is_shared(settings, token)
        try:
            spool.for_app(current_app).append(request, None if shared_url else token, callback_id, received_at)
        except spool.SpoolFull as exc:
            # Better a refused callback (the reconciler asks eSMS later) than a full disk.
            log.error("!!! callback NOT kept: database down and %s; free space or raise the cap !!!", exc)
            return error_response(503, "spool_full", "the database is down and the outage spool is full")
        return _ok("spooled")
    if received is None:
        # Maybe refused on the token alone, the database never asked: no sign that it is back.
        return error_response(404, "not_found", "unknown callback URL")
    replay.replay_soon(spool.for_app(current_app), get_engine(), settings)
    if received.outcome == st.INVALID:
        g.callback_outcome = st.INVALID
        return jsonify(ok=False, outcome=received.outcome, problems=list(received.problems)), 400
    return _ok(received.outcome)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
