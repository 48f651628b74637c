"""Bearer tokens: the one check that guards /api/* and /metrics (TRACKER_API_TOKENS)."""

from __future__ import annotations

import hmac

from flask import request

from tracker.config import Settings
from tracker.errors import JsonError

# What a refused caller meets, on /api/* and /metrics alike.
UNAUTHORIZED = ("unauthorized", "a valid 'Authorization: Bearer <token>' header is required")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tracker"'}


def token_ok(settings: Settings) -> bool:
    """Does the request's ``Authorization: Bearer`` header carry one of the configured tokens?"""
    return bearer_ok(settings, request.headers.get("Authorization", ""))


def bearer_ok(settings: Settings, header: str) -> bool:
    """Does this ``Authorization`` header value carry one of the configured tokens?

    Every token is compared, in constant time, so neither a match's position nor a near miss
    shows in the answer's timing.
    """
    scheme, _, given = header.partition(" ")
    ok = False
    if scheme.lower() == "bearer" and given:
        for token in settings.api_tokens:
            ok |= hmac.compare_digest(given.strip().encode(), token.encode())
    return ok


def require_token(settings: Settings) -> None:
    """Raise a 401 (with its ``WWW-Authenticate`` challenge) unless the API is open or the token is good."""
    if settings.api_open or token_ok(settings):
        return
    raise JsonError(401, *UNAUTHORIZED, headers=CHALLENGE)
