"""Per-message callback tokens: the message id plus an HMAC that cannot be forged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

# 22 base64url characters keep 132 bits of the HMAC: plenty against guessing,
# short enough for eSMS's CallbackUrl field.
_SIG_CHARS = 22
# ASCII digits only: str.isdigit() also accepts '²' or '١', which int() refuses or misreads.
_TOKEN = re.compile(r"([0-9]{1,18})\.([A-Za-z0-9_-]{%d})" % _SIG_CHARS, re.ASCII)


def _sign(secret: str, message_id: int) -> str:
    mac = hmac.new(secret.encode(), b"esms-callback:%d" % message_id, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:_SIG_CHARS]


def make(secret: str, message_id: int) -> str:
    return f"{message_id}.{_sign(secret, message_id)}"


def verify(token: str, secrets: tuple[str, ...] | list[str]) -> int | None:
    """The message id a token names, or None when it was not made with any of ``secrets``."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    message_id, sig = int(match.group(1)), match.group(2)
    ok = False
    for secret in secrets:
        # Check every secret so timing does not tell which one matched.
        ok |= hmac.compare_digest(sig, _sign(secret, message_id))
    return message_id if ok else None


def callback_url(public_url: str, secret: str, message_id: int) -> str:
    """The message's own CallbackUrl: everything in the path, never a query string."""
    return f"{public_url.rstrip('/')}/webhooks/esms/{make(secret, message_id)}"
