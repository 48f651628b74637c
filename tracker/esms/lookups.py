"""eSMS calls beyond the client's core: which SmsType a message is asked about with, whether a
status answer is final (FinalStatus), GetZaloMessageStatus, and GetSmsSentData_V2.

Documents (devesms/gitbook_esms_for_develop_v2, esms-api/ham-truy-xuat-va-dang-ky/):
ham-lay-thong-tin-trang-thai-zns-1.md (QueryZnsStatus: SmsType 24 or 25 only, FinalStatus),
ham-lay-thong-tin-trang-thai-zns.md (GetZaloMessageStatus: OAID + MessageId, 30 requests/s),
ham-kiem-tra-trang-thai-tin-nhan-theo-khoang-thoi-gian.md (GetSmsSentData_V2).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tracker.esms.callback import Callback
from tracker.esms.client import EsmsClient
from tracker.esms.statuses import SEND_STATUS_AT_OPERATOR, SEND_STATUS_FINISHED
from tracker.esms.values import int_of, json_get, parse_int, text_of

# QueryZnsStatus takes only 24 (Zalo priority) or 25 (Zalo normal). Which one a journey
# message (TypeId 27) takes is undocumented; the page's own sample uses 25, so 25 it is
# (README: "Choices where the spec is silent"). A wrong guess costs one GetSendStatus.
QUERY_SMS_TYPES = frozenset({"24", "25"})
JOURNEY_SMS_TYPE = "25"
ZALO_STATUS_RATE = 30  # GetZaloMessageStatus, requests per second
SENT_DATA_PAGE_SIZE = 500  # GetSmsSentData_V2's most per page
VN_TZ = timezone(timedelta(hours=7))  # GetSmsSentData_V2's From/To and SentTime are Vietnam time
_DOTNET_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def query_sms_type(sms_type: str | None) -> str:
    """The SmsType to ask QueryZnsStatus with, for a message of eSMS type ``sms_type`` (a TypeId)."""
    return sms_type if sms_type in QUERY_SMS_TYPES else JOURNEY_SMS_TYPE


def settle(cb: Callback, final: bool | None) -> Callback:
    """``cb`` with its finality as QueryZnsStatus's FinalStatus says, where it says.

    FinalStatus 0: whatever the counters show, eSMS has no last word yet, so the
    message is at most ``sent``. FinalStatus 1 on a SendStatus 5 with neither counter
    set: ErrorInfo decides (0 delivered, anything else, 1001 included, failed).
    """
    status = cb.status
    if final is None or status is None:
        return cb
    if final is False and status in ("delivered", "failed", "rejected"):
        return dataclasses.replace(cb, send_status=SEND_STATUS_AT_OPERATOR)
    if final and cb.send_status == SEND_STATUS_FINISHED and status == "sent" and cb.zalo_error is not None:
        if cb.zalo_error == 0:
            return dataclasses.replace(cb, send_success=1)
        return dataclasses.replace(cb, send_failed=1)
    return cb


@dataclass
class ZaloStatus:
    """GetZaloMessageStatus's answer: ``status`` 1 on the phone (at ``delivered_at``),
    0 on Zalo's server only, -1 no such message; ``ok`` False with ``code`` when none came."""

    ok: bool
    code: str | None
    status: int | None = None
    delivered_at: datetime | None = None
    message: str | None = None
    transport: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def _epoch_ms(value: Any) -> datetime | None:
    # Not int_of: milliseconds since 1970 are past the 10**12 it takes for a count or a price.
    digits = text_of(value) or ""
    ms = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 15 else 0
    if ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def get_zalo_message_status(client: EsmsClient, oa_id: str, message_id: str) -> ZaloStatus:
    """GetZaloMessageStatus for one Zalo message (the callback's partnerids) of OA ``oa_id``."""
    reply = client.post_json("GetZaloMessageStatus", {"OAID": oa_id, "MessageId": message_id})
    raw = client.scrub(reply.data) if isinstance(reply.data, dict) else {}
    code = None if reply.failure else text_of(json_get(reply.data, "CodeResult"))
    if code is None:
        return ZaloStatus(ok=False, code=reply.no_code(), transport=True, raw=raw)
    data = json_get(reply.data, "Data")
    status = parse_int(json_get(data, "status"), allow_negative=True)[0]  # -1: no such message
    if code != "100" or status is None:
        return ZaloStatus(ok=False, code=code, raw=raw)
    return ZaloStatus(
        ok=True,
        code=code,
        status=status,
        raw=raw,
        delivered_at=_epoch_ms(json_get(data, "delivery_time")) if status == 1 else None,
        message=text_of(json_get(data, "message")),
    )


@dataclass(frozen=True)
class SentRecord:
    """One send as GetSmsSentData_V2 lists it."""

    smsid: str
    phone: str | None
    campaign: str | None
    sent_at: datetime | None
    send_status: int | None
    sms_type: str | None


@dataclass
class SentPage:
    """One page of GetSmsSentData_V2: ``total`` sends in the window, ``records`` on this page."""

    ok: bool
    code: str | None
    total: int = 0
    records: list[SentRecord] = field(default_factory=list)
    transport: bool = False


def _dotnet_date(value: Any) -> datetime | None:
    found = _DOTNET_DATE.fullmatch(text_of(value) or "")
    return _epoch_ms(found.group(1)) if found else None


def _vn(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M:%S")


def get_sms_sent_data(
    client: EsmsClient,
    sms_type: str,
    start: datetime,
    end: datetime,
    page: int = 1,
    page_size: int = SENT_DATA_PAGE_SIZE,
) -> SentPage:
    """GetSmsSentData_V2: sends of type ``sms_type`` created between ``start`` and ``end``.

    105 ("no data") is an empty window, not an error.
    """
    reply = client.post_json(
        "GetSmsSentData_V2",
        {"SmsType": sms_type, "From": _vn(start), "To": _vn(end), "Page": page, "PageSize": page_size},
    )
    code = None if reply.failure else text_of(json_get(reply.data, "CodeResult"))
    if code is None:
        return SentPage(ok=False, code=reply.no_code(), transport=True)
    if code == "105":
        return SentPage(ok=True, code=code)
    if code != "100":
        return SentPage(ok=False, code=code)
    rows = json_get(reply.data, "SentData")
    records = []
    for row in rows if isinstance(rows, list) else []:
        smsid = text_of(json_get(row, "ReferenceId"))
        if smsid:
            records.append(
                SentRecord(
                    smsid=smsid,
                    phone=text_of(json_get(row, "Phone")),
                    campaign=text_of(json_get(row, "Campaign")),
                    sent_at=_dotnet_date(json_get(row, "SentTime")),
                    send_status=int_of(json_get(row, "SendStatus")),
                    sms_type=text_of(json_get(row, "SmsType")),
                )
            )
    return SentPage(
        ok=True, code=code, total=int_of(json_get(reply.data, "CountTotal")) or len(records), records=records
    )
