"""eSMS wire formats: SendStatus values, phones, ids, error messages, error_info encodings, query strings.

Sources (eSMS's developer documentation, repository devesms/gitbook_esms_for_develop_v2):
esms-api/callback-url.md (SendStatus, TypeId, telcoid, the sample callbacks and their
error_info encodings), esms-api/bang-ma-loi.md (CodeResult table) and the Zalo error
table that esms-api/ham-truy-xuat-va-dang-ky/ham-lay-thong-tin-trang-thai-zns-1.md links
(ErrorInfo: 0 delivered, 1001 not online in time, other values Zalo's codes).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

# eSMS's REST base path (every page under esms-api/ham-...: rest.esms.vn/MainService.svc/json/...).
BASE = "/MainService.svc/json"
# eSMS stamps error_info in Vietnam time.
VN_TZ = timezone(timedelta(hours=7))

# SendStatus values of esms-api/callback-url.md. The simulator's own constants: it follows
# eSMS's documents, not the tracker's code.
SEND_STATUS_PENDING_APPROVAL = 1
SEND_STATUS_WAITING = 2
SEND_STATUS_REJECTED = 4
SEND_STATUS_FINISHED = 5
SEND_STATUS_AT_OPERATOR = 7
FINAL_SEND_STATUSES = frozenset({SEND_STATUS_REJECTED, SEND_STATUS_FINISHED})

# ErrorMessage per CodeResult (esms-api/bang-ma-loi.md), worded like eSMS's answers;
# only codes that table documents.
ERROR_MESSAGES: dict[str, str] = {
    "99": "Phone number is blocked",
    "101": "Authorize Failed",
    "102": "No price list for this account",
    "103": "Balance not enough to send message",
    "105": "SMSID not found",
    "108": "Phone number is invalid",
    "118": "Message type is not supported",
    "124": "RequestId is duplicated within 24 hours",
    "140": "Your IP is not in the whitelist",
    "143": "Account is inactive or locked",
    "160": "TPS limit exceeded",
    "204": "OAID does not exist",
    "789": "TemplateId is not config",
    "790": "Wrong ZNS template",
    "791": "OAID or TempID is missing",
    "799": "OAID is inactive, wrong, or not added to the account",
    "801": "Over-quota mode does not allow scheduled sends",
    "802": "OA is not allowed to send in over-quota mode",
    "851": "MessageId or SMSID is missing",
    "854": "No data found",
}

# Zalo results carried in error_info (error 0 = delivered). A Zalo refusal reaches the
# receiver as SendStatus 5 with SendFailed=1, like the -114 sample of callback-url.md.
USER_INACTIVE = "User is inactive, or reject the message, or using an outdated Zalo version, or other internal errors"
# 1001: eSMS's own ErrorInfo value (ham-lay-thong-tin-trang-thai-zns-1.md): the user was not
# online within the template's timeout (GetZnsTemplateInfo's Timeout).
NOT_ONLINE = 1001
# Zalo's journey-token codes (Zalo's ZNS error table): eSMS obtains the token per journey.
JOURNEY_TOKEN_NOT_FOUND = -148
JOURNEY_TOKEN_INVALID = -149
JOURNEY_TOKEN_TYPE_MISMATCH = -1491
JOURNEY_TOKEN_EXPIRED = -150
DAILY_QUOTA_EXCEEDED = -144
# The natural mix of failures; repeats weigh a reason.
FAILED_REASONS: tuple[tuple[int, str], ...] = (
    (-114, USER_INACTIVE),
    (-114, USER_INACTIVE),
    (-114, USER_INACTIVE),
    (-118, "Zalo account does not exist or has been disabled"),
    (-119, "Account can not receive ZNS message"),
    (-124, "Access token is invalid"),
    (-112, "Template data is invalid"),
    (-133, "Sending ZNS outside of the allowed time is not permitted"),
    (-139, "User refused to receive this type of ZNS message"),
    (NOT_ONLINE, "User was not online to receive the message within the template's timeout"),
)
# SendStatus 4 (eSMS refused the message) only when asked for: no eSMS sample shows one.
REJECTED_REASONS: tuple[tuple[int, str], ...] = (
    (-112, "Template data is invalid"),
    (-133, "Sending ZNS outside of the allowed time is not permitted"),
    (-139, "User refused to receive this type of ZNS message"),
)
REASON_TEXT: dict[int, str] = {
    **{code: text for code, text in FAILED_REASONS + REJECTED_REASONS},
    DAILY_QUOTA_EXCEEDED: "OA has exceeded its daily ZNS quota",
    JOURNEY_TOKEN_NOT_FOUND: "ZNS journey token not found",
    JOURNEY_TOKEN_INVALID: "ZNS journey token is invalid",
    JOURNEY_TOKEN_TYPE_MISMATCH: "ZNS journey token type does not match the template",
    JOURNEY_TOKEN_EXPIRED: "ZNS journey token has expired",
}

# The four encodings of REFERENCE section 2, in rotation order.
ERROR_INFO_FORMS: tuple[str, ...] = ("quoted", "double_encoded", "plain", "trailing_text")
TRAILING_TEXT = "Object reference not set to an instance of an object."

# What JavaScript's encodeURI leaves alone: the inner layer of the double-encoded
# sample keeps ':' ',' '/' literal while escaping '{' '"' and spaces.
_ENCODE_URI_SAFE = ";,/?:@&=+$#!*'()"

# Mobile prefixes -> eSMS telcoid (1 Viettel, 2 Mobifone, 3 Vinaphone,
# 4 Vietnamobile, 5 Gtel, 6 Itel, 7 Reddi).
_TELCO_PREFIXES: dict[str, int] = {
    **{p: 1 for p in ("086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039")},
    **{p: 2 for p in ("089", "090", "093", "070", "076", "077", "078", "079")},
    **{p: 3 for p in ("088", "091", "094", "081", "082", "083", "084", "085")},
    **{p: 4 for p in ("092", "056", "058")},
    **{p: 5 for p in ("099", "059")},
    **{p: 6 for p in ("087",)},
    **{p: 7 for p in ("055",)},
}
_PHONE_JUNK = re.compile(r"[\s.\-()]")


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z, like the tracker's times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(datetime.now(UTC))


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def dotnet_date(moment: datetime) -> str:
    """``/Date(1705484048995+0700)/``, GetSmsSentData_V2's SentTime."""
    return f"/Date({epoch_ms(moment)}+0700)/"


