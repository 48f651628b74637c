"""/api/*: queue messages and read their status (bearer-token JSON API)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, current_app, jsonify, request
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from tracker import phones
from tracker import status as st
from tracker.db import get_engine, get_session
from tracker.errors import JsonError
from tracker.queries import lists, lookups, stats
from tracker.schemas import NewMessage, field_errors
from tracker.sending import resend
from tracker.sending.queue import ParamsError, QueueError, queue
from tracker.web import auth, security
from tracker.web.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LIMIT = 500
# Ids are BIGINT; anything larger names no message and would overflow the database driver.
MAX_ID = 2**63 - 1
DEFAULT_LIMIT = 50


@bp.before_request
def _authenticate() -> None:
    # The document describes the API to anyone; everything else needs a token.
    if request.endpoint != "api.openapi":
        auth.require_token(current_app.config["SETTINGS"])


@bp.post("/messages")
def create_message():
    body = security.json_body(request)
    if not isinstance(body, dict):
        raise JsonError(400, "invalid_json", "the body must be a JSON object")
    try:
        data = NewMessage.model_validate(body)
    except ValidationError as exc:
        raise JsonError(400, "invalid_fields", "some fields are invalid", field_errors(exc)) from None
    try:
        msg, created = queue(get_session(), current_app.config["SETTINGS"], data, source="api")
    except ParamsError as exc:
        raise _params_error(exc) from None
    except QueueError as exc:
        raise JsonError(400, "invalid_fields", "some fields are invalid", exc.fields) from None
    return jsonify(msg.to_dict()), 202 if created else 200


def _params_error(exc: ParamsError) -> JsonError:
    return JsonError(
        400,
        "params_do_not_fit_template",
        f"the params do not fit template {exc.template_id} as eSMS lists it",
        exc.fields,
    )


@bp.post("/messages/<int:message_id>/resend")
def resend_message(message_id: int):
    """A new message repeating a failed or rejected one (tracker/sending/resend.py says which)."""
    if message_id > MAX_ID:
        raise JsonError(404, "not_found", f"no message {message_id}")
    try:
        msg, created = resend.resend(get_session(), current_app.config["SETTINGS"], message_id)
    except resend.NotFound:
        raise JsonError(404, "not_found", f"no message {message_id}") from None
    except resend.Refused as exc:
        raise JsonError(409, "not_resendable", str(exc)) from None
    except ParamsError as exc:
        raise _params_error(exc) from None
    except QueueError as exc:  # no OA to send it from any more (ESMS_OAID unset since)
        raise JsonError(409, "not_resendable", str(exc)) from None
    return jsonify(msg.to_dict()), 202 if created else 200


@bp.get("/messages/<int:message_id>")
def get_message(message_id: int):
    if message_id > MAX_ID:  # no such row, and the driver could not even send the number
        raise JsonError(404, "not_found", f"no message {message_id}")
    # Core rows, not ORM objects: several times cheaper per request (issue 5).
    body = lookups.message_with_events(get_engine(), message_id)
    if body is None:
        raise JsonError(404, "not_found", f"no message {message_id}")
    return jsonify(body)


def _given(args: MultiDict[str, str], name: str) -> str | None:
    """A query parameter's value, or None. `name in args` first: werkzeug's get() of a missing
    name raises and catches an exception (a BadRequestKeyError, costly to make), and most of the
    list's filters are missing from any one request (issue 14)."""
    return args.get(name) if name in args else None


def _time_arg(args: MultiDict[str, str], name: str) -> datetime | None:
    raw = _given(args, name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        # Year 1 at +14:00 or year 9999 at -14:00 cannot be expressed in UTC.
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise JsonError(
            400, "invalid_query", f"{name} must be an ISO 8601 time", {name: "not an ISO 8601 time"}
        ) from None


def _int_arg(args: MultiDict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = _given(args, name)
    if raw is None or raw == "":
        return default
    # isdigit() alone also accepts digits int() refuses, such as '²'.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18) or not lo <= int(raw) <= hi:
        raise JsonError(400, "invalid_query", f"{name} must be an integer from {lo} to {hi}", {name: f"{lo}..{hi}"})
    return int(raw)


@bp.get("/messages")
def list_messages():
    q = lists.MessageFilter()
    args = request.args
    for name in ("smsid", "order_id", "campaign_id", "template_id", "oa_id"):
        if value := _given(args, name):
            q = q.where(name, "=", value)
    if _given(args, "phone"):
        try:
            q = q.where("phone", "=", phones.normalize(args["phone"]))
        except ValueError as exc:
            raise JsonError(400, "invalid_query", "phone is invalid", {"phone": str(exc)}) from None
    if _given(args, "status"):
        wanted = [s for s in args["status"].split(",") if s]
        unknown = [s for s in wanted if s not in st.ALL]
        if unknown:
            raise JsonError(400, "invalid_query", "unknown status", {"status": ", ".join(unknown)})
        q = q.where("status", "in", wanted)
    since, until = _time_arg(args, "since"), _time_arg(args, "until")
    if since:
        q = q.where("created_at", ">=", since)
    if until:
        q = q.where("created_at", "<", until)
    cursor = _given(args, "cursor")
    if cursor:
        if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 19 and int(cursor) <= MAX_ID):
            raise JsonError(400, "invalid_query", "cursor is invalid", {"cursor": "use next_cursor as given"})
        q = q.where("id", "<", int(cursor))
    limit = _int_arg(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    # Newest first by id (ids grow with time); keyset pagination stays fast at any depth.
    return jsonify(lookups.page(q.newest_first(get_engine(), limit + 1), limit))


@bp.get("/journeys/<path:order_id>")
def get_journey(order_id: str):
    msgs = lookups.journey(get_engine(), order_id)
    if not msgs:
        raise JsonError(404, "not_found", f"no journey {order_id!r}")
    return jsonify(lookups.journey_answer(order_id, msgs))


@bp.get("/stats")
def get_stats():
    args = request.args
    since, until = _time_arg(args, "since"), _time_arg(args, "until")
    return jsonify(stats.summary(get_session(), since, until))


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
