"""/webhooks/esms/<token>: where eSMS reports delivery status (GET, or POST form/JSON)."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from flask import Blueprint, Flask, Request, current_app, jsonify, request
from sqlalchemy.engine import Engine

from tracker.callbacks import apply, spool
from tracker.web import security
from tracker.config import Settings
from tracker.db import get_engine, utcnow
from tracker.esms.callback import parse_callback

bp = Blueprint("webhooks", __name__)

_CREDENTIAL_NAMES = frozenset({"apikey", "secretkey"})


def _params(req: Request) -> dict[str, str]:
    """Query string, form and JSON fields together; the parser matches names case-insensitively."""
    params: dict[str, str] = dict(req.args.items())
    if req.method == "POST":
        if req.is_json:
            body = security.json_body(req)
            if isinstance(body, dict):
                params.update({str(k): "" if v is None else str(v) for k, v in body.items()})
        else:
            params.update(req.form.items())
    # Credentials never belong in a callback; never keep them if someone sends them.
    return {k: v for k, v in params.items() if k.lower() not in _CREDENTIAL_NAMES}


def _raw(req: Request) -> str:
    """What arrived, as text, with any credential-looking parameter blanked."""
    raw = req.query_string.decode("latin-1")
    if req.method == "POST":
        body = req.get_data(as_text=True)
        raw = f"{raw}\n{body}" if raw else body
    # Query, form or JSON: a credential someone sent us is never stored.
    raw = security.blank_credentials(raw)
    # PostgreSQL text cannot hold NUL (a 500, and a lost callback); keep it visible, escaped.
    return raw.replace("\0", "\\x00")


def is_shared(settings: Settings, token: str) -> bool:
    shared = settings.webhook_token
    return bool(shared) and hmac.compare_digest(token.encode(), shared.encode())


def handle(settings: Settings, engine: Engine, req: Request, token: str,
           extra: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
    """Store and apply one callback; returns the JSON answer and HTTP status.

    Shared by the view and the spool replay (which rebuilds the request from a spool line).
    """
    # Read the body before the form parser does: it caches it, so the raw text keeps form posts too.
    req.get_data()
    cb = parse_callback(_params(req))
    raw = _raw(req)
    if is_shared(settings, token):
        result = apply.apply_by_smsid(engine, cb, raw=raw, extra=extra)
    else:
        # Current key, or TRACKER_SECRET_KEY_OLD while the message is not final.
        message_id = security.callback_message_id(settings, engine, token)
        result = None
        if message_id is not None:
            result = apply.apply_to_message(engine, message_id, cb, raw=raw, extra=extra)
        if result is None:
            return {"error": {"code": "not_found", "message": "unknown callback URL"}}, 404
    body: dict[str, Any] = {"ok": result.outcome != "invalid", "outcome": result.outcome}
    if result.outcome == "invalid":
        body["problems"] = list(cb.problems)
        return body, 400
    return body, 200


@bp.route("/webhooks/esms/<token>", methods=["GET", "POST"])
def esms_callback(token: str):
    settings = current_app.config["SETTINGS"]
    # An id from arrival on: if the database drops the answer to our commit, the spooled copy
    # is recognised on replay and not stored a second time.
    callback_id, received_at = uuid.uuid4().hex, utcnow()
    try:
        body, status = handle(settings, get_engine(), request, token, {spool.CALLBACK_ID: callback_id})
    except spool.DATABASE_DOWN:
        if not settings.spool_enabled:
            raise
        # eSMS retries only on timeouts, so a 5xx would lose this callback: keep it on disk.
        shared_url = is_shared(settings, token)
        spool.for_app(current_app).append(request, None if shared_url else token, callback_id, received_at)
        return jsonify(ok=True, outcome="spooled"), 200
    if status != 404:  # the database answered (a 404 may come from the token alone)
        spool.for_app(current_app).replay_soon(get_engine(), settings)
    return jsonify(body), status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
