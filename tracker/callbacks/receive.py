"""Receiving a callback: turn what eSMS sent (a request, live or rebuilt from the spool) into a stored report.

The webhook view and the spool replay both come through :func:`callback`, so a
replayed callback is parsed, cleaned and applied exactly as a live one. Nothing
here knows about Flask or HTTP answers; the view turns the result into one.
"""

from __future__ import annotations

import hmac
import json
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.engine import Engine
from werkzeug.wrappers import Request

from tracker import status as st
from tracker.callbacks import apply, external
from tracker.config import Settings
from tracker.esms.callback import parse_callback
from tracker.web import security
from tracker.web.scrubbing import blank_credentials, is_credential_name

# What replaces a credential's value in the stored raw text.
BLANK = "***"


class Received(NamedTuple):
    """What a stored callback did: the outcome word, and for ``invalid`` what was wrong with it."""

    outcome: str
    problems: tuple[str, ...] = ()


def _scrub_json(value: Any) -> tuple[Any, bool]:
    """``value`` with every credential-named field blanked, at any depth; and whether any was."""
    if isinstance(value, dict):
        out, hit = {}, False
        for k, v in value.items():
            if is_credential_name(str(k)):
                out[k], hit = BLANK, True
            else:
                out[k], sub_hit = _scrub_json(v)
                hit |= sub_hit
        return out, hit
    if isinstance(value, list):
        pairs = [_scrub_json(v) for v in value]
        return [v for v, _ in pairs], any(h for _, h in pairs)
    return value, False


def _scrub_pairs(pairs: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], bool]:
    out = [(k, BLANK if is_credential_name(k) else v) for k, v in pairs]
    return out, out != pairs


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Each name's first value (as werkzeug's MultiDict gives it), credentials left out."""
    out: dict[str, str] = {}
    for k, v in pairs:
        if not is_credential_name(k):
            out.setdefault(k, v)
    return out


def _body_json(req: Request, body: str) -> Any:
    """The body as JSON when it is JSON (whatever its Content-Type claims), else None."""
    if req.is_json:
        return security.json_body(req)
    if body.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            return None
    return None


def _read(req: Request) -> tuple[dict[str, str], str]:
    """The callback's parameters and the raw text to store, both scrubbed of credentials.

    Names are judged decoded, from every source: the query string, a form (URL-encoded or
    multipart, file fields included), JSON at any depth. Where anything was blanked, the stored
    raw is rebuilt from the scrubbed parameters, so no spelling of a key survives in it.
    """
    query, query_hit = _scrub_pairs(list(req.args.items(multi=True)))
    raw_query = urlencode(query) if query_hit else req.query_string.decode("latin-1")
    params = _first_values(query)
    raw_body = None
    if req.method == "POST":
        body = req.get_data(as_text=True)
        parsed = _body_json(req, body) if req.is_json or not (req.form or req.files) else None
        if parsed is not None:
            scrubbed, hit = _scrub_json(parsed)
            if isinstance(scrubbed, dict) and req.is_json:
                params.update(
                    {str(k): "" if v is None else str(v) for k, v in scrubbed.items() if not is_credential_name(str(k))}
                )
            raw_body = json.dumps(scrubbed, ensure_ascii=False) if hit else body
        else:
            # A form (URL-encoded or multipart), or a body of another type read as one for the raw text.
            fields = (
                list(req.form.items(multi=True)) if (req.form or req.files) else parse_qsl(body, keep_blank_values=True)
            )
            form, hit = _scrub_pairs(fields)
            hit |= any(is_credential_name(name) for name in req.files)
            if req.form:
                params.update(_first_values(form))
            raw_body = urlencode(form) if hit else body
    raw = raw_query if raw_body is None else (f"{raw_query}\n{raw_body}" if raw_query else raw_body)
    # Belt and braces for text no parser read (a body of another type).
    raw = blank_credentials(raw)
    # PostgreSQL text cannot hold NUL (a 500, and a lost callback); keep it visible, escaped.
    return params, raw.replace("\0", "\\x00")


def is_shared(settings: Settings, token: str) -> bool:
    """Is ``token`` the shared callback URL's (reports name their message by SMSID)?"""
    shared = settings.webhook_token
    if not shared:
        return False
    return hmac.compare_digest(token.encode(), shared.encode())


def callback(
    settings: Settings, engine: Engine, req: Request, token: str, extra: dict[str, Any] | None = None
) -> Received | None:
    """Store and apply one callback; None when ``token`` names no message (nothing is stored).

    ``extra`` is merged into the stored event's data (the arrival id, a replay's marks).
    """
    # Read the body before the form parser does: it caches it, so the raw text keeps form posts too.
    req.get_data()
    params, raw = _read(req)
    cb = parse_callback(params)
    result: apply.Applied | None
    if is_shared(settings, token):
        result = external.apply_by_smsid(engine, cb, raw=raw, extra=extra)
    else:
        # Current key, or TRACKER_SECRET_KEY_OLD while the message is not final.
        message_id = security.callback_message_id(settings, engine, token)
        result = None
        if message_id is not None:
            result = apply.apply_to_message(engine, message_id, cb, raw=raw, extra=extra)
    if result is None:
        return None
    return Received(result.outcome, cb.problems if result.outcome == st.INVALID else ())
