"""The delivery dashboard: overview, message list, message and journey pages, CSV upload, sign-in."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.dashboard import auth, forward_panel, upload  # noqa: F401 (upload registers its routes on bp)
from tracker.dashboard.views import bp

DEFAULT_POLL_MS = 3000
# Every asset comes from the app; no inline script or style, no framing, no other origin.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_PUBLIC = {"dashboard.login"}


@bp.before_request
def _guard() -> ResponseReturnValue | None:
    if request.method == "POST" and not auth.csrf_ok():
        return render_template("dashboard/error.html", title="Form expired",
                               detail="The form's security token was missing or stale. Go back, reload and try again."), 403
    if request.endpoint in _PUBLIC or auth.signed_in():
        return None
    if request.path.startswith("/dashboard/data/"):
        return jsonify(error={"code": "unauthorized", "message": "sign in again"}), 401
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
        "poll_ms": int(current_app.config.get("DASHBOARD_POLL_MS", DEFAULT_POLL_MS)),
        "signed_in": auth.signed_in(),
    }


# Registered here, not with a decorator: views imports forward_panel for the overview's text.
bp.add_url_rule("/forwarding/retry", "forwarding_retry", forward_panel.retry, methods=["POST"])


def init_app(app: Flask) -> None:
    auth.configure(app)
    app.register_blueprint(bp)
