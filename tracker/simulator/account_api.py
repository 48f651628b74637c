"""eSMS's account and template APIs: GetBalance_json, ZNS/GetQuota, GetTemplate, GetZnsTemplateInfo.

Paths, fields and codes of their pages under esms-api/ham-truy-xuat-va-dang-ky/ (cited per
endpoint); 101 is bang-ma-loi.md's wrong ApiKey/SecretKey.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request

from tracker.simulator import catalogue, wire
from tracker.simulator.flask_util import ZALO_SMS_TYPES, authorized, body, fake_esms, field
from tracker.simulator.validate import oa_added

USER_ID = 9999  # GetBalance_json's sample UserID

account_api = Blueprint("esms_account", __name__)


def _error(code: str) -> dict[str, Any]:
    return {"CodeResult": code, "ErrorMessage": wire.error_message(code)}


@account_api.route(f"{wire.BASE}/GetBalance_json", methods=["POST"], strict_slashes=False)
def get_balance() -> Any:
    """ham-lay-so-du-tai-khoan.md: ``Balance``, ``CodeResponse``, ``UserID``; on 101 a Balance of 0.
    The balance is the ``balance`` setting less what delivered messages cost (failed ones are
    not charged: their TotalPrice is 0); a send it cannot pay for gets 103."""
    fake = fake_esms()
    if not authorized(body()):
        return {"Balance": 0, "CodeResponse": "101", "ErrorMessage": wire.error_message("101")}
    with fake.lock:
        balance = fake.account.balance(fake.settings.balance)
    return {"Balance": int(round(balance)), "CodeResponse": "100", "UserID": USER_ID}


@account_api.route(f"{wire.BASE}/ZNS/GetQuota", methods=["POST"], strict_slashes=False)
def get_quota() -> Any:
    """lay-qouta-tin-zalo-theo-oaid.md: the OA's DailyQuota and RemainingQuota (this Vietnam day;
    past it Zalo refuses with -144), and the promotion quotas, which journeys do not use (0).
    791 without OAID, 799 for an OAID not added to the account (bang-ma-loi.md)."""
    fake, data = fake_esms(), body()
    if not authorized(data):
        return _error("101")
    oa_id = field(data, "OAID")
    if not oa_id:
        return _error("791")
    if not oa_added(fake.settings, oa_id):
        return _error("799")
    daily = fake.settings.daily_quota
    with fake.lock:
        used = fake.account.quota_used.get(fake.account.quota_key(oa_id, datetime.now(UTC)), 0)
    return {
        "CodeResult": "100",
        "ErrorMessage": "success",
        "DailyQuota": daily,
        "DailyQuotaPromotion": 0,
        "EstimatedNextMonthPromotionQuota": 0,
        "MonthlyPromotionQuota": 0,
        "RemainingMonthlyPromotionQuota": 0,
        "RemainingQuota": max(0, daily - used),
        "RemainingQuotaPromotion": 0,
    }


@account_api.route(f"{wire.BASE}/GetTemplate", methods=["POST"], strict_slashes=False)
def get_template() -> Any:
    """ham-lay-danh-sach-template-zalo.md: the OA's templates as ``ZNSTemplates[]`` of
    ``TempContent, TempId, TempName, ZNSTempDetail[{Limit, Param, ParamLevel, RequireType}]``;
    SmsType 24 or 25 (118 "message type not supported" otherwise). An OAID not added to the
    account has no templates."""
    fake, data = fake_esms(), body()
    if not authorized(data):
        return _error("101")
    if field(data, "SmsType") not in ZALO_SMS_TYPES:
        return _error("118")
    settings = fake.settings
    templates = catalogue.listed(settings) if oa_added(settings, field(data, "OAId")) else []
    return {
        "CodeResult": "100",
        "ErrorMessage": "success",
        "ZNSTemplates": [catalogue.get_template_entry(t) for t in templates],
    }


@account_api.get(f"{wire.BASE}/GetZnsTemplateInfo", strict_slashes=False)
def get_zns_template_info() -> Any:
    """ham-lay-thong-tin-chi-tiet-template-zalo.md: ``{"Data": {...}, "Error": 0, "Message":
    "Success"}``, with the template's ``Timeout`` in milliseconds: how long Zalo waits for the
    user before the message fails 1001. Errors carry a bang-ma-loi.md code in ``Error``: 101,
    or 789 for a template not configured for the OA."""
    fake, args = fake_esms(), request.args
    if not authorized(args):
        return {"Data": None, "Error": 101, "Message": wire.error_message("101")}
    oa_id = field(args, "OAId")
    template = catalogue.find(fake.settings, field(args, "TemplateId"))
    if template is None or not oa_added(fake.settings, oa_id):
        return {"Data": None, "Error": 789, "Message": wire.error_message("789")}
    info = catalogue.template_info(template, oa_id, fake.settings.template_timeout)
    return {"Data": info, "Error": 0, "Message": "Success"}
