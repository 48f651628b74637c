"""The dashboard's one blueprint, and what runs around every one of its requests.

Each dashboard module adds its own routes to :data:`bp` with decorators; the package's
``__init__`` imports those modules so that they are all on ``bp`` before it is registered.
This module imports none of them, so any of them can import it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from tracker.dashboard import auth, pause_banner
from tracker.db import get_engine
from tracker.errors import JsonError

bp = Blueprint("dashboard", __name__)

# Every asset comes from the app; no inline script or style, no framing, no other origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The language switch too: the sign-in form is read in the language chosen there.
_PUBLIC = {"dashboard.login", "dashboard.set_language"}


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    if request.method == "POST" and not auth.csrf_ok():
        return render_template(
            "dashboard/error.html",
            title=_("Form expired"),
            detail=_("The form's security token was missing or stale. Go back, reload and try again."),
        ), 403
    if request.endpoint in _PUBLIC or auth.signed_in():
        return None
    if request.path.startswith("/dashboard/data/"):
        # A live update after the session ran out: the page's script cannot follow a redirect to a form.
        raise JsonError(401, "unauthorized", "sign in again")
    return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))


@bp.after_request
def _headers(resp):
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "DENY"
    # Keeps search tokens and ids out of other sites' logs.
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    if request.blueprint != "dashboard":
        return {}
    settings = current_app.config["SETTINGS"]
    return {
        "csrf_token": auth.csrf_token,
        "csrf_field": auth.CSRF_FIELD,
        "open_mode": auth.is_open(),
        "simulator_mode": settings.simulator_mode,
        "poll_ms": settings.dashboard_poll_ms,
        "signed_in": auth.signed_in(),
        # The circuit breaker's pauses, on every page (not to a visitor who has not signed in).
        "pause_lines": pause_banner.lines(get_engine()) if auth.signed_in() else [],
    }
