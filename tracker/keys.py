"""One key per purpose, derived from TRACKER_SECRET_KEY with HKDF-SHA256 (RFC 5869).

Callback tokens, dashboard sessions and phone-search tokens each get their own key, so a
key seen in one place (a session cookie's signature, say) says nothing about the others.
Forwarding is signed with TRACKER_FORWARD_SECRET, which is not derived from anything: the
receiver holds it, and must not be able to make callback URLs or sessions with it.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

# The "info" of each derivation; changing one rotates that key alone.
CALLBACK_TOKENS = b"tracker/callback-token/v1"
SESSIONS = b"tracker/dashboard-session/v1"
PHONE_SEARCH = b"tracker/phone-search/v1"
# A fixed, public salt (RFC 5869 allows it): TRACKER_SECRET_KEY is already uniformly random.
_SALT = b"journey-tracker"


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 extract-then-expand with SHA-256 (the standard library has no HKDF)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


@lru_cache(maxsize=64)
def derive(secret: str, info: bytes) -> bytes:
    """The 32-byte key of ``secret`` for the purpose named by ``info`` (cached: used on every request)."""
    return hkdf(secret.encode(), _SALT, info)
