"""Safety around every request: client addresses, the webhook's allow-list and size limits, hostile
query strings, security headers, and a loud warning when real credentials sit behind open doors.

Sign-in throttling lives in :mod:`tracker.web.login_throttle`; masking phone numbers and
blanking credentials in logs in :mod:`tracker.web.scrubbing`.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from flask import Flask, Request, Response, current_app, request
from sqlalchemy import text
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from tracker import status as st
from tracker import tokens
from tracker.config import Settings
from tracker.errors import JsonError
from tracker.web import scrubbing

# The webhook (blank_credentials, for what it stores) and purge (PHONE) still import these from here.
from tracker.web.scrubbing import PHONE, blank_credentials  # noqa: F401

log = logging.getLogger("tracker.web.security")

# For pages that set no policy of their own (the dashboard sets a stricter one).
CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=31536000"
# eSMS's callbacks are a dozen short parameters (under 1 KiB with an encoded error_info);
# anything far bigger is not eSMS, and refusing it before storing keeps junk out of the event log.
MAX_WEBHOOK_QUERY = 8 * 1024
MAX_WEBHOOK_BODY = 64 * 1024
WEBHOOK_PREFIX = "/webhooks/"


# -- client addresses -------------------------------------------------------------------------


def client_address() -> str:
    """The caller's address; with TRACKER_PROXY_HOPS set, ProxyFix has already taken it from X-Forwarded-For."""
    return request.remote_addr or ""


