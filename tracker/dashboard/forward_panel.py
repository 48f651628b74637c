"""The overview's status-forwarding panel: outbox counts, the latest error, and a retry button."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.engine import Engine

from tracker.config import Settings
from tracker.dashboard.blueprint import bp
from tracker.dashboard.present import cell, duration, number
from tracker.db import get_engine, utcnow
from tracker.worker import forwarding


def text(engine: Engine, settings: Settings) -> dict[str, Any]:
    """The panel's live text (keys ``fwd-*``); empty when forwarding is off, which hides the panel."""
    if not settings.forward_url:
        return {}  # no outbox queries on every overview poll when there is nothing to show
    s = forwarding.stats(engine, settings)
    oldest = datetime.fromisoformat(s.oldest_pending_at) if s.oldest_pending_at else None
    return {
        "fwd-pending": number(s.pending),
        # Red only when something needs a look, so a healthy panel stays quiet.
        "fwd-failed": cell(number(s.failed), cls="err" if s.failed else None),
        "fwd-oldest": _("%(duration)s ago", duration=duration((utcnow() - oldest).total_seconds()))
        if oldest
        else _("none pending"),
        "fwd-error": s.last_error or _("none"),
    }


@bp.post("/forwarding/retry")
def forwarding_retry() -> ResponseReturnValue:
    """Every failed delivery back in the queue, e.g. after fixing the receiver."""
    settings: Settings = current_app.config["SETTINGS"]
    if not settings.forward_url:
        return render_template(
            "dashboard/error.html",
            title=_("Forwarding is off"),
            detail=_("TRACKER_FORWARD_URL is not set, so there is nothing to retry."),
        ), 404
    n = forwarding.retry_failed(get_engine())
    flash(
        ngettext(
            "%(count)s failed delivery put back in the queue.",
            "%(count)s failed deliveries put back in the queue.",
            n,
            count=number(n),
        )
        if n
        else _("No failed deliveries to retry.")
    )
    return redirect(url_for("dashboard.index"), code=303)
