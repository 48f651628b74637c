"""Dashboard sign-in: password form, signed session cookie with idle and absolute expiry, CSRF tokens.

A tiny CSRF scheme (a random token in the signed session, compared in constant
time with the form's copy) is all a handful of same-origin forms need; it adds
no dependency. The session remembers a fingerprint of the password, so changing
TRACKER_DASHBOARD_PASSWORD signs everybody out.

The cookie alone does not make a session (issue 12): it names a row of
``dashboard_sessions`` (by a random id whose SHA-256 is the row's key), and signing out
deletes the row, so a copy of the cookie taken earlier opens nothing afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import unicodedata
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import delete, select

from tracker import keys
from tracker.config import Settings
from tracker.db import get_engine, utcnow
from tracker.models import DashboardSession

IDLE_LIFETIME = timedelta(hours=8)
ABSOLUTE_LIFETIME = timedelta(hours=24)
CSRF_FIELD = "csrf_token"
# A return path longer than this is no page of ours.
MAX_NEXT = 2048


# Paths no session is ever read on: the webhook and the bearer-token API.
_SESSIONLESS = ("/webhooks/", "/api/")


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, marked Secure whenever the request came over HTTPS."""

    def open_session(self, app: Flask, request: Any) -> Any:
        # Flask opens the session on every request (building the cookie's signer and checking
        # it: 1 % of a webhook worker's time, bench/README.md) and saves it after. These paths
        # never use it: they get Flask's null session, which Flask neither checks nor saves
        # (and which refuses a write, so no code of theirs can start using it unnoticed).
        if request.path.startswith(_SESSIONLESS):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request and request.is_secure) or super().get_cookie_secure(app)


def configure(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="tracker_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Flask checks the signature's age on every request: idle sessions end by themselves.
        PERMANENT_SESSION_LIFETIME=IDLE_LIFETIME,
    )


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def is_open() -> bool:
    """No password configured: the dashboard is open (simulator mode or TRACKER_ALLOW_OPEN)."""
    return not _settings().dashboard_password


def _fingerprint(password: str) -> str:
    key = keys.derive(_settings().secret_key, keys.SESSIONS)
    return hmac.new(key, b"dashboard-password:" + password.encode(), hashlib.sha256).hexdigest()[:32]


def signed_in() -> bool:
    if is_open():
        return True
    auth = session.get("auth")
    if not isinstance(auth, dict):
        return False
    try:
        fresh = time.time() - float(auth.get("at", 0)) < ABSOLUTE_LIFETIME.total_seconds()
    except (TypeError, ValueError):
        return False
    same_password = hmac.compare_digest(str(auth.get("pw", "")), _fingerprint(_settings().dashboard_password or ""))
    return fresh and same_password and _session_alive(str(auth.get("sid", "")))


def _row_id(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _session_alive(sid: str) -> bool:
    """Is the cookie's session still in the database (not signed out)? Asked once per request."""
    if not sid:
        return False
    cached = g.get("_dashboard_session")
    if cached is None or cached[0] != sid:
        with get_engine().connect() as conn:
            found = conn.execute(select(DashboardSession.id).where(DashboardSession.id == _row_id(sid))).first()
        cached = g._dashboard_session = (sid, found is not None)
    return cached[1]


def check_password(given: str) -> bool:
    wanted = _settings().dashboard_password or ""
    return bool(wanted) and hmac.compare_digest(given.encode(), wanted.encode())


def sign_in() -> None:
    lang = session.get("lang")
    session.clear()  # a new session id: nothing from before sign-in survives...
    if lang:
        session["lang"] = lang  # ...but the language chosen on the sign-in form, which is no secret
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    with get_engine().begin() as conn:
        # Sessions past the absolute lifetime are gone anyway; their rows go now.
        conn.execute(delete(DashboardSession).where(DashboardSession.created_at < now - ABSOLUTE_LIFETIME))
        conn.execute(DashboardSession.__table__.insert().values(id=_row_id(sid), created_at=now))
    session.permanent = True
    session["auth"] = {"at": time.time(), "pw": _fingerprint(_settings().dashboard_password or ""), "sid": sid}
    session["csrf"] = secrets.token_urlsafe(32)


def sign_out() -> None:
    """End the session everywhere: its row goes, so every copy of the cookie is refused."""
    lang = session.get("lang")
    auth = session.get("auth")
    sid = auth.get("sid") if isinstance(auth, dict) else None
    if isinstance(sid, str) and sid:
        with get_engine().begin() as conn:
            conn.execute(delete(DashboardSession).where(DashboardSession.id == _row_id(sid)))
        g.pop("_dashboard_session", None)
    session.clear()
    if lang:
        session["lang"] = lang


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
        session.permanent = True
    return token


def csrf_ok() -> bool:
    given = request.form.get(CSRF_FIELD, "")
    wanted = session.get("csrf", "")
    return bool(given and wanted) and hmac.compare_digest(given.encode(), wanted.encode())


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (the caller falls back to ``/``).

    Browsers drop tabs and newlines inside URLs and read ``\\`` as ``/``, so ``/<TAB>/evil``
    or ``/\\evil`` would become ``//evil``, another host; a CR/LF would break the Location
    header. Any control, format or separator character, any backslash, and anything that
    parses with a scheme or a host is refused, and the value must be one absolute path.
    """
    if not target or len(target) > MAX_NEXT or not target.startswith("/") or target.startswith("//"):
        return None
    # A plain space stays (browsers encode it in place); every other separator is refused.
    if "\\" in target or any(c != " " and unicodedata.category(c)[0] in "CZ" for c in target):
        return None
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target