def parse_address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        addr = ipaddress.ip_address(raw.strip().split("%", 1)[0])
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 callers as ::ffff:a.b.c.d.
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def address_allowed(raw: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    """Is ``raw`` inside one of ``networks``? An empty list allows everyone; garbage is refused."""
    if not networks:
        return True
    addr = parse_address(raw)
    return addr is not None and any(addr.version == net.version and addr in net for net in networks)


# -- webhook ----------------------------------------------------------------------------------

_STATUS_OF = text("SELECT status FROM messages WHERE id = :mid")


def callback_message_id(settings: Settings, engine: Engine, token: str) -> int | None:
    """The message a per-message callback token names, or None (answered 404).

    Tokens made with the current callback key are taken at once. Tokens handed to eSMS
    earlier — made with TRACKER_SECRET_KEY_OLD, or "legacy" ones keyed with a secret itself
    before per-purpose keys (issue 12) — still work while their message is not final, so
    their statuses keep arriving; once it is final nothing more is taken on them. A
    ``queued`` message was never handed to eSMS with such a URL, so none of them reaches it:
    whoever held the old shared key (a forwarding receiver) cannot stop a send.
    """
    message_id = tokens.verify(token, (settings.secret_key,))
    if message_id is not None:
        return message_id
    olds = (settings.secret_key_old,) if settings.secret_key_old else ()
    message_id = tokens.verify(token, olds) or tokens.verify_legacy(token, (settings.secret_key, *olds))
    if message_id is None:
        return None
    with engine.connect() as conn:
        status = conn.execute(_STATUS_OF, {"mid": message_id}).scalar()
    usable = status is not None and status != st.QUEUED and not st.is_final(status)
    return message_id if usable else None


def _webhook_gate(request: Request) -> None:
    """Runs before the webhook's view: nothing refused here is stored."""
    if not request.path.startswith(WEBHOOK_PREFIX):
        return
    settings: Settings = current_app.config["SETTINGS"]
    if not address_allowed(client_address(), settings.webhook_allowed_ips):
        raise JsonError(403, "forbidden", "forbidden")
    if len(request.query_string) > MAX_WEBHOOK_QUERY:
        raise JsonError(414, "uri_too_long", f"the query string is over {MAX_WEBHOOK_QUERY} bytes")
    if (request.content_length or 0) > MAX_WEBHOOK_BODY:
        raise JsonError(413, "request_entity_too_large", f"the body is over {MAX_WEBHOOK_BODY} bytes")
    if request.content_length is None and request.method == "POST":
        # A chunked body has no length up front, and werkzeug silently cuts it at the limit:
        # read one byte more than allowed (cached for the view) to tell "too big" from "just fits".
        request.max_content_length = MAX_WEBHOOK_BODY + 1
        if len(request.get_data()) > MAX_WEBHOOK_BODY:
            raise JsonError(413, "request_entity_too_large", f"the body is over {MAX_WEBHOOK_BODY} bytes")


def json_body(req: Request) -> Any:
    """The request's JSON, or None when it is not JSON at all.

    ``get_json(silent=True)`` lets RecursionError through: ten kilobytes of ``[`` would be a 500.
    """
    try:
        return req.get_json(silent=True)
    except RecursionError:
        return None


# -- hostile query strings ----------------------------------------------------------------------

# Every /api filter is a short id, a time or a number; 1 KiB is far beyond any honest one.
MAX_QUERY_VALUE = 1024


def _query_gate(request: Request) -> Response | None:
    """NUL characters anywhere but the webhook (which stores them as invalid) and overlong /api filters.

    PostgreSQL refuses NUL in text, so such a filter would reach it as a 500.
    """
    if request.path.startswith(WEBHOOK_PREFIX):
        return None
    is_api = request.path.startswith("/api/")
    for name, value in request.args.items(multi=True):
        if "\0" in name or "\0" in value:
            problem = "must not contain NUL characters"
        elif is_api and len(value) > MAX_QUERY_VALUE:
            problem = f"longer than {MAX_QUERY_VALUE} characters"
        else:
            continue
        if not is_api:
            return Response(f"{name[:60]!r} {problem}\n", 400, mimetype="text/plain")
        raise JsonError(400, "invalid_query", f"{name[:60]} {problem}", {name[:60]: problem})
    if "\0" in request.path:
        if is_api:
            raise JsonError(400, "invalid_path", "the path must not contain NUL characters")
        return Response("the path must not contain NUL characters\n", 400, mimetype="text/plain")
    return None


# -- path parameters --------------------------------------------------------------------------

# The largest id a BIGINT holds: a bigger one is no row, and the driver could not even send it.
MAX_ID = 2**63 - 1
# Ids, order ids and tokens are all far shorter; a longer path parameter names nothing.
MAX_PATH_PARAM = 512


class AsciiInt(IntegerConverter):
    """``<int:…>`` for every route: ASCII digits only (``\\d`` also matches '١'), at most a BIGINT."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's own name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _path_gate(request: Request) -> None:
    """A path parameter beyond any real one is answered 404 before a view or the database sees it."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and len(value) > MAX_PATH_PARAM:
            raise JsonError(404, "not_found", "no such resource")


def _gates() -> Response | None:
    """Every request's checks, as one hook (each hook is a call of Flask's on the webhook's hot
    path): the webhook's limits, then path parameters, then hostile query strings. The request
    is looked up once and handed down: each look through Flask's proxy has a cost (issue 14)."""
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    _webhook_gate(req)
    _path_gate(req)
    return _query_gate(req)


# -- response headers -------------------------------------------------------------------------


def _with_secure_flag(cookie: str) -> str:
    attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
    return cookie if "secure" in attrs else cookie + "; Secure"


# Set on every answer that has not set its own; a view may (the dashboard's pages do).
_ALWAYS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
# Answers of these carry phone numbers; no shared cache should keep them.
_NOT_STORED = ("/api/", WEBHOOK_PREFIX)


def answer_headers(path: str, secure: bool) -> list[tuple[str, str]]:
    """The security headers an answer to ``path`` carries (unless its view set its own)."""
    wanted = list(_ALWAYS)
    if path.startswith(_NOT_STORED):
        wanted.append(("Cache-Control", "no-store"))
    if secure:
        wanted.append(("Strict-Transport-Security", HSTS))
    return wanted


def _headers(resp: Response) -> Response:
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    h = resp.headers
    secure = req.is_secure
    # One pass over the answer's headers, not one per header set (issue 14).
    present = {name.lower() for name in h.keys()}
    h.extend([(name, value) for name, value in answer_headers(req.path, secure) if name.lower() not in present])
    if secure:
        cookies = h.getlist("Set-Cookie")
        if cookies:
            # Whoever set a cookie, over HTTPS it never travels over plain HTTP again.
            h.setlist("Set-Cookie", [_with_secure_flag(c) for c in cookies])
    return resp


# -- start-up ---------------------------------------------------------------------------------


def warn_if_open(settings: Settings) -> bool:
    """Say loudly when real eSMS credentials sit behind an open API or dashboard."""
    if settings.simulator_mode or not settings.allow_open:
        return False
    open_parts = [
        name
        for name, missing in (
            ("the API (/api/*)", not settings.api_tokens),
            ("the dashboard", not settings.dashboard_password),
        )
        if missing
    ]
    if not open_parts:
        return False
    log.warning(
        "!!! TRACKER_ALLOW_OPEN=1 with real eSMS credentials: %s answer anyone without "
        "authentication; anybody who can reach this server can read phone numbers%s !!!",
        " and ".join(open_parts),
        " and send paid messages" if not settings.api_tokens else "",
    )
    return True


def init_app(app: Flask) -> None:
    settings: Settings = app.config["SETTINGS"]
    if settings.proxy_hops:
        # Only the hops we were told about are trusted; an X-Forwarded-For the client wrote itself is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    # Before any blueprint adds its rules, so every <int:…> is bounded.
    app.url_map.converters["int"] = AsciiInt
    app.before_request(_gates)
    app.after_request(_headers)
    scrubbing.install_log_masking()
    warn_if_open(settings)
