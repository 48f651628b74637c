"""The eSMS account's balance and an OA's ZNS quota (issue 11, part 8), read for the overview.

Documents (devesms/gitbook_esms_for_develop_v2, esms-api/ham-truy-xuat-va-dang-ky/):

- ham-lay-so-du-tai-khoan.md: ``POST {base}/GetBalance_json`` with ApiKey and SecretKey;
  answers ``{"Balance": 36693, "CodeResponse": "100", "UserID": 9999}``, or on wrong keys
  ``{"Balance": 0, "CodeResponse": "101", "ErrorMessage": "Authorize Failed"}``. The page's
  table calls ``Balance`` a string and its sample shows a number: both are read. The page
  names no currency; the account is billed in đồng (VND), so the balance is taken as VND.
- lay-qouta-tin-zalo-theo-oaid.md: ``POST {base}/ZNS/GetQuota/`` with ApiKey, SecretKey and
  ``OAID``; answers ``CodeResult`` "100" with ``DailyQuota`` (ZNS the OA may send a day) and
  ``RemainingQuota`` (what is left of today), plus promotion quotas journeys do not use.

Beside the client (tracker/esms/client.py) rather than in it, as lookups.py is: the worker
asks these every few minutes, and any failure is an answer (``ok`` False with its code),
never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tracker.esms.client import EsmsClient
from tracker.esms.values import int_of, json_get, parse_decimal, text_of

BALANCE_PATH = "GetBalance_json"
QUOTA_PATH = "ZNS/GetQuota/"


@dataclass
class Balance:
    """GetBalance_json's answer: ``balance`` in VND when ``ok``; else ``code`` says why."""

    ok: bool
    code: str | None
    balance: Decimal | None = None
    transport: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Quota:
    """ZNS/GetQuota's answer for one OA: today's ``daily`` quota and what ``remaining`` of it."""

    ok: bool
    code: str | None
    oa_id: str
    daily: int | None = None
    remaining: int | None = None
    transport: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def _amount(value: Any) -> Decimal | None:
    """A balance given as a number or as a string of one ("36693", "36693.5"); None otherwise
    (a postpaid account's balance may be negative)."""
    if isinstance(value, bool):
        return None
    amount = parse_decimal(value, allow_negative=True)[0]
    return None if amount is None else amount.quantize(Decimal("0.01"))


def get_balance(client: EsmsClient) -> Balance:
    """The account's main balance (GetBalance_json)."""
    reply = client.post_json(BALANCE_PATH, {})
    raw = client.scrub(reply.data) if isinstance(reply.data, dict) else {}
    code = None if reply.failure else text_of(json_get(reply.data, "CodeResponse", "CodeResult"))
    if code is None:
        return Balance(ok=False, code=reply.no_code(), transport=True, raw=raw)
    amount = _amount(json_get(reply.data, "Balance"))
    if code != "100" or amount is None:
        return Balance(ok=False, code=code if code != "100" else "bad_response", raw=raw)
    return Balance(ok=True, code=code, balance=amount, raw=raw)


def get_quota(client: EsmsClient, oa_id: str) -> Quota:
    """Today's ZNS quota of OA ``oa_id`` (ZNS/GetQuota)."""
    reply = client.post_json(QUOTA_PATH, {"OAID": oa_id})
    raw = client.scrub(reply.data) if isinstance(reply.data, dict) else {}
    code = None if reply.failure else text_of(json_get(reply.data, "CodeResult", "CodeResponse"))
    if code is None:
        return Quota(ok=False, code=reply.no_code(), oa_id=oa_id, transport=True, raw=raw)
    daily = int_of(json_get(reply.data, "DailyQuota"))
    remaining = int_of(json_get(reply.data, "RemainingQuota"))
    if code != "100" or daily is None or remaining is None:
        return Quota(ok=False, code=code if code != "100" else "bad_response", oa_id=oa_id, raw=raw)
    return Quota(ok=True, code=code, oa_id=oa_id, daily=daily, remaining=remaining, raw=raw)
