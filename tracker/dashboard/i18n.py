"""The dashboard's language: Flask-Babel set-up, the switch on every page, and what templates need of it.

The language is, first to last: the reader's choice from the switch (kept in the session),
the browser's ``Accept-Language``, ``TRACKER_LANGUAGE`` (default ``vi``). The catalogs are
``tracker/translations/<lang>/LC_MESSAGES/messages.po`` with their compiled ``.mo`` committed
beside them (a test fails when one is stale), so nothing is compiled at request time. English
is the source language: its text is the catalog's keys, so it needs no catalog of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import Babel, get_locale

from tracker.config import LANGUAGES
from tracker.dashboard import auth, formats, problems
from tracker.dashboard.blueprint import bp
from tracker.db import utcnow

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# Each language named in itself, so a reader who cannot read the current one still finds theirs.
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
SESSION_KEY = "lang"


def chosen() -> str:
    """The request's language code (``vi`` or ``en``)."""
    if has_request_context():
        picked = session.get(SESSION_KEY)
        if picked in LANGUAGES:
            return picked
        # Werkzeug falls back from "en-US" to "en" and honours q-values.
        offered = request.accept_languages.best_match(LANGUAGES)
        if offered:
            return offered
    return current_app.config["SETTINGS"].language


def _select_locale() -> str:
    return formats.FORMAT_LOCALES[chosen()]


def language() -> str:
    """The language of the locale Flask-Babel settled on for this request."""
    loc = get_locale()
    return loc.language if loc is not None and loc.language in LANGUAGES else chosen()


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    Babel(
        app,
        locale_selector=_select_locale,
        default_locale=formats.FORMAT_LOCALES[settings.language],
        default_timezone=settings.timezone,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.jinja_env.filters.update(
        number=formats.number,
        problem=problems.translate,
        time_field=lambda value: formats.input_value(value, seconds=True),
    )


@bp.get("/language/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """The switch: remember the choice and go back to the page it was made on.

    A GET link, so one click works on every page, the sign-in form included; it changes
    only how pages read, never data, so it needs no CSRF token.
    """
    if code in LANGUAGES:
        session[SESSION_KEY] = code
    return redirect(auth.safe_next(request.args.get("next")) or url_for("dashboard.index"))


@bp.context_processor
def _template_language() -> dict[str, Any]:
    here = request.full_path.rstrip("?") if request.method == "GET" else request.path
    zone_name, zone_offset = formats.zone_label(utcnow())
    return {
        "lang": language(),
        "languages": [
            (code, LANGUAGE_NAMES[code], url_for("dashboard.set_language", code=code, next=here)) for code in LANGUAGES
        ],
        "zone_name": zone_name,
        "zone_offset": zone_offset,
        "time_hint": formats.input_hint(),
    }
