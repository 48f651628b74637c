"""Keeping eSMS credentials out of sight: out of stored requests and answers, and out of urllib3's logs."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "***"
_CREDENTIAL_KEYS = frozenset({"apikey", "secretkey"})
# Every credential a client in this process was given, in each form it may take in a URL.
_SECRETS: set[str] = set()


def remember(*secrets: str) -> None:
    """Scrub these credentials from urllib3's log lines from now on."""
    # GetSendStatus puts the keys in its query string, so the encoded forms count too.
    for secret in filter(None, secrets):
        _SECRETS.update({secret, quote(secret, safe=""), quote_plus(secret)})


def scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    """`value` with credential keys dropped and the strings in `secrets` replaced by ***."""
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items() if str(k).lower() not in _CREDENTIAL_KEYS}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED) if secret else value
    return value


def _redact_urllib3(record: logging.LogRecord) -> bool:
    """Scrub credentials from urllib3's debug lines, which print whole request URLs."""
    try:
        message = record.getMessage()
        for secret in sorted(_SECRETS, key=len, reverse=True):
            message = message.replace(secret, REDACTED)
        record.msg, record.args = message, ()
    except Exception:  # a log filter must never break the request it describes
        pass
    return True


logging.getLogger("urllib3.connectionpool").addFilter(_redact_urllib3)
