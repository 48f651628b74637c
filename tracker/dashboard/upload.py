"""The CSV upload: the same bulk send as `tracker send-csv`, then a live progress view of the batch.

Problems with a file are the validators' (English, shared with the CLI), shown translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from tracker import status as st
from tracker.dashboard.blueprint import bp
from tracker.dashboard.formats import clock
from tracker.dashboard.present import GROUP_LABELS, GROUP_OF, GROUPS, cell, number, percent, status_cell
from tracker.dashboard.problems import translate
from tracker.db import get_engine, utcnow
from tracker.errors import JsonError
from tracker.sending import bulk
from tracker.sending.queue import QueueError, queue_many

BATCH_ID = re.compile(r"[0-9a-f]{24}")
MAX_SHOWN_ERRORS = 200
MAX_REMEMBERED = 5
MAX_FILENAME = 80
BAR_WIDTH = 1000


@dataclass
class Outcome:
    """What one POSTed upload came to: a queued batch, or what to tell the user."""

    form: dict[str, Any]
    problem: str | None = None
    errors: list[bulk.RowError] = field(default_factory=list)
    batch_id: str | None = None


def _form(values: MultiDict[str, str] | None = None) -> dict[str, Any]:
    values = values or MultiDict()
    default_oa = current_app.config["SETTINGS"].esms_oaid or ""
    return {
        "template_id": (values.get("template_id") or "").strip(),
        "oa_id": (values.get("oa_id", default_oa) or "").strip(),
        "campaign_id": (values.get("campaign_id") or "").strip(),
        "skip_invalid": values.get("skip_invalid") == "1",
    }


def handle(values: MultiDict[str, str], upload: FileStorage | None) -> Outcome:
    """Validate every row first; queue nothing while any row is bad, unless told to skip those."""
    out = Outcome(_form(values))
    form = out.form
    if upload is None or not upload.filename:
        out.problem = _("Choose a CSV file to upload.")
        return out
    if not form["template_id"]:
        out.problem = _("The template id is required.")
        return out
    try:
        parsed = bulk.parse_csv(
            upload.read(),
            template_id=form["template_id"],
            oa_id=form["oa_id"] or None,
            campaign_id=form["campaign_id"] or None,
        )
    except bulk.CsvError as exc:
        out.problem = _("The file cannot be read: %(problem)s.", problem=translate(str(exc)))
        return out
    # Params that break their template as eSMS lists it become errors of their lines, naming the
    # parameter (skipped, never blocking, when eSMS cannot be asked), as `tracker send-csv` does.
    bulk.check_templates(parsed, get_engine(), current_app.config["SETTINGS"])
    out.errors = parsed.errors  # their messages are translated where shown (the "problem" filter)
    if parsed.errors and not form["skip_invalid"]:
        out.problem = ngettext(
            "%(count)s bad row; nothing was queued. Fix it, or tick “skip invalid rows” to queue the others.",
            "%(count)s bad rows; nothing was queued. Fix them, or tick “skip invalid rows” to queue the others.",
            parsed.bad_lines,
            count=number(parsed.bad_lines),
        )
        return out
    if not parsed.rows:
        out.problem = _("The file has no valid rows to queue.")
        return out
    try:
        queued = queue_many(get_engine(), current_app.config["SETTINGS"], parsed.rows, source=bulk.SOURCE)
    except QueueError as exc:
        out.problem = _("Nothing was queued: %(problem)s.", problem=translate(str(exc)))
        return out
    _remember(
        parsed.batch_id,
        {
            "file": upload.filename[:MAX_FILENAME],
            "created": queued.created,
            "existing": queued.existing,
            "skipped": parsed.bad_lines,
        },
    )
    out.batch_id = parsed.batch_id
    return out


def _remember(batch: str, note: dict[str, Any]) -> None:
    """The last few uploads' results, in the session: the progress page says what this upload did."""
    kept = [entry for entry in session.get("uploads", []) if entry[0] != batch]
    session["uploads"] = (kept + [[batch, note]])[-MAX_REMEMBERED:]


