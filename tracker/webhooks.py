"""/webhooks/esms/<token>: where eSMS reports delivery status (GET, or POST form/JSON)."""

from __future__ import annotations

import hmac
import re

from flask import Blueprint, Flask, Request, current_app, jsonify, request

from . import reports, tokens
from .db import get_engine
from .esms.callback import parse_callback

bp = Blueprint("webhooks", __name__)

_CREDENTIAL_NAMES = frozenset({"apikey", "secretkey"})
_SECRET_PARAM = re.compile(r"(?i)((?:api|secret)key=)[^&]*")


def _params(req: Request) -> dict[str, str]:
    """Query string, form and JSON fields together; the parser matches names case-insensitively."""
    params: dict[str, str] = dict(req.args.items())
    if req.method == "POST":
        if req.is_json:
            body = req.get_json(silent=True)
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
    if "key=" in raw.lower():
        raw = _SECRET_PARAM.sub(r"\1***", raw)
    return raw


@bp.route("/webhooks/esms/<token>", methods=["GET", "POST"])
def esms_callback(token: str):
    settings = current_app.config["SETTINGS"]
    cb = parse_callback(_params(request))
    raw = _raw(request)
    shared = settings.webhook_token
    if shared and hmac.compare_digest(token.encode(), shared.encode()):
        result = reports.apply_by_smsid(get_engine(), cb, raw=raw)
    else:
        message_id = tokens.verify(token, (settings.secret_key,))
        result = None
        if message_id is not None:
            result = reports.apply_to_message(get_engine(), message_id, cb, raw=raw)
        if result is None:
            return jsonify(error={"code": "not_found", "message": "unknown callback URL"}), 404
    body = {"ok": result.outcome != "invalid", "outcome": result.outcome}
    if result.outcome == "invalid":
        body["problems"] = list(cb.problems)
        return jsonify(body), 400
    return jsonify(body), 200


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
