"""Receiving a callback: turn what eSMS sent (a request, live or rebuilt from the spool) into a stored report.

The webhook view and the spool replay both come through :func:`callback`, so a
replayed callback is parsed, cleaned and applied exactly as a live one. Nothing
here knows about Flask or HTTP answers; the view turns the result into one.
"""

from __future__ import annotations

import hmac
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine
from werkzeug.wrappers import Request

from tracker import status as st
from tracker.callbacks import apply
from tracker.config import Settings
from tracker.esms.callback import parse_callback
from tracker.web import security

_CREDENTIAL_NAMES = frozenset({"apikey", "secretkey"})


class Received(NamedTuple):
    """What a stored callback did: the outcome word, and for ``invalid`` what was wrong with it."""

    outcome: str
    problems: tuple[str, ...] = ()


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
    """Is ``token`` the shared callback URL's (reports name their message by SMSID)?"""
    shared = settings.webhook_token
    if not shared:
        return False
    return hmac.compare_digest(token.encode(), shared.encode())


def callback(settings: Settings, engine: Engine, req: Request, token: str,
             extra: dict[str, Any] | None = None) -> Received | None:
    """Store and apply one callback; None when ``token`` names no message (nothing is stored).

    ``extra`` is merged into the stored event's data (the arrival id, a replay's marks).
    """
    # Read the body before the form parser does: it caches it, so the raw text keeps form posts too.
    req.get_data()
    cb = parse_callback(_params(req))
    raw = _raw(req)
    result: apply.Applied | None
    if is_shared(settings, token):
        result = apply.apply_by_smsid(engine, cb, raw=raw, extra=extra)
    else:
        # Current key, or TRACKER_SECRET_KEY_OLD while the message is not final.
        message_id = security.callback_message_id(settings, engine, token)
        result = None
        if message_id is not None:
            result = apply.apply_to_message(engine, message_id, cb, raw=raw, extra=extra)
    if result is None:
        return None
    return Received(result.outcome, cb.problems if result.outcome == st.INVALID else ())
