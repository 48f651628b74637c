"""eSMS's status APIs: GetSendStatus, QueryZnsStatus, GetZaloMessageStatus, GetCallback, GetSmsSentData_V2.

Each answers in the shape, with the codes, of its page under
esms-api/ham-truy-xuat-va-dang-ky/ (cited per endpoint). A message is not queryable the
instant it is sent ("mới gửi tin sẽ không call api lấy trạng thái ngay được", bang-ma-loi.md
105); sandbox sends are not stored, so never found.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Blueprint, request

from tracker.simulator import wire
from tracker.simulator.catalogue import render
from tracker.simulator.flask_util import ZALO_SMS_TYPES, authorized, body, fake_esms, field, reached
from tracker.simulator.message import Message
from tracker.simulator.plan import Step

MAX_LIST_REFID = 200
MAX_PAGE_SIZE = 500
# GetSmsSentData_V2's SmsType values; the simulator holds only Zalo messages (24, 25).
SENT_DATA_SMS_TYPES = frozenset({"1", "2", "8", "23"}) | ZALO_SMS_TYPES

status_api = Blueprint("esms_status", __name__)


def _error(key: str, code: str, **extra: Any) -> dict[str, Any]:
    return {key: code, **extra, "ErrorMessage": wire.error_message(code)}


@status_api.get(f"{wire.BASE}/GetSendStatus", strict_slashes=False)
def get_send_status() -> Any:
    """ham-kiem-tra-tin-nhan-theo-smsid.md: GET with RefId; 101 echoes the SMSID; 105 when
    eSMS has nothing (yet) for it."""
    args = request.args
    ref = field(args, "RefId")
    if not authorized(args):
        return {"CodeResponse": "101", "SMSID": ref}
    found = reached(ref) if ref else None
    if found is None:
        return _error("CodeResponse", "105", SMSID=ref)
    message, step = found
    return {
        "CodeResponse": "100",
        "SMSID": message.smsid,
        "SendFailed": step.send_failed,
        "SendStatus": step.send_status,
        "SendSuccess": step.send_success,
        "TotalPrice": step.total_price,
        "TotalReceiver": 1,
        "TotalSent": step.total_sent,
    }


@status_api.route(f"{wire.BASE}/QueryZnsStatus/", methods=["POST"], strict_slashes=False)
def query_zns_status() -> Any:
    """ham-lay-thong-tin-trang-thai-zns-1.md: 100 requests/s (160 above, the TPS code of
    bang-ma-loi.md), SmsType 24 or 25 only (118 "message type not supported" otherwise),
    851 without SmsId, 854 "no data found" (the table's code for this API)."""
    fake, data = fake_esms(), body()
    if not authorized(data):
        return _error("CodeResult", "101")
    if fake.settings.tps_limits and not fake.query_limiter.allow():
        return _error("CodeResult", "160")
    if field(data, "SmsType") not in ZALO_SMS_TYPES:
        return _error("CodeResult", "118")
    smsid = field(data, "SmsId")
    if not smsid:
        return _error("CodeResult", "851")
    found = reached(smsid)
    if found is None:
        return _error("CodeResult", "854")
    message, step = found
    assert message.plan is not None  # reached() only returns planned (non-sandbox) messages
    code = message.plan.zalo_code
    return {
        "CodeResult": "100",
        "Data": {
            # "0" delivered, "1001" not online in time, Zalo's code, null while not sent.
            "ErrorInfo": str(code) if step.final and (code or message.plan.outcome == "delivered") else None,
            "FinalStatus": "1" if step.final else "0",
            "SMSID": message.smsid,
            "SendFailed": step.send_failed,
            "SendStatus": step.send_status,
            "SendSuccess": step.send_success,
            "TotalPrice": step.total_price,
            "TotalReceiver": 1,
            "TotalSent": step.total_sent,
            "ZaloMsgId": step.partner_id or None,
        },
    }


def _zalo_status(message: Message | None, step: Step | None) -> dict[str, Any]:
    if message is None or step is None or not step.partner_id or message.plan is None:
        return {"delivery_time": None, "message": "The message does not exist", "status": -1}
    if step.final and message.plan.outcome == "delivered":
        assert message.created is not None
        delivered = message.created + timedelta(seconds=step.offset)
        return {
            "delivery_time": str(wire.epoch_ms(delivered)),
            "message": "The message was delivered to the user's phone",
            "status": 1,
        }
    return {
        "delivery_time": None,
        "message": "The message was sent to Zalo's server but not yet delivered to the user's phone",
        "status": 0,
    }


@status_api.route(f"{wire.BASE}/GetZaloMessageStatus", methods=["POST"], strict_slashes=False)
def get_zalo_message_status() -> Any:
    """ham-lay-thong-tin-trang-thai-zns.md: by OAID and MessageId (the callback's partnerids),
    30 requests/s (160 above), 851 without MessageId; ``Data.status`` 1 on the user's phone,
    0 on Zalo's server only (a message waiting for its user, or one that ended 1001), -1 no
    such message."""
    fake, data = fake_esms(), body()
    if not authorized(data):
        return _error("CodeResult", "101")
    if fake.settings.tps_limits and not fake.zalo_status_limiter.allow():
        return _error("CodeResult", "160")
    message_id = field(data, "MessageId")
    if not message_id:
        return _error("CodeResult", "851")
    message = fake.by_partner(message_id)
    if message is not None and message.request.oa_id != field(data, "OAID"):
        message = None
    step = message.current_step() if message else None
    return {"CodeResult": "100", "Data": _zalo_status(message, step), "ErrorMessage": "success. "}


def _callback_step(message: Message) -> Step | None:
    """The latest status eSMS has called back (or would have: a lost callback's data is kept)."""
    plan = message.plan
    if plan is None:
        return None
    elapsed = time.monotonic() - message.created_mono
    called = [s for i, s in enumerate(plan.steps) if s.offset <= elapsed and plan.called_back(i)]
    return called[-1] if called else None


@status_api.route("/ZaloCallback/GetCallback", methods=["POST"], strict_slashes=False)
def get_callback() -> Any:
    """ham-lay-thong-tin-callback-tin-nhan-zalo.md: only messages sent with a CallbackUrl, the
    data their callback carried; of more than 200 ListRefid only the first 200 are looked at;
    20 requests/s (160 above, the TPS code of bang-ma-loi.md)."""
    fake, data = fake_esms(), body()
    if not authorized(data):
        return {"Code": 101, "Message": wire.error_message("101"), "Data_callback": []}
    if fake.settings.tps_limits and not fake.callback_limiter.allow():
        return {"Code": 160, "Message": wire.error_message("160"), "Data_callback": []}
    refs = data.get("ListRefid")
    entries = []
    for ref in (refs if isinstance(refs, list) else [])[:MAX_LIST_REFID]:
        message = fake.find(str(ref))
        step = _callback_step(message) if message and message.request.callback_url else None
        if message is None or step is None:
            continue
        entries.append(
            {
                "SMSID": message.smsid,
                "SendFailed": step.send_failed,
                "SendSuccess": step.send_success,
                "SendStatus": step.send_status,
                "TotalPrice": step.total_price,
                "TotalReceiver": 1,
                "TotalSent": step.total_sent,
                "RequestId": step.request_id or None,
                "TypeId": message.type_id,
                "Telcoid": message.telco_id,
                "PhoneNumber": message.request.phone,
                "CallbackUrl": message.request.callback_url,
                "Partnerids": step.partner_id,
                # Exactly what the callback carried, in the same encoding.
                "ErrorInfo": step.error_info,
                "OAId": message.request.oa_id,
                "ZnsTempId": message.request.template_id,
            }
        )
    return {"Code": 100, "Message": "Success", "Data_callback": entries}


def _sent_entry(message: Message, step: Step) -> dict[str, Any]:
    assert message.created is not None and message.plan is not None
    result = 2 if not step.final else (1 if step.send_success else 0)
    return {
        "Campaign": message.request.campaign_id,
        "Content": render(message.request.template, message.request.params),
        "Phone": message.request.local_phone,
        "ReferenceId": message.smsid,
        "SellPrice": step.total_price,
        "SendResult": result,
        "SendStatus": step.send_status,
        "SentTime": wire.dotnet_date(message.created),
        "SmsId": message.sms_id,
        "SmsType": message.type_id,
    }


@status_api.route(f"{wire.BASE}/GetSmsSentData_V2", methods=["POST"], strict_slashes=False)
def get_sms_sent_data() -> Any:
    """ham-kiem-tra-trang-thai-tin-nhan-theo-khoang-thoi-gian.md: sends created between From and
    To (``yyyy-MM-dd HH:mm:ss``, Vietnam time), Page from 1, PageSize at most 500; each with
    ReferenceId (the SMSID: how an SMSID lost with its answer is found again), Campaign (the
    send's campaignid) and SendResult 1 sent / 0 failed / 2 not yet known. 118 for an SmsType
    the page does not list; 105 (listed for this API) when nothing matches."""
    fake, data = fake_esms(), body()
    if not authorized(data):
        return _error("CodeResult", "101")
    sms_type = field(data, "SmsType")
    if sms_type not in SENT_DATA_SMS_TYPES:
        return _error("CodeResult", "118")
    start, end = wire.parse_vn_time(data.get("From")), wire.parse_vn_time(data.get("To"))
    try:
        page = max(1, int(field(data, "Page") or 1))
        size = min(MAX_PAGE_SIZE, max(1, int(field(data, "PageSize") or MAX_PAGE_SIZE)))
    except ValueError:
        page, size = 1, MAX_PAGE_SIZE
    rows = []
    if start and end and sms_type in ZALO_SMS_TYPES:
        for message in fake.stored():
            step = message.current_step()
            if step and message.created and start <= message.created <= end:
                rows.append(_sent_entry(message, step))
    if not rows:
        return _error("CodeResult", "105")
    return {"CodeResult": "100", "CountTotal": len(rows), "SentData": rows[(page - 1) * size : page * size]}
