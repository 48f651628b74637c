"""Helpers of the callback tests: a parsed report, a message's callback URL and status."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.support import SECRET
from tracker import tokens
from tracker.esms.callback import Callback, parse_callback
from tracker.models import Message


def report(
    smsid: str | None = "S1", send_status: int | str = 5, success: int = 0, failed: int = 0, **extra: str
) -> Callback:
    params = {"SendStatus": str(send_status), "SendSuccess": str(success), "SendFailed": str(failed), **extra}
    if smsid is not None:
        params["SMSID"] = smsid
    return parse_callback(params)


DELIVERED = dict(send_status=5, success=1)
FAILED = dict(send_status=5, failed=1)


# Nothing listens on port 1: every connection is refused, like a database that is down.
DOWN_URL = "postgresql+psycopg://postgres@127.0.0.1:1/tracker"


def webhook_url(mid: int) -> str:
    """The CallbackUrl path the tracker gives message ``mid``."""
    return f"/webhooks/esms/{tokens.make(SECRET, mid)}"


def status(engine, mid: int) -> str:
    with Session(engine) as s:
        return s.get(Message, mid).status
