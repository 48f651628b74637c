"""eSMS's checks on a SendZaloMessage_V4_post_json request, in the order the simulator applies them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.simulator import wire
from tracker.simulator.settings import SimSettings

MAX_REQUEST_ID = 50
# eSMS documents no code for an over-long RequestId; 125 sits next to 124 (duplicate RequestId).
CODE_REQUEST_ID_TOO_LONG = "125"


@dataclass(frozen=True)
class SendRequest:
    """A send that passed validation (duplicate RequestId is checked against state later)."""

    api_key: str
    phone: str  # as sent
    local_phone: str  # 0xxxxxxxxx
    params: list[str]
    is_journey: bool
    order_id: str
    template_id: str
    oa_id: str
    request_id: str
    campaign_id: str
    callback_url: str
    sandbox: bool


@dataclass(frozen=True)
class Verdict:
    code: str
    message: str | None = None
    request: SendRequest | None = None


def text(value: Any) -> str:
    """A JSON scalar as eSMS would read it: numbers become their digits, null becomes ""."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (int, float, str)):
        return str(value).strip()
    return ""


def truthy(value: Any) -> bool:
    """IsJourney is documented as a string and Sandbox as "0"/"1"; accept both spellings."""
    if isinstance(value, bool):
        return value
    return text(value).lower() in {"1", "true", "yes"}


def auth_ok(settings: SimSettings, api_key: Any, secret_key: Any) -> bool:
    if not isinstance(api_key, str) or not isinstance(secret_key, str) or not api_key or not secret_key:
        return False
    if settings.api_key is not None and api_key != settings.api_key:
        return False
    return settings.secret_key is None or secret_key == settings.secret_key


def template_configured(settings: SimSettings, template_id: str) -> bool:
    if settings.templates is None:
        return template_id.isdigit()
    return template_id in settings.templates


def validate_send(payload: dict[str, Any], settings: SimSettings) -> Verdict:
    """The CodeResult eSMS would answer (``100`` carries the parsed request)."""
    if not auth_ok(settings, payload.get("ApiKey"), payload.get("SecretKey")):
        return Verdict("101")
    phone = text(payload.get("Phone"))
    forced = settings.forced_codes.get(phone)
    if forced and forced != "100":
        return Verdict(forced)
    oa_id, template_id = text(payload.get("OAID")), text(payload.get("TempID"))
    if not oa_id or not template_id:
        return Verdict("791")
    is_journey = truthy(payload.get("IsJourney"))
    order_id = text(payload.get("OrderId"))
    if is_journey and not order_id:
        return Verdict("791", "OrderId is required when IsJourney is true")
    params = payload.get("Params")
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        return Verdict("118", "Params must be an array of strings")
    local_phone = wire.normalize_phone(phone)
    if local_phone is None:
        return Verdict("108")
    request_id = text(payload.get("RequestId"))
    if len(request_id) > MAX_REQUEST_ID:
        return Verdict(CODE_REQUEST_ID_TOO_LONG)
    if not template_configured(settings, template_id):
        return Verdict("789")
    return Verdict(
        "100",
        request=SendRequest(
            api_key=str(payload["ApiKey"]),
            phone=phone,
            local_phone=local_phone,
            params=list(params),
            is_journey=is_journey,
            order_id=order_id,
            template_id=template_id,
            oa_id=oa_id,
            request_id=request_id,
            campaign_id=text(payload.get("campaignid")),
            callback_url=text(payload.get("CallbackUrl")),
            sandbox=truthy(payload.get("Sandbox")),
        ),
    )
