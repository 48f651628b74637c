"""Safety around every request: headers, client addresses, webhook allow-list and limits, login throttling."""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker import status as st
from tracker import tokens
from tracker.config import Settings

log = logging.getLogger("tracker.web.security")

# For pages that set no policy of their own (the dashboard sets a stricter one).
CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")
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

    A token made with TRACKER_SECRET_KEY_OLD still works while its message is not
    final: CallbackUrls handed to eSMS before a key rotation keep delivering their
    statuses, and once the message is final nothing more is taken on the old key.
    """
    message_id = tokens.verify(token, (settings.secret_key,))
    if message_id is not None or not settings.secret_key_old:
        return message_id
    message_id = tokens.verify(token, (settings.secret_key_old,))
    if message_id is None:
        return None
    with engine.connect() as conn:
        status = conn.execute(_STATUS_OF, {"mid": message_id}).scalar()
    return message_id if status is not None and not st.is_final(status) else None


def _refuse(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), status


def _webhook_gate() -> tuple[Response, int] | None:
    """Runs before the webhook's view: nothing refused here is stored."""
    if not request.path.startswith(WEBHOOK_PREFIX):
        return None
    settings: Settings = current_app.config["SETTINGS"]
    if not address_allowed(client_address(), settings.webhook_allowed_ips):
        return _refuse(403, "forbidden", "forbidden")
    if len(request.query_string) > MAX_WEBHOOK_QUERY:
        return _refuse(414, "uri_too_long", f"the query string is over {MAX_WEBHOOK_QUERY} bytes")
    if (request.content_length or 0) > MAX_WEBHOOK_BODY:
        return _refuse(413, "request_entity_too_large", f"the body is over {MAX_WEBHOOK_BODY} bytes")
    if request.content_length is None and request.method == "POST":
        # A chunked body has no length up front, and werkzeug silently cuts it at the limit:
        # read one byte more than allowed (cached for the view) to tell "too big" from "just fits".
        request.max_content_length = MAX_WEBHOOK_BODY + 1
        if len(request.get_data()) > MAX_WEBHOOK_BODY:
            return _refuse(413, "request_entity_too_large", f"the body is over {MAX_WEBHOOK_BODY} bytes")
    return None


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


def _query_gate() -> tuple[Response, int] | Response | None:
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
        body = {"code": "invalid_query", "message": f"{name[:60]} {problem}", "fields": {name[:60]: problem}}
        return jsonify(error=body), 400
    if "\0" in request.path:
        if is_api:
            return _refuse(400, "invalid_path", "the path must not contain NUL characters")
        return Response("the path must not contain NUL characters\n", 400, mimetype="text/plain")
    return None


# -- response headers -------------------------------------------------------------------------

def _with_secure_flag(cookie: str) -> str:
    attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
    return cookie if "secure" in attrs else cookie + "; Secure"


def _headers(resp: Response) -> Response:
    h = resp.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith(("/api/", WEBHOOK_PREFIX)):
        # Answers carry phone numbers; no shared cache should keep them.
        h.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", HSTS)
        cookies = h.getlist("Set-Cookie")
        if cookies:
            # Whoever set a cookie, over HTTPS it never travels over plain HTTP again.
            h.setlist("Set-Cookie", [_with_secure_flag(c) for c in cookies])
    return resp


# -- login throttling -------------------------------------------------------------------------

@dataclass
class _Record:
    failures: int = 0
    next_try: float = 0.0
    last: float = 0.0