def _note(batch: str) -> str | None:
    found = [entry[1] for entry in session.get("uploads", []) if entry[0] == batch]
    if not found:
        return None
    n = found[-1]
    if not n["created"] and n["existing"]:
        return ngettext(
            "%(file)s was uploaded before: nothing new was queued (%(count)s message was already queued).",
            "%(file)s was uploaded before: nothing new was queued (%(count)s messages were already queued).",
            n["existing"],
            file=n["file"],
            count=number(n["existing"]),
        )
    parts = [
        ngettext("%(count)s message queued", "%(count)s messages queued", n["created"], count=number(n["created"]))
    ]
    if n["existing"]:
        parts.append(_("%(num)s already queued before", num=number(n["existing"])))
    if n["skipped"]:
        parts.append(
            ngettext(
                "%(count)s bad row skipped", "%(count)s bad rows skipped", n["skipped"], count=number(n["skipped"])
            )
        )
    return _("%(file)s: %(what)s.", file=n["file"], what=", ".join(parts))


def progress_data(batch: str) -> dict[str, Any]:
    """Counts per status, a stacked bar and summary lines for one batch, for the page and its JSON."""
    counts = bulk.progress(get_engine(), batch)
    total = sum(counts.values())
    sent = total - counts.get(st.QUEUED, 0) - counts.get(st.SENDING, 0)
    final = sum(n for s, n in counts.items() if st.is_final(s))
    order = [s for s in st.ALL if s in counts] + sorted(s for s in counts if s not in st.ALL)
    bar, x = [], 0.0
    for group, members in GROUPS.items():
        n = sum(counts.get(s, 0) for s in members)
        if not n:
            continue
        width = round(BAR_WIDTH * n / total, 2)
        bar.append(
            {
                "cls": f"s-{group}",
                "x": round(x, 2),
                "w": width,
                "title": f"{GROUP_LABELS[group]}: {number(n)} ({percent(n, total)})",
            }
        )
        x += width
    other = sum(n for s, n in counts.items() if s not in GROUP_OF)
    if other:
        bar.append(
            {
                "cls": "s-other",
                "x": round(x, 2),
                "w": round(BAR_WIDTH - x, 2),
                "title": _("Other: %(num)s", num=number(other)),
            }
        )
    return {
        "total": total,
        "text": {
            "total": number(total),
            "sent": _(
                "%(sent)s of %(total)s sent to eSMS (%(share)s)",
                sent=number(sent),
                total=number(total),
                share=percent(sent, total),
            ),
            "final": _(
                "%(final)s with a final status, %(delivered)s delivered",
                final=number(final),
                delivered=number(counts.get(st.DELIVERED, 0)),
            ),
        },
        "tables": {
            "statuses": [
                [status_cell(s), cell(number(counts[s]), cls="num"), cell(percent(counts[s], total), cls="num")]
                for s in order
            ]
        },
        "bar": bar,
        "active": final < total,
    }


@bp.get("/upload")
def upload_form() -> ResponseReturnValue:
    return render_template("dashboard/upload.html", form=_form(), problem=None, errors=[])


@bp.post("/upload")
def upload() -> ResponseReturnValue:
    out = handle(request.form, request.files.get("file"))
    if out.batch_id:
        return redirect(url_for("dashboard.upload_progress", batch_id=out.batch_id), code=303)
    return render_template(
        "dashboard/upload.html",
        form=out.form,
        problem=out.problem,
        errors=out.errors[:MAX_SHOWN_ERRORS],
        more_errors=len(out.errors) - MAX_SHOWN_ERRORS,
    ), 400


@bp.get("/upload/<batch_id>")
def upload_progress(batch_id: str) -> ResponseReturnValue:
    note = _note(batch_id) if BATCH_ID.fullmatch(batch_id) else None
    data = progress_data(batch_id) if BATCH_ID.fullmatch(batch_id) else {"total": 0}
    if not data["total"] and note is None:
        return render_template(
            "dashboard/error.html", title=_("Upload not found"), detail=_("No queued messages come from that upload.")
        ), 404
    return render_template(
        "dashboard/upload_progress.html",
        batch_id=batch_id,
        data=data,
        note=note,
        bar_width=BAR_WIDTH,
        list_url=url_for("dashboard.messages", batch=batch_id),
        live_url=url_for("dashboard.upload_data", batch_id=batch_id),
    )


@bp.get("/dashboard/data/uploads/<batch_id>")
def upload_data(batch_id: str) -> ResponseReturnValue:
    if not BATCH_ID.fullmatch(batch_id):
        raise JsonError(404, "not_found", "no such upload")
    data = progress_data(batch_id)
    return jsonify({**{k: data[k] for k in ("text", "tables", "bar", "active")}, "stamp": clock(utcnow())})


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return render_template(
        "dashboard/error.html",
        title=_("File too large"),
        detail=_(
            "Uploads are limited to %(size)s KiB (TRACKER_MAX_BODY). Split the file into smaller ones and upload each.",
            size=number(round(limit / 1024)),
        ),
    ), 413
