"""Per-message callback tokens: the message id plus an HMAC that cannot be forged.

The HMAC's key is derived from TRACKER_SECRET_KEY for this purpose alone (:mod:`tracker.keys`).
Tokens made before that (an HMAC keyed with the secret itself) are "legacy": only
:func:`verify_legacy` accepts them, and the webhook takes them only while their message is
not final (see ``tracker.web.security.callback_message_id``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from tracker import keys

# 22 base64url characters keep 132 bits of the HMAC: plenty against guessing,
# short enough for eSMS's CallbackUrl field.
_SIG_CHARS = 22
# ASCII digits only: str.isdigit() also accepts '²' or '١', which int() refuses or misreads.
_TOKEN = re.compile(r"([0-9]{1,18})\.([A-Za-z0-9_-]{%d})" % _SIG_CHARS, re.ASCII)


def _sign(key: bytes, message_id: int) -> str:
    mac = hmac.new(key, b"esms-callback:%d" % message_id, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:_SIG_CHARS]


def make(secret: str, message_id: int) -> str:
    """The token of ``message_id``, signed with the callback key derived from ``secret``."""
    return f"{message_id}.{_sign(keys.derive(secret, keys.CALLBACK_TOKENS), message_id)}"


def make_legacy(secret: str, message_id: int) -> str:
    """A token as made before per-purpose keys (HMAC keyed with the secret itself)."""
    return f"{message_id}.{_sign(secret.encode(), message_id)}"


def claimed_id(token: str) -> int | None:
    """The message id a well-formed token names, NOT verified (for narrowing a lookup only)."""
    match = _TOKEN.fullmatch(token)
    return int(match.group(1)) if match else None


def _verify(token: str, signing_keys: list[bytes]) -> int | None:
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    message_id, sig = int(match.group(1)), match.group(2)
    ok = False
    for key in signing_keys:
        # Check every key so timing does not tell which one matched.
        ok |= hmac.compare_digest(sig, _sign(key, message_id))
    return message_id if ok else None


def verify(token: str, secrets: tuple[str, ...] | list[str]) -> int | None:
    """The message id a token names, or None when it was not made with any of ``secrets``."""
    return _verify(token, [keys.derive(s, keys.CALLBACK_TOKENS) for s in secrets])


def verify_legacy(token: str, secrets: tuple[str, ...] | list[str]) -> int | None:
    """Like :func:`verify`, for tokens made before per-purpose keys."""
    return _verify(token, [s.encode() for s in secrets])


def callback_url(public_url: str, secret: str, message_id: int) -> str:
    """The message's own CallbackUrl: everything in the path, never a query string."""
    return f"{public_url.rstrip('/')}/webhooks/esms/{make(secret, message_id)}"
