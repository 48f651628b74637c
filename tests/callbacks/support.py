"""Helpers of the callback tests: a parsed report, as eSMS's query string gives it."""

from __future__ import annotations

from tracker.esms.callback import Callback, parse_callback


def report(
    smsid: str | None = "S1", send_status: int | str = 5, success: int = 0, failed: int = 0, **extra: str
) -> Callback:
    params = {"SendStatus": str(send_status), "SendSuccess": str(success), "SendFailed": str(failed), **extra}
    if smsid is not None:
        params["SMSID"] = smsid
    return parse_callback(params)


DELIVERED = dict(send_status=5, success=1)
FAILED = dict(send_status=5, failed=1)
