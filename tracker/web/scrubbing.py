"""Phone numbers masked, eSMS credentials and webhook tokens blanked: in every log line, and in
what the webhook stores of a callback."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote_plus

# Vietnamese mobiles as they appear in our logs and URLs: 0901888484, 84901888484,
# +84 90 188 8484, 090-188-8484, %2B84901888484. Letters or digits around the match
# mean it is part of something else (an SMSID, a longer id).
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:(?:\+|%2[Bb])?84[ .-]?|0)[35789](?:[ .-]?[0-9]){8}(?![0-9A-Za-z])")


def mask_phones(value: str) -> str:
    """Every Vietnamese mobile number in ``value`` cut down to its last three digits."""
    return PHONE.sub(lambda m: "***" + re.sub(r"\D", "", m.group())[-3:], value)


# Someone may call the webhook (or any URL) with eSMS credentials in the query string, and the
# access log would print them: blank them, the way the webhook blanks them in what it stores.
# Names are judged as decoded (issue 12): ``Api%4Bey``, ``api+key``, ``"\u0041piKey"`` and
# ``ＡｐｉＫｅｙ`` are all ApiKey; spelling them differently must not get a key through.
_PAIR = re.compile(r"(?P<name>[^&?\s=;,\"'{}]+)=(?P<value>[^&\s\"']*)")
_JSON_FIELD = re.compile(
    r"""(?P<name>"(?:[^"\\]|\\.)*"|'[^']*')(?P<sep>\s*:\s*)(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^,}\]\s]*)"""
)


@lru_cache(maxsize=4096)
def is_credential_name(name: str) -> bool:
    """Does a decoded parameter name mean an eSMS credential (ApiKey, secret_key, "API KEY", …)?

    Cached: every callback asks about the same dozen names, and normalising them cost the
    webhook about as much as parsing the callback (bench/README.md). Bounded, so odd names
    cannot grow it."""
    squeezed = re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", name).casefold())
    return squeezed.endswith(("apikey", "secretkey"))


def _decoded_pair_name(raw: str) -> str:
    return unquote_plus(raw, encoding="utf-8", errors="replace")


def _decoded_json_name(raw: str) -> str:
    if raw.startswith("'"):
        return raw[1:-1]
    try:
        return json.loads(raw)
    except ValueError:
        return raw[1:-1]


def blank_credentials(value: str) -> str:
    """Credential parameters (query or form pairs, JSON fields) blanked to ***, names judged decoded."""
    lower = value.lower()
    if "=" in value and ("key" in lower or "%" in value or "+" in value):
        value = _PAIR.sub(
            lambda m: f"{m['name']}=***" if is_credential_name(_decoded_pair_name(m["name"])) else m.group(), value
        )
    if ":" in value and ("key" in lower or "\\u" in lower):
        value = _JSON_FIELD.sub(
            lambda m: f'{m["name"]}{m["sep"]}"***"' if is_credential_name(_decoded_json_name(m["name"])) else m.group(),
            value,
        )
    return value


# Access logs print request paths: the shared webhook token is a secret, and a per-message
# token's signature is nobody's business; the message id is kept for tracing.
WEBHOOK_TOKEN_PATH = re.compile(r"(/webhooks/esms/)(?:([0-9]{1,18})\.)?[^/?\s\"']+")


def scrub(value: str) -> str:
    """Log text with phone numbers masked, credential-looking parameters and webhook tokens blanked."""
    if "/webhooks/esms/" in value:
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