class LoginLimiter:
    """Failed sign-ins per client address: a few free, then doubling waits, then a lock.

    Waits are enforced by refusing early tries (429), never by sleeping, so an
    attacker cannot tie up web workers. State is per process: with N gunicorn
    workers an address gets at most N times the tries before every one locks it.
    """

    def __init__(self, *, free: int = 5, lock_after: int = 10, lock_seconds: float = 900.0,
                 max_delay: float = 60.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.lock_after, self.lock_seconds = free, lock_after, lock_seconds
        self.max_delay, self.max_entries = max_delay, max_entries
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(address: str) -> str:
        """IPv6 callers are counted per /64: one host usually holds the whole block."""
        addr = parse_address(address)
        if isinstance(addr, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((addr, 64), strict=False))
        return str(addr) if addr is not None else address

    def wait(self, address: str) -> float:
        """Seconds before ``address`` may try a password again (0: now)."""
        with self._lock:
            rec = self._records.get(self.key(address))
            if rec is None:
                return 0.0
            now = self._clock()
            if rec.failures >= self.lock_after and now >= rec.next_try:
                # The lock has run out: start afresh.
                del self._records[self.key(address)]
                return 0.0
            return max(0.0, rec.next_try - now)

    def failed(self, address: str) -> None:
        with self._lock:
            now = self._clock()
            key = self.key(address)
            rec = self._records.get(key)
            if rec is None:
                self._forget_oldest()
                rec = self._records[key] = _Record()
            rec.failures += 1
            rec.last = now
            if rec.failures >= self.lock_after:
                rec.next_try = now + self.lock_seconds
                log.warning("sign-in locked for %.0f s after %d failures from %s", self.lock_seconds,
                            rec.failures, key)
            elif rec.failures > self.free:
                rec.next_try = now + min(self.max_delay, 2.0 ** (rec.failures - self.free))

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._records.pop(self.key(address), None)

    def _forget_oldest(self) -> None:
        # Bounded memory even when someone cycles through many addresses.
        if len(self._records) < self.max_entries:
            return
        now = self._clock()
        stale = [k for k, r in self._records.items() if r.next_try <= now]
        for k in stale or sorted(self._records, key=lambda k: self._records[k].last)[: self.max_entries // 10]:
            del self._records[k]


def limiter(app: Flask | None = None) -> LoginLimiter:
    return (app or current_app).extensions["login_limiter"]


def login_wait() -> float:
    """For the login view, before checking a password: seconds this client must still wait (0: go ahead).

    A non-zero answer means: do not check the password, answer 429 with Retry-After.
    """
    return limiter().wait(client_address())


def login_failed() -> None:
    """For the login view: a wrong password came from this client."""
    limiter().failed(client_address())


def login_succeeded() -> None:
    """For the login view: this client signed in; its failures are forgotten."""
    limiter().succeeded(client_address())


# -- phone numbers and credentials in logs --------------------------------------------------------------------

# Vietnamese mobiles as they appear in our logs and URLs: 0901888484, 84901888484,
# +84 90 188 8484, 090-188-8484, %2B84901888484. Letters or digits around the match
# mean it is part of something else (an SMSID, a longer id).
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:(?:\+|%2[Bb])?84[ .-]?|0)[35789](?:[ .-]?[0-9]){8}(?![0-9A-Za-z])")


def mask_phones(value: str) -> str:
    """Every Vietnamese mobile number in ``value`` cut down to its last three digits."""
    return PHONE.sub(lambda m: "***" + re.sub(r"\D", "", m.group())[-3:], value)


# Someone may call the webhook (or any URL) with eSMS credentials in the query string, and the
# access log would print them: blank them, the way the webhook blanks them in what it stores.
CREDENTIAL_PARAM = re.compile(r"(?i)((?:api|secret)_?key=)[^&\s\"']*")
CREDENTIAL_JSON = re.compile(r"""(?i)(["']?(?:api|secret)_?key["']?\s*:\s*)(?:"[^"]*"|'[^']*'|[^,}\s]*)""")


def blank_credentials(value: str) -> str:
    """``ApiKey=…``/``SecretKey=…`` as query or form parameters, or as JSON fields, blanked to ***."""
    lower = value.lower()
    if "key=" in lower:
        value = CREDENTIAL_PARAM.sub(r"\1***", value)
    if "key" in lower and ":" in value:
        value = CREDENTIAL_JSON.sub(r'\1"***"', value)
    return value


# Access logs print request paths: the shared webhook token is a secret, and a per-message
# token's signature is nobody's business; the message id is kept for tracing.
WEBHOOK_TOKEN_PATH = re.compile(r"(/webhooks/esms/)(?:([0-9]{1,18})\.)?[^/?\s\"']+")


def scrub(value: str) -> str:
    """Log text with phone numbers masked, credential-looking parameters and webhook tokens blanked."""
    if WEBHOOK_PREFIX in value:
        value = WEBHOOK_TOKEN_PATH.sub(lambda m: f"{m.group(1)}{m.group(2) + '.' if m.group(2) else ''}***", value)
    return mask_phones(blank_credentials(value))


class LogScrubber(logging.Filter):
    """Applies :func:`scrub` to a record's message; usable on any handler, too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format is the logger's problem, not ours
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_MASK = LogScrubber()
_installed = False


def install_log_masking() -> None:
    """Scrub every log record this process makes, whichever logger or handler.

    A filter on the ``tracker`` logger would miss records of its child loggers
    (Python skips parent filters when propagating) and of werkzeug's and
    gunicorn's access logs, which print the webhook's query string.
    """
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _MASK.filter(record)
        return record

    logging.setLogRecordFactory(factory)


# -- start-up ---------------------------------------------------------------------------------

def warn_if_open(settings: Settings) -> bool:
    """Say loudly when real eSMS credentials sit behind an open API or dashboard."""
    if settings.simulator_mode or not settings.allow_open:
        return False
    open_parts = [name for name, missing in (("the API (/api/*)", not settings.api_tokens),
                                             ("the dashboard", not settings.dashboard_password)) if missing]
    if not open_parts:
        return False
    log.warning("!!! TRACKER_ALLOW_OPEN=1 with real eSMS credentials: %s answer anyone without "
                "authentication; anybody who can reach this server can read phone numbers%s !!!",
                " and ".join(open_parts), " and send paid messages" if not settings.api_tokens else "")
    return True


def init_app(app: Flask) -> None:
    settings: Settings = app.config["SETTINGS"]
    if settings.proxy_hops:
        # Only the hops we were told about are trusted; an X-Forwarded-For the client wrote itself is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    app.extensions["login_limiter"] = LoginLimiter()
    app.before_request(_webhook_gate)
    app.before_request(_query_gate)
    app.after_request(_headers)
    install_log_masking()
    warn_if_open(settings)
