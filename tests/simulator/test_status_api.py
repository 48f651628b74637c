"""eSMS's status APIs (tracker/simulator/status_api.py), over real HTTP, in the shapes and with the codes
of eSMS's pages.

Documents (devesms/gitbook_esms_for_develop_v2, esms-api/ham-truy-xuat-va-dang-ky/):
ham-kiem-tra-tin-nhan-theo-smsid.md (GetSendStatus), ham-lay-thong-tin-trang-thai-zns-1.md
(QueryZnsStatus), ham-lay-thong-tin-trang-thai-zns.md (GetZaloMessageStatus),
ham-lay-thong-tin-callback-tin-nhan-zalo.md (GetCallback),
ham-kiem-tra-trang-thai-tin-nhan-theo-khoang-thoi-gian.md (GetSmsSentData_V2); codes from
esms-api/bang-ma-loi.md.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import requests

from tests.simulator.support import DEAD_CALLBACK, OAID, configure, post, quiet_settings, send
from tracker.simulator import start_in_thread
from tracker.simulator.server import RunningSimulator
from tracker.simulator.wire import VN_TZ


def get_send_status(sim: RunningSimulator, smsid: str, key: str = "key") -> dict[str, Any]:
    params = {"RefId": smsid, "ApiKey": key, "SecretKey": "secret"}
    answer: dict[str, Any] = requests.get(f"{sim.base_url}/GetSendStatus", params=params, timeout=5).json()
    return answer


def query_zns(sim: RunningSimulator, smsid: str, sms_type: str = "24") -> dict[str, Any]:
    return post(sim, "QueryZnsStatus/", SmsId=smsid, SmsType=sms_type)


def zalo_status(sim: RunningSimulator, message_id: str, oa_id: str = OAID) -> dict[str, Any]:
    return post(sim, "GetZaloMessageStatus", OAID=oa_id, MessageId=message_id)


def get_callback(sim: RunningSimulator, refs: list[str], key: str = "key") -> dict[str, Any]:
    payload = {"ApiKey": key, "SecretKey": "secret", "ListRefid": refs, "OAId": OAID}
    answer: dict[str, Any] = requests.post(f"{sim.status_url}/ZaloCallback/GetCallback", json=payload, timeout=5).json()
    return answer


def test_status_apis_reflect_a_delivered_message(sim: RunningSimulator) -> None:
    """GetSendStatus (CodeResponse, counters), QueryZnsStatus (Data.ErrorInfo "0", FinalStatus "1",
    ZaloMsgId), GetCallback (Data_callback with the callback's fields, TotalReceiver/TotalSent/
    RequestId included) and GetZaloMessageStatus by that Zalo id (status 1, delivery_time in ms)."""
    configure(sim, forced_outcomes={"0901888484": "delivered"})
    smsid = send(sim)["SMSID"]
    status = get_send_status(sim, smsid)
    assert status["CodeResponse"] == "100" and status["SMSID"] == smsid
    assert (status["SendStatus"], status["SendSuccess"], status["SendFailed"]) == (5, 1, 0)
    assert status["TotalPrice"] == 220.0 and status["TotalReceiver"] == 1 and status["TotalSent"] == 1
    data = query_zns(sim, smsid, "25")["Data"]
    assert (data["ErrorInfo"], data["FinalStatus"], data["SendStatus"]) == ("0", "1", 5)
    assert re.fullmatch(r"[0-9a-f]{20}", data["ZaloMsgId"])
    [entry] = get_callback(sim, [smsid, "f" * 35])["Data_callback"]
    assert list(entry) == [
        "SMSID", "SendFailed", "SendSuccess", "SendStatus", "TotalPrice", "TotalReceiver", "TotalSent",
        "RequestId", "TypeId", "Telcoid", "PhoneNumber", "CallbackUrl", "Partnerids", "ErrorInfo", "OAId",
        "ZnsTempId",
    ]  # fmt: skip
    assert entry["SMSID"] == smsid and entry["SendStatus"] == 5 and entry["SendSuccess"] == 1
    assert entry["TypeId"] == 27 and entry["Telcoid"] == 2 and entry["PhoneNumber"] == "0901888484"
    assert entry["CallbackUrl"] == DEAD_CALLBACK and entry["ZnsTempId"] == "2056446"
    assert entry["Partnerids"] == data["ZaloMsgId"] and entry["ErrorInfo"] and entry["RequestId"] in (None, "req-1")
    answer = zalo_status(sim, data["ZaloMsgId"])
    assert answer["CodeResult"] == "100" and answer["Data"]["status"] == 1
    assert answer["Data"]["delivery_time"].isdigit()
    assert zalo_status(sim, data["ZaloMsgId"], oa_id="other")["Data"]["status"] == -1


def test_status_apis_reflect_failed_and_rejected(sim: RunningSimulator) -> None:
    """A Zalo refusal: SendStatus 5, SendFailed 1, ErrorInfo Zalo's code, no Zalo message
    (GetZaloMessageStatus -1). SendStatus 4 (rejected, asked for) keeps its code as well."""
    configure(sim, forced_outcomes={"0901000001": "failed:-114", "0901000002": "rejected:-139"})
    failed = send(sim, Phone="0901000001", RequestId="a")["SMSID"]
    rejected = send(sim, Phone="0901000002", RequestId="b")["SMSID"]
    data = query_zns(sim, failed)["Data"]
    assert (data["ErrorInfo"], data["SendStatus"], data["SendFailed"], data["ZaloMsgId"]) == ("-114", 5, 1, None)
    status = get_send_status(sim, failed)
    assert (status["SendStatus"], status["SendSuccess"], status["SendFailed"], status["TotalPrice"]) == (5, 0, 1, 0.0)
    data = query_zns(sim, rejected)["Data"]
    assert (data["SendStatus"], data["ErrorInfo"], data["FinalStatus"]) == (4, "-139", "1")
    assert zalo_status(sim, "0" * 20)["Data"] == {"delivery_time": None, "message": "The message does not exist",
                                                  "status": -1}  # fmt: skip


def test_not_yet_queryable_then_intermediate() -> None:
    """bang-ma-loi.md 105: a just-sent message cannot be queried at once (854, "no data", for
    QueryZnsStatus); GetCallback has only what was called back: nothing before the final status,
    unless intermediate statuses are called back too."""
    for intermediate in (False, True):
        running = start_in_thread(quiet_settings(speed=100.0, intermediate_statuses=intermediate))
        try:
            configure(running, forced_outcomes={"0901888484": "delivered"})
            smsid = send(running)["SMSID"]
            assert get_send_status(running, smsid)["CodeResponse"] == "105"
            assert query_zns(running, smsid)["CodeResult"] == "854"
            assert get_callback(running, [smsid])["Data_callback"] == []
            pending = requests.get(f"{running.url}/_sim/idle", timeout=5).json()["pending_callbacks"]
            assert pending == (3 if intermediate else 1)
            # Move the message's clock to just after its "7" instead of waiting for it.
            message = running.fake.messages[smsid]
            assert message.plan is not None
            message.created_mono -= message.plan.steps[1].offset + 0.001
            data = query_zns(running, smsid)["Data"]
            assert (data["SendStatus"], data["FinalStatus"], data["ErrorInfo"]) == (7, "0", None)
            entries = get_callback(running, [smsid])["Data_callback"]
            assert [(e["SendStatus"], e["ErrorInfo"]) for e in entries] == ([(7, None)] if intermediate else [])
            assert zalo_status(running, data["ZaloMsgId"])["Data"]["status"] == 0
        finally:
            running.stop()


def test_status_api_errors(sim: RunningSimulator) -> None:
    """101 (GetSendStatus's tab echoes the SMSID), 105 unknown SMSID, QueryZnsStatus: 118 for an
    SmsType other than 24/25, 851 without SmsId, 854 unknown; GetZaloMessageStatus 851 without
    MessageId; GetCallback: 101, only the first 200 of ListRefid, an empty list answers nothing."""
    smsid = send(sim)["SMSID"]
    assert get_send_status(sim, smsid, key="") == {"CodeResponse": "101", "SMSID": smsid}
    assert get_send_status(sim, "0" * 35)["CodeResponse"] == "105"
    assert get_send_status(sim, "")["CodeResponse"] == "105"
    for sms_type in ("", "27", "2"):
        assert query_zns(sim, smsid, sms_type)["CodeResult"] == "118"
    assert query_zns(sim, "")["CodeResult"] == "851"
    assert query_zns(sim, "0" * 35)["CodeResult"] == "854"
    assert zalo_status(sim, "")["CodeResult"] == "851"
    assert get_callback(sim, [smsid], key="")["Code"] == 101
    assert len(get_callback(sim, ["x"] * 199 + [smsid])["Data_callback"]) == 1
    assert get_callback(sim, ["x"] * 200 + [smsid]) == {"Code": 100, "Message": "Success", "Data_callback": []}
    assert get_callback(sim, [])["Code"] == 100
    without_url = send(sim, RequestId="no-url", CallbackUrl=...)["SMSID"]
    assert get_callback(sim, [without_url])["Data_callback"] == []


def test_tps_limits(sim: RunningSimulator) -> None:
    """GetCallback 20 requests/s, GetZaloMessageStatus 30/s; above, 160 "TPS limit exceeded"."""
    codes = [get_callback(sim, ["x"])["Code"] for _ in range(25)]
    assert 160 in codes and codes[0] == 100
    answers = [zalo_status(sim, "x")["CodeResult"] for _ in range(35)]
    assert "160" in answers and answers[0] == "100"


def sent_data(sim: RunningSimulator, start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
    window = {"From": start.strftime("%Y-%m-%d %H:%M:%S"), "To": end.strftime("%Y-%m-%d %H:%M:%S")}
    return post(sim, "GetSmsSentData_V2", **{"SmsType": "24", "Page": 1, "PageSize": 500, **window, **extra})


def test_get_sms_sent_data_finds_sends_by_time(sim: RunningSimulator) -> None:
    """GetSmsSentData_V2: sends created between From and To (Vietnam time), with ReferenceId (the
    SMSID), Campaign (campaignid), SendResult, SentTime as /Date(ms+0700)/; paged by Page and
    PageSize; 105 when none; 118 for an SmsType the page does not list; sandbox sends not stored."""
    configure(sim, forced_outcomes={"0901000001": "failed:-114"})
    now = datetime.now(VN_TZ)
    ok = send(sim, RequestId="a", campaignid="tet")["SMSID"]
    failed = send(sim, RequestId="b", Phone="0901000001")["SMSID"]
    send(sim, RequestId="c", Sandbox="1")
    answer = sent_data(sim, now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert answer["CodeResult"] == "100" and answer["CountTotal"] == 2
    first, second = answer["SentData"]
    assert (first["ReferenceId"], first["Campaign"], first["SendResult"], first["SendStatus"]) == (ok, "tet", 1, 5)
    assert (second["ReferenceId"], second["SendResult"], second["Phone"]) == (failed, 0, "0901000001")
    assert re.fullmatch(r"/Date\(\d{13}\+0700\)/", first["SentTime"]) and second["SmsId"] == first["SmsId"] + 1
    assert first["Content"].startswith("Chào Lan, đơn ORD-1")
    paged = sent_data(sim, now - timedelta(minutes=1), now + timedelta(minutes=1), Page=2, PageSize=1)
    assert paged["CountTotal"] == 2 and [e["ReferenceId"] for e in paged["SentData"]] == [failed]
    assert sent_data(sim, now - timedelta(hours=2), now - timedelta(hours=1))["CodeResult"] == "105"
    assert sent_data(sim, now - timedelta(minutes=1), now + timedelta(minutes=1), SmsType="2")["CodeResult"] == "105"
    assert sent_data(sim, now, now, SmsType="27")["CodeResult"] == "118"
    assert sent_data(sim, now, now, ApiKey="")["CodeResult"] == "101"
