"""Structured logs: one JSON line per request, with a request id; phone numbers masked, no secrets.

Every answer carries ``X-Request-ID``: the caller's own when it sent a sensible one
(letters, digits and ``._:-``, at most 128), else a fresh one. The request line is
logged by ``tracker.request`` at INFO (5xx at ERROR), e.g.

    {"time": "2026-11-27T14:00:00.123Z", "level": "info", "logger": "tracker.request",
     "msg": "request", "request_id": "5f0c...", "method": "GET",
     "path": "/webhooks/esms/42.***", "status": 200, "duration_ms": 2.1,
     "remote": "127.0.0.1", "outcome": "applied"}

What is never logged: query strings of callbacks (they hold phone numbers; the event
log keeps them), the signature half of callback tokens and the shared webhook token,
credentials and tokens given as parameters, Authorization and Cookie headers.

TRACKER_LOG_LEVEL (default INFO) sets the level of the ``tracker`` loggers; WARNING
silences the request lines. When nothing configured logging before (gunicorn), the
``tracker`` loggers write these JSON lines to stderr.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_GOOD_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
# Vietnamese mobiles as people write them: 0901888484, 84901888484, +84901888484 (and URL-encoded +).
_PHONE = re.compile(r"(?<![0-9])((?:\+|%2B)?84|0)([0-9]{2})[0-9]{3,5}([0-9]{3})(?![0-9])")
_SECRET_PARAMS = frozenset({"apikey", "secretkey", "token", "password", "access_token", "api_key", "secret"})
_TOKEN_PATH = re.compile(r"^(/webhooks/esms/)([^/]*)$")

request_log = logging.getLogger("tracker.request")


def mask_phones(text: str) -> str:
    """0901888484 -> 090***484, +84901888484 -> +8490***484."""
    return _PHONE.sub(lambda m: f"{m.group(1)}{m.group(2)}***{m.group(3)}", text)


def safe_path(path: str) -> str:
    """The path with callback tokens cut to their message id, and phone numbers masked."""
    m = _TOKEN_PATH.match(path)
    if m:
        head, dot, _ = m.group(2).partition(".")
        # A per-message token keeps its message id; the shared token is a secret: none of it.
        return f"{m.group(1)}{head}.***" if dot and head.isdigit() else f"{m.group(1)}***"
    return mask_phones(path)


def safe_query(args) -> str | None:
    """An /api query string for the log: secrets blanked, phones masked."""
    if not args:
        return None
    parts = []
    for key, value in args.items(multi=True):
        value = "***" if key.lower() in _SECRET_PARAMS else mask_phones(value[:200])
        parts.append(f"{key}={value}")
    return "&".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields passed as ``extra={"fields": {...}}`` are merged in."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_phones(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if fields:
            out.update(fields)
        elif (rid := _current_request_id()) is not None:
            out["request_id"] = rid
        if record.exc_info:
            out["exc"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time (gunicorn, or a test capturing it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def _current_request_id() -> str | None:
    try:
        return g.get("request_id")
    except RuntimeError:  # outside a request
        return None


def configure() -> None:
    """Level from TRACKER_LOG_LEVEL; JSON lines on stderr when nothing else configured logging."""
    level = os.environ.get("TRACKER_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    # No caller lookup (a walk up the stack) for every record: no line of ours prints the file,
    # function or line, and the webhook logs one record per request (issue 14). The logging
    # HOWTO's "Optimization" section names this switch.
    logging._srcfile = None  # type: ignore[attr-defined]
    tracker = logging.getLogger("tracker")
    tracker.setLevel(getattr(logging, level, logging.INFO))
    if not logging.getLogger().handlers and not any(isinstance(h, _StderrHandler) for h in tracker.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        tracker.addHandler(handler)
        # Only our handler: a root handler configured later would print every line twice.
        tracker.propagate = False


def request_id_for(given: str | None) -> str:
    """The request's id: the caller's own ``X-Request-ID`` when it is sensible, else a fresh one."""
    return given if given and _GOOD_ID.fullmatch(given) else os.urandom(16).hex()


def log_request(
    rid: str,
    method: str,
    path: str,
    status: int,
    duration_ms: float,
    remote: str | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The one line per request (INFO; ERROR for a 5xx), path made safe here, extra fields after."""
    level = logging.ERROR if status >= 500 else logging.INFO
    if not request_log.isEnabledFor(level):
        return
    fields = {
        "request_id": rid,
        "method": method,
        "path": safe_path(path),
        "status": status,
        "duration_ms": duration_ms,
        "remote": remote,
    }
    if extra:
        fields.update(extra)
    request_log.log(level, "request", extra={"fields": fields})


def _begin() -> None:
    req = request._get_current_object()  # type: ignore[attr-defined]  # one look through the proxy
    ctx = g._get_current_object()  # type: ignore[attr-defined]
    ctx.t0 = time.perf_counter()
    ctx.request_id = request_id_for(req.headers.get(REQUEST_ID_HEADER))


def _end(response: Response) -> Response:
    req = request._get_current_object()  # type: ignore[attr-defined]
    ctx = g._get_current_object()  # type: ignore[attr-defined]
    rid = ctx.get("request_id")
    if rid is None:  # a before_request of someone else answered before ours ran
        rid = ctx.request_id = os.urandom(16).hex()
    response.headers[REQUEST_ID_HEADER] = rid
    status = response.status_code
    if request_log.isEnabledFor(logging.ERROR if status >= 500 else logging.INFO):
        t0 = ctx.get("t0")
        extra: dict[str, Any] | None = None
        if req.endpoint == "webhooks.esms_callback":
            from tracker.web.metrics import callback_outcome

            extra = {"outcome": callback_outcome(response)}
        elif req.query_string:
            extra = {"query": safe_query(req.args)}
        duration = round((time.perf_counter() - t0) * 1000, 2) if t0 is not None else 0.0
        log_request(rid, req.method, req.path, status, duration, req.remote_addr, extra)
    return response


def init_app(app: Flask) -> None:
    configure()
    # First of all, so even a request refused by another before_request gets an id and a line.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_end)


def request_id() -> str | None:
    """The current request's id (for other modules' log lines or forwarded calls)."""
    return _current_request_id() if current_app else None
