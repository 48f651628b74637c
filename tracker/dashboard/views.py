"""Dashboard routes: each page as HTML, and the same data as JSON for live updates.

Every word on a page and in its live JSON is in the reader's language (see i18n.py); the
JSON's keys stay the same whatever the language.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from tracker.dashboard import account_panel, auth, export, formats, forward_panel, listing, overview, pages, ranges
from tracker.dashboard.blueprint import bp
from tracker.dashboard.present import GROUP_LABELS, GROUPS, STATUS_LABELS
from tracker.dashboard.problems import translate
from tracker.db import get_engine, get_session, utcnow
from tracker.errors import JsonError
from tracker.sending import resend
from tracker.sending.queue import QueueError
from tracker.web import login_throttle


def _page_size() -> int:
    return current_app.config["SETTINGS"].dashboard_page_size


def _live(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, **values, **request.args.to_dict())


def _link_to_list(**args: str) -> str:
    return url_for("dashboard.messages", **{k: v for k, v in args.items() if v})


def _data(payload: dict[str, Any]) -> Response:
    """The live part of a page as JSON (objects that only the HTML needs are left out)."""
    keys = ("text", "tables", "links", "chart", "active")
    # ``stamp``: the time of this answer on the tracker's clock, which live.js shows as is.
    return jsonify({**{k: payload[k] for k in keys if k in payload}, "stamp": formats.clock(utcnow())})


# -- overview ---------------------------------------------------------------------------------


def _overview_payload() -> tuple[ranges.Range, dict[str, Any]]:
    rng = ranges.from_args(request.args)
    data = overview.build(get_session(), rng, _link_to_list)
    # Forwarding health is not about the range, but it belongs where people look first.
    data["text"].update(forward_panel.text(get_engine(), current_app.config["SETTINGS"]))
    # The eSMS balance and quotas as the worker last read them (never a call to eSMS from here).
    account = account_panel.build(get_engine(), current_app.config["SETTINGS"])
    data["text"].update(account["text"])
    data["tables"].update(account["tables"])
    return rng, data


@bp.get("/")
def index():
    rng, data = _overview_payload()
    return render_template(
        "dashboard/overview.html",
        rng=rng,
        data=data,
        presets=ranges.PRESETS,
        groups=GROUP_LABELS,
        group_members=GROUPS,
        status_labels=STATUS_LABELS,
        live_url=_live("dashboard.overview_data"),
        details_url=_live("dashboard.overview_details") if data["pending"] else None,
        list_url=_link_to_list(since=formats.wire(rng.since)),
    )


@bp.get("/dashboard/data/overview")
def overview_data():
    return _data(_overview_payload()[1])


@bp.get("/dashboard/data/overview/details")
def overview_details():
    """Times, failure reasons and breakdowns of a long range, loaded after the page."""
    rng = ranges.from_args(request.args)
    return _data(overview.details(get_session(), rng, _link_to_list))


# -- message list ------------------------------------------------------------------------------


def _filters() -> listing.Filters:
    return listing.from_args(request.args, listing.saved_searches(get_engine()))


def _list_payload(f: listing.Filters) -> dict[str, Any]:
    before, after = listing.int_arg(request.args, "before"), listing.int_arg(request.args, "after")
    return pages.list_data(get_engine(), f, _page_size(), before, after, url_for)


@bp.get("/messages")
def messages():
    f = _filters()
    data = _list_payload(f)
    return render_template(
        "dashboard/messages.html",
        f=f,
        data=data,
        statuses=listing.status_choices(),
        phone_shown=f.phone or "",
        error=None,
        live_url=_live("dashboard.messages_data"),
        csv_url=url_for("dashboard.messages_csv", **f.args()),
        cursor=bool(request.args.get("before") or request.args.get("after")),
    )


@bp.post("/messages")
def search():
    """The filter form, POSTed so that a phone number never lands in a URL."""
    secret = current_app.config["SETTINGS"].secret_key
    args, saved, error = listing.from_form(request.form, secret, listing.saved_searches(get_engine()))
    if error:
        f = listing.from_args(args, {})
        data = pages.list_data(get_engine(), f, _page_size(), None, None, url_for)
        return render_template(
            "dashboard/messages.html",
            f=f,
            data=data,
            statuses=listing.status_choices(),
            phone_shown="",
            error=error,
            live_url=None,
            csv_url=url_for("dashboard.messages_csv", **f.args()),
            cursor=False,
        ), 400
    return redirect(url_for("dashboard.messages", **args), code=303)


@bp.get("/dashboard/data/messages")
def messages_data():
    return _data(_list_payload(_filters()))


@bp.get("/messages.csv")
def messages_csv():
    f = _filters()
    stamp = formats.local(datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")  # a file name, not shown text
    body = stream_with_context(export.rows(get_engine(), f))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="messages-{stamp}.csv"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


# -- one message, one journey --------------------------------------------------------------------


@bp.get("/messages/<int:message_id>")
def message(message_id: int):
    data = pages.message_data(get_engine(), message_id, url_for)
    if data is None:
        return render_template(
            "dashboard/error.html",
            title=_("Message not found"),
            detail=_("There is no message #%(id)s.", id=message_id),
        ), 404
    return render_template(
        "dashboard/message.html",
        m=data["message"],
        data=data,
        live_url=url_for("dashboard.message_data", message_id=message_id),
    )


@bp.post("/messages/<int:message_id>/resend")
def resend_message(message_id: int):
    """The message page's resend button: the same resend as POST /api/messages/<id>/resend."""
    try:
        msg, created = resend.resend(get_session(), current_app.config["SETTINGS"], message_id)
    except resend.NotFound:
        return render_template(
            "dashboard/error.html",
            title=_("Message not found"),
            detail=_("There is no message #%(id)s.", id=message_id),
        ), 404
    except resend.Refused:
        flash(_("Message #%(id)s cannot be resent: only a failed or rejected message can.", id=message_id))
        return redirect(url_for("dashboard.message", message_id=message_id), code=303)
    except QueueError as exc:  # params that no longer fit the template, or no OA to send from
        flash(_("Message #%(id)s was not resent: %(problem)s.", id=message_id, problem=translate(str(exc))))
        return redirect(url_for("dashboard.message", message_id=message_id), code=303)
    if created:
        flash(_("Message #%(old)s resent as #%(new)s.", old=message_id, new=msg.id))
    else:
        flash(_("Message #%(old)s was already resent as #%(new)s.", old=message_id, new=msg.id))
    return redirect(url_for("dashboard.message", message_id=msg.id), code=303)


