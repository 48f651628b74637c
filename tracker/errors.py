"""One error envelope for every JSON answer: ``{"error": {"code", "message", "fields"?}}``.

Code anywhere in a request raises :class:`JsonError` (or lets a werkzeug ``HTTPException``
through); the handlers registered by :func:`init_app` turn it into the envelope. Nothing else
builds error JSON by hand, so every client (the API, eSMS's callbacks, the dashboard's live
updates, a Prometheus scraper) meets one shape.

HTML pages keep HTML errors: an ``HTTPException`` outside the JSON areas is answered as
werkzeug (or the dashboard's own handler) would.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

# Paths whose clients read JSON, so whose errors are JSON too.
JSON_PREFIXES = ("/api/", "/webhooks/", "/dashboard/data/", "/metrics", "/healthz")


class JsonError(Exception):
    """An answer that refuses the request: HTTP status, a stable code, a sentence, bad fields."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = dict(fields) if fields else None
        self.headers = dict(headers) if headers else None

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.fields, self.headers)


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The envelope as a response; for ``before_request`` hooks that answer instead of raising."""
    body: dict[str, object] = {"code": code, "message": message}
    if fields:
        body["fields"] = dict(fields)
    resp = jsonify(error=body)
    resp.status_code = status
    if headers:
        resp.headers.update(headers)
    return resp


def code_of(exc: HTTPException) -> str:
    """werkzeug's name as a code: ``Request Entity Too Large`` -> ``request_entity_too_large``."""
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def wants_json(path: str) -> bool:
    return path.startswith(JSON_PREFIXES)


def _json_error(exc: JsonError) -> Response:
    return exc.response()


def _http_error(exc: HTTPException) -> Response | HTTPException:
    if not wants_json(request.path):
        return exc
    resp = error_response(exc.code or 500, code_of(exc), exc.description or exc.name or "error")
    # werkzeug's own answer carries the headers a client acts on (405's Allow, 429's Retry-After).
    original = exc.get_response().headers
    for name in ("Allow", "WWW-Authenticate", "Retry-After"):
        if original.get(name):
            resp.headers[name] = original[name]
    return resp


def init_app(app: Flask) -> None:
    """App-wide, so routing errors (unknown path, wrong method), which never reach a blueprint's
    handlers, get the envelope too."""
    app.register_error_handler(JsonError, _json_error)
    app.register_error_handler(HTTPException, _http_error)
