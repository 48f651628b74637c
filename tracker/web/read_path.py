"""The API's three lookups, answered before Flask builds a request (issue 14).

``GET /api/messages/<id>``, ``GET /api/messages?smsid=<smsid>`` and
``GET /api/journeys/<order_id>`` are what integrations poll, and for them Flask's own work per
request (a request context, routing, nine hook calls, a Response object) cost more CPU than the
lookup itself (bench/README.md). This WSGI middleware answers the plain successful case, with
the body, headers and log line the Flask views give, made by the same functions:

- the same bearer check (:func:`tracker.web.auth.bearer_ok`), the same query and JSON
  (:mod:`tracker.queries.lookups`, the app's JSON provider), the same security headers
  (:func:`tracker.web.security.answer_headers`), request id and log line (:mod:`tracker.web.logs`);
- everything else goes to Flask untouched: another method or shape of URL, any other query
  parameter or an encoded character, a missing or wrong token, nothing found, debug mode, and
  any error. So refusals and failures keep their one envelope (tracker/errors.py), and a
  database error is met by Flask's own attempt and error handling.

A lookup that finds nothing is read twice (here, then by the view that answers the 404): the
price of keeping error answers in one place, paid only by misses.

tests/web/test_read_path.py sends the same requests through both and compares the answers.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from tracker.queries import lists, lookups
from tracker.web import auth, logs, security
from tracker.web.api import DEFAULT_LIMIT
from tracker.web.flask_app import JsonAnswers

log = logging.getLogger("tracker.web.read_path")

# What the Flask views' URL rules accept, narrowed to what needs no decoding: a message id that
# is always below the BIGINT limit, and SMSIDs and order ids made of unreserved URL characters.
_MESSAGE = re.compile(r"/api/messages/([0-9]{1,18})")
_JOURNEY = re.compile(r"/api/journeys/([0-9A-Za-z._~-]{1,128})")
_BY_SMSID = re.compile(r"smsid=([0-9A-Za-z._~-]{1,128})")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ReadPath:
    """WSGI middleware in front of the Flask app for the three lookups (see the module's docstring)."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO", "").startswith("/api/"):
            t0 = time.perf_counter()
            try:
                found = self.answer(environ)
            except SQLAlchemyError:
                found = None  # Flask tries again, and answers a failure through the error envelope
            except Exception:
                log.exception("the read path failed; Flask answers instead")
                found = None
            if found is not None:
                return self._send(environ, start_response, t0, *found)
        return self.inner(environ, start_response)

    def answer(self, environ: dict[str, Any]) -> tuple[dict[str, Any], str | None] | None:
        """The answer's body and the query for the log line, or None to leave the request to Flask."""
        app = self.app
        if app.debug or not isinstance(app.json, JsonAnswers):
            return None  # an indented or otherwise different JSON: Flask writes it
        settings = app.config["SETTINGS"]
        if not (settings.api_open or auth.bearer_ok(settings, environ.get("HTTP_AUTHORIZATION", ""))):
            return None  # Flask refuses it, with the 401 and its challenge
        engine = app.extensions["engine"]
        path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")
        if query:
            by_smsid = _BY_SMSID.fullmatch(query)
            if path != "/api/messages" or by_smsid is None:
                return None
            smsid = by_smsid[1]
            rows = lists.MessageFilter().where("smsid", "=", smsid).newest_first(engine, DEFAULT_LIMIT + 1)
            return lookups.page(rows, DEFAULT_LIMIT), logs.safe_query(MultiDict([("smsid", smsid)]))
        message = _MESSAGE.fullmatch(path)
        if message is not None:
            body = lookups.message_with_events(engine, int(message[1]))
            return None if body is None else (body, None)
        journey = _JOURNEY.fullmatch(path)
        if journey is not None:
            rows = lookups.journey(engine, journey[1])
            return (lookups.journey_answer(journey[1], rows), None) if rows else None
        return None

    def _send(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        t0: float,
        body: dict[str, Any],
        query: str | None,
    ) -> list[bytes]:
        text = self.app.json.text(body).encode()  # type: ignore[attr-defined]  # a JsonAnswers (see answer)
        rid = logs.request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        path = environ["PATH_INFO"]
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(text))),
            (logs.REQUEST_ID_HEADER, rid),
            *security.answer_headers(path, environ.get("wsgi.url_scheme") in ("https", "wss")),
        ]
        start_response("200 OK", headers)
        duration = round((time.perf_counter() - t0) * 1000, 2)
        logs.log_request(
            rid, "GET", path, 200, duration, environ.get("REMOTE_ADDR"), {"query": query} if query else None
        )
        return [text]


def init_app(app: Flask) -> None:
    """Before tracker.web.security wraps the app in ProxyFix, so this sees the caller's address as Flask does."""
    app.wsgi_app = ReadPath(app, app.wsgi_app)  # type: ignore[method-assign]