@bp.get("/dashboard/data/messages/<int:message_id>")
def message_data(message_id: int):
    data = pages.message_data(get_engine(), message_id, url_for)
    if data is None:
        raise JsonError(404, "not_found", f"no message {message_id}")
    return _data(data)


@bp.get("/journeys/<path:order_id>")
def journey(order_id: str):
    data = pages.journey_data(get_engine(), order_id, url_for)
    if data is None:
        return render_template(
            "dashboard/error.html",
            title=_("Journey not found"),
            detail=_("No message has order id %(order_id)s.", order_id=order_id),
        ), 404
    return render_template(
        "dashboard/journey.html",
        order_id=order_id,
        data=data,
        live_url=url_for("dashboard.journey_data", order_id=order_id),
    )


@bp.get("/dashboard/data/journeys/<path:order_id>")
def journey_data(order_id: str):
    data = pages.journey_data(get_engine(), order_id, url_for)
    if data is None:
        raise JsonError(404, "not_found", "no such journey")
    return _data(data)


# -- sign-in ------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = auth.safe_next(request.values.get("next")) or url_for("dashboard.index")
    if auth.is_open():
        return redirect(target)
    if request.method == "GET":
        return render_template("dashboard/login.html", error=None, next=target)
    # Guessing is throttled per client address: refused early (429), never by sleeping.
    wait = login_throttle.login_wait()
    if wait > 0:
        error = _("Too many wrong passwords. Try again in %(seconds)s s.", seconds=math.ceil(wait))
        resp = make_response(render_template("dashboard/login.html", error=error, next=target), 429)
        resp.headers["Retry-After"] = str(math.ceil(wait))
        return resp
    if auth.check_password(request.form.get("password", "")):
        login_throttle.login_succeeded()
        auth.sign_in()
        return redirect(target, code=303)
    login_throttle.login_failed()
    return render_template("dashboard/login.html", error=_("Wrong password."), next=target), 401


@bp.post("/logout")
def logout():
    auth.sign_out()
    return redirect(url_for("dashboard.login"), code=303)
