"""eSMS's checks on a SendZaloMessage_V4_post_json request, in the order the simulator applies them.

Fields: esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md. Codes and their reasons:
esms-api/bang-ma-loi.md (101 wrong ApiKey/SecretKey, 108 phone format, 789 template not
configured for the OA, 790 wrong ZNS template, 791 OAID or TempID missing, 799 OAID not
added to the account). Nothing else is answered: the documents give no code for a bad
OrderId or an over-long RequestId, so neither is refused here (see ``validate_send``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.simulator import catalogue, wire
from tracker.simulator.catalogue import Template
from tracker.simulator.settings import SimSettings

# "Độ dài tối đa 50 ký tự" (tin-zalo-hanh-trinh.md), with no code for going over it.
MAX_REQUEST_ID = 50


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
    template: Template


@dataclass(frozen=True)
class Verdict:
    code: str
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


def oa_added(settings: SimSettings, oa_id: str) -> bool:
    return settings.oa_ids is None or oa_id in settings.oa_ids


def validate_send(payload: dict[str, Any], settings: SimSettings) -> Verdict:
    """The CodeResult eSMS would answer (``100`` carries the parsed request).

    A journey without OrderId is accepted: eSMS documents no code for it, and Zalo then
    finds no journey token (-148, planned by FakeEsms). A RequestId over 50 characters is
    accepted too, keeping its first 50 (what a column of that width stores), since
    bang-ma-loi.md has no code for it."""
    if not auth_ok(settings, payload.get("ApiKey"), payload.get("SecretKey")):
        return Verdict("101")
    phone = text(payload.get("Phone"))
    forced = settings.forced_codes.get(phone)
    if forced and forced != "100":
        return Verdict(forced)
    oa_id, template_id = text(payload.get("OAID")), text(payload.get("TempID"))
    if not oa_id or not template_id:
        return Verdict("791")
    if not oa_added(settings, oa_id):
        return Verdict("799")
    local_phone = wire.normalize_phone(phone)
    if local_phone is None:
        return Verdict("108")
    template = catalogue.find(settings, template_id)
    if template is None:
        return Verdict("789")
    params = payload.get("Params")
    if not isinstance(params, list) or not catalogue.params_fit(template, params):
        return Verdict("790")
    request_id = text(payload.get("RequestId"))[:MAX_REQUEST_ID]
    return Verdict(
        "100",
        request=SendRequest(
            api_key=str(payload["ApiKey"]),
            phone=phone,
            local_phone=local_phone,
            params=list(params),
            is_journey=truthy(payload.get("IsJourney")),
            order_id=text(payload.get("OrderId")),
            template_id=template_id,
            oa_id=oa_id,
            request_id=request_id,
            campaign_id=text(payload.get("campaignid")),
            callback_url=text(payload.get("CallbackUrl")),
            sandbox=truthy(payload.get("Sandbox")),
            template=template,
        ),
    )