def parse_vn_time(value: object) -> datetime | None:
    """``yyyy-MM-dd HH:mm:ss`` in Vietnam time (GetSmsSentData_V2's From/To), else None."""
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=VN_TZ)
    except ValueError:
        return None


def normalize_phone(raw: str) -> str | None:
    """``0xxxxxxxxx`` for a Vietnamese mobile number (also given as 84/+84...), else None."""
    digits = _PHONE_JUNK.sub("", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    if re.fullmatch(r"84\d{9}", digits):
        digits = "0" + digits[2:]
    return digits if re.fullmatch(r"0\d{9}", digits) else None


def telco_of(local_phone: str) -> int:
    return _TELCO_PREFIXES.get(local_phone[:3], 1)


def new_smsid(rng: random.Random) -> str:
    """32 hex digits and 3 decimal digits, like eSMS's ``d8e0...d111250``."""
    hex_part = uuid.UUID(int=rng.getrandbits(128), version=4).hex
    return f"{hex_part}{rng.randrange(100, 1000)}"


def new_partner_id(rng: random.Random) -> str:
    """A Zalo message id: 20 hex digits, like ``e1a60e8890be9de4c4ab``."""
    return f"{rng.getrandbits(80):020x}"


def new_zalo_user_id(rng: random.Random) -> str:
    return str(rng.randrange(10**16, 10**17))


def error_message(code: str) -> str:
    return ERROR_MESSAGES.get(code, "Unknown error")


def error_info_payload(zalo_code: int, form: str, partner_id: str, user_id: str) -> str:
    """Zalo's result as compact JSON, shaped like the sample of that encoding."""
    if zalo_code != 0:
        body: dict[str, object] = {"error": zalo_code, "message": REASON_TEXT.get(zalo_code, "Unknown error")}
    elif form == "double_encoded":
        body = {"data": {"message_id": partner_id, "user_id": user_id}, "error": 0, "message": "Success"}
    elif form == "plain":
        body = {
            "error": 0,
            "message": "Success",
            "data": {"delivery_time": None, "message": "The message was delivered to the user's phone", "status": 1},
        }
    else:
        body = {"error": 0, "message": "Success", "data": {"msg_id": partner_id}}
    return json.dumps(body, separators=(",", ":"))


def encode_error_info(payload: str, form: str, at: datetime) -> tuple[str, str]:
    """(value the receiver sees after decoding the query once, the value as put on the wire)."""
    if form == "quoted":
        value = json.dumps(payload)
        return value, quote(value, safe="{}")
    if form == "double_encoded":
        stamp = at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S")
        value = quote(f"{payload}____{stamp}", safe=_ENCODE_URI_SAFE)
        return value, quote(value, safe="")
    if form == "plain":
        return payload, quote(payload, safe="{}")
    value = payload + TRAILING_TEXT
    return value, quote(value, safe="{}")


def callback_query(pairs: list[tuple[str, str]], raw: dict[str, str] | None = None) -> str:
    """Query string in the parameter order of callback-url.md's samples (SMSID, SendFailed,
    SendStatus, SendSuccess, TotalPrice, ...); values in ``raw`` are already wire-encoded."""
    raw = raw or {}
    parts = []
    for name, value in pairs:
        encoded = raw[name] if name in raw else quote(value, safe="")
        parts.append(f"{name}={encoded}")
    return "&".join(parts)
