"""GetTemplate: an OA's ZNS templates with their variables' limits, from eSMS.

Beside the client (tracker/esms/client.py) rather than in it: it is asked from the web
process on the queueing path, with its own short timeout, and a failure of any kind is an
answer too (None: nothing is checked), never an exception.
"""

from __future__ import annotations

import logging
import time

import requests

from tracker.esms.client import ClientSettings
from tracker.esms.templates import Template, parse_listing

log = logging.getLogger("tracker.esms")

# SmsType 24 (Zalo priority) or 25 (Zalo normal) are the two GetTemplate takes; which one a
# journey (TypeId 27) belongs to is not documented. The page's sample uses 24, and an OA's
# templates are the OA's whatever the type.
SMS_TYPE = "24"


def get_templates(
    settings: ClientSettings, oa_id: str, timeout: float, session: requests.Session | None = None
) -> dict[str, Template] | None:
    """The OA's templates by id, or None when eSMS cannot be reached or answers no listing."""
    body = {"ApiKey": settings.esms_api_key, "SecretKey": settings.esms_secret_key, "OAId": oa_id, "SmsType": SMS_TYPE}
    started = time.monotonic()
    outcome = "listing"
    try:
        response = (session or requests).post(f"{settings.esms_base_url}/GetTemplate/", json=body, timeout=timeout)
        listing = parse_listing(response.json()) if response.status_code == 200 else None
        if listing is None:
            outcome = f"no listing (HTTP {response.status_code})"
    except (requests.RequestException, ValueError, OSError) as exc:
        # Never the exception's text: it may hold the body's keys.
        listing, outcome = None, f"unreachable ({type(exc).__name__})"
    log.info("eSMS GetTemplate OA %s -> %s in %.0f ms", oa_id, outcome, (time.monotonic() - started) * 1000)
    return listing
