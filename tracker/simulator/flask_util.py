"""What every endpoint of the fake eSMS needs: its FakeEsms, the JSON body, the credential check."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from tracker.simulator.fake_esms import FakeEsms
from tracker.simulator.message import Message
from tracker.simulator.plan import Step
from tracker.simulator.validate import auth_ok

# eSMS's SmsType for the Zalo status and template APIs: "24" Zalo priority, "25" Zalo normal
# (QueryZnsStatus: "only these two"; GetTemplate likewise). Which one a journey (TypeId 27)
# takes is not documented; both reach every Zalo message here.
ZALO_SMS_TYPES = frozenset({"24", "25"})


def fake_esms() -> FakeEsms:
    return current_app.extensions["simulator"]  # type: ignore[no-any-return]


def body() -> dict[str, Any]:
    # eSMS reads the body as JSON whatever the Content-Type says.
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else {}


def authorized(data: Any) -> bool:
    """ApiKey/SecretKey of a JSON body or query string; 101 otherwise (bang-ma-loi.md)."""
    return auth_ok(fake_esms().settings, data.get("ApiKey"), data.get("SecretKey"))


def field(data: Any, name: str) -> str:
    value = data.get(name)
    return "" if value is None or isinstance(value, (dict, list, bool)) else str(value).strip()


def reached(smsid: str) -> tuple[Message, Step] | None:
    """The message and its current status, or None when eSMS cannot report it yet (just sent)."""
    message = fake_esms().find(smsid)
    step = message.current_step() if message else None
    return (message, step) if message and step else None
