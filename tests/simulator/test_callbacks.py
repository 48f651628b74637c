"""The callbacks (tracker/simulator/callbacks.py and the plans it delivers): one final callback, wire
encodings, retries of timeouts only, late/lost/duplicate ones.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/callback-url.md (GET with the
data in the query string, SendStatus table, the samples and their error_info encodings,
retried 5 times on a timeout), esms-api/ham-truy-xuat-va-dang-ky/ham-lay-thong-tin-trang-thai-zns-1.md
(ErrorInfo 1001), ham-lay-thong-tin-callback-tin-nhan-zalo.md (GetCallback keeps the data).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import requests

from tests.simulator.support import (
    PARAM_ORDER,
    Receiver,
    configure_ok,
    decode_error_info,
    send_with_callback,
    start,
    truth_of,
    wait_idle,
)
from tracker.simulator.callbacks import USER_AGENT, http_get
from tracker.simulator.server import RunningSimulator


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    running = start()
    yield running
    running.stop()


def test_one_final_callback_by_default(sim: RunningSimulator, receiver: Receiver) -> None:
    """callback-url.md: eSMS calls back (GET, data in the query string) when the message has its
    final status; the journey sample: SendStatus=5, SendSuccess=1, TypeId=27, a partnerids and
    error_info with Zalo's error 0."""
    configure_ok(sim, forced_outcomes={"0901888484": "delivered"})
    smsid = send_with_callback(sim, receiver.url)["SMSID"]
    wait_idle(sim)
    [call] = receiver.parsed()
    assert list(call)[: len(PARAM_ORDER)] == PARAM_ORDER
    assert call["SMSID"] == smsid and call["TypeId"] == "27" and call["telcoid"] == "2"
    assert call["phonenumber"] == "0901888484" and call["RequestId"] in ("", "req-1")
    assert call["oaid"] == "4097311281936189049" and call["tempid"] == "2056446"
    assert (call["SendStatus"], call["SendSuccess"], call["SendFailed"], call["TotalSent"]) == ("5", "1", "0", "1")
    assert call["TotalPrice"] == "220.0000" and call["TotalReceiver"] == "1"
    assert re.fullmatch(r"[0-9a-f]{20}", call["partnerids"])
    assert decode_error_info(call["error_info"])[1]["error"] == 0
    record = truth_of(sim, smsid)
    assert [c["send_status"] for c in record["callbacks"]] == [5]
    assert all(c["delivered"] and c["http_status"] == 200 for c in record["callbacks"])


def test_zalo_errors_are_status_5_with_send_failed(sim: RunningSimulator, receiver: Receiver) -> None:
    """callback-url.md, the Zalo sample: a Zalo refusal is SendStatus=5, SendFailed=1,
    SendSuccess=0, TotalPrice=0.0000, TotalSent=0, empty partnerids, Zalo's code in error_info."""
    configure_ok(sim, forced_outcomes={"0901000001": "failed:-114"})
    smsid = send_with_callback(sim, receiver.url, Phone="0901000001", RequestId="a")["SMSID"]
    wait_idle(sim)
    [call] = receiver.parsed()
    assert call["SMSID"] == smsid
    fields = ("SendStatus", "SendFailed", "SendSuccess", "TotalPrice", "TotalSent", "partnerids")
    assert tuple(call[f] for f in fields) == ("5", "1", "0", "0.0000", "0", "")
    zalo = decode_error_info(call["error_info"])[1]
    assert zalo["error"] == -114 and zalo["message"].startswith("User is inactive, or reject the message")
    assert truth_of(sim, smsid)["outcome"] == "failed"


def test_the_natural_mix_never_calls_back_anything_but_5(receiver: Receiver) -> None:
    """callback-url.md: every sample is SendStatus 5; without a request for them no 1, 2, 4 or 7."""
    running = start(seed=3, failed_rate=0.5)
    try:
        for i in range(30):
            send_with_callback(running, receiver.url, RequestId=f"r{i}", Phone=f"09010000{i:02d}")
        wait_idle(running)
        calls = receiver.parsed()
        assert len(calls) == 30 and {c["SendStatus"] for c in calls} == {"5"}
        assert {c["SendFailed"] for c in calls} == {"0", "1"}
    finally:
        running.stop()


def test_intermediate_statuses_on_request(receiver: Receiver) -> None:
    """callback-url.md's SendStatus table (1 waiting for approval, 2 waiting to send, 4 rejected,
    7 sent, waiting for the report) may reach the tracker: ``intermediate_statuses`` calls them
    back too, 2 -> 7 -> 5, and 1|2 -> 4 for a rejection (only on request as well)."""
    running = start(intermediate_statuses=True)
    try:
        outcomes = {"0901888484": "delivered", "0901000001": "failed:-114", "0901000002": "rejected"}
        configure_ok(running, forced_outcomes=outcomes)
        ids = {p: send_with_callback(running, receiver.url, Phone=p, RequestId=p)["SMSID"] for p in outcomes}
        wait_idle(running)
        calls = receiver.parsed()
        seq = {p: [c["SendStatus"] for c in calls if c["SMSID"] == smsid] for p, smsid in ids.items()}
        assert seq["0901888484"] == seq["0901000001"] == ["2", "7", "5"]
        assert seq["0901000002"] in (["1", "4"], ["2", "4"])
        first = next(c for c in calls if c["SMSID"] == ids["0901888484"])
        assert first["partnerids"] == "" and "error_info" not in first
        rejected = [c for c in calls if c["SMSID"] == ids["0901000002"]][-1]
        assert decode_error_info(rejected["error_info"])[1]["error"] < 0
        assert truth_of(running, ids["0901000002"])["outcome"] == "rejected"
    finally:
        running.stop()


def test_not_online_fails_1001_after_the_template_timeout(receiver: Receiver) -> None:
    """ham-lay-thong-tin-trang-thai-zns-1.md: ErrorInfo 1001, the user was not online within the
    allowed time; that time is the template's Timeout (ham-lay-thong-tin-chi-tiet-template-zalo.md).
    Until then nothing is called back and the message waits on Zalo's server."""
    running = start(speed=1.0, template_timeout=1.5)
    try:
        configure_ok(running, forced_outcomes={"0901888484": "failed:1001"})
        info = requests.get(
            f"{running.base_url}/GetZnsTemplateInfo",
            timeout=5,
            params={"TemplateId": "2056446", "ApiKey": "key", "SecretKey": "secret", "OAId": "4097311281936189049"},
        ).json()
        assert info["Data"]["Timeout"] == 1500
        started = time.monotonic()
        smsid = send_with_callback(running, receiver.url)["SMSID"]
        time.sleep(1.0)
        assert receiver.calls == []
        query = {"ApiKey": "key", "SecretKey": "secret", "SmsId": smsid, "SmsType": "25"}
        data = requests.post(f"{running.base_url}/QueryZnsStatus/", json=query, timeout=5).json()["Data"]
        assert (data["SendStatus"], data["FinalStatus"], data["ErrorInfo"]) == (7, "0", None)
        wait_idle(running)
        assert time.monotonic() - started >= 1.5
        [call] = receiver.parsed()
        assert (call["SendStatus"], call["SendFailed"], call["SendSuccess"], call["TotalSent"]) == ("5", "1", "0", "1")
        assert call["partnerids"] and decode_error_info(call["error_info"])[1]["error"] == 1001
        data = requests.post(f"{running.base_url}/QueryZnsStatus/", json=query, timeout=5).json()["Data"]
        assert (data["FinalStatus"], data["ErrorInfo"], data["ZaloMsgId"]) == ("1", "1001", call["partnerids"])
    finally:
        running.stop()


def test_error_info_rotates_through_all_four_encodings(sim: RunningSimulator, receiver: Receiver) -> None:
    """callback-url.md's samples encode error_info four ways (REFERENCE section 2): JSON in quotes
    with escaped quotes, JSON URL-encoded twice plus ``____dd/MM/yyyy HH:mm:ss``, plain JSON, and
    JSON followed by free text; each appears, byte for byte as on the wire."""
    for i in range(8):
        send_with_callback(sim, receiver.url, RequestId=f"r{i}")
    wait_idle(sim)
    finals = [c["error_info"] for c in receiver.parsed() if "error_info" in c]
    forms = [decode_error_info(value) for value in finals]
    assert {form for form, _ in forms} == {"quoted", "double_encoded", "plain", "trailing_text"}
    assert all(isinstance(obj["error"], int) for _, obj in forms)
    # On the wire, exactly as in eSMS's samples.
    raw = "\n".join(receiver.calls)
    assert "error_info=%22{%5C%22error%5C%22%3A" in raw
    assert re.search(r"error_info=%257B%2522.*%257D____\d\d%2F\d\d%2F\d{4}%2520\d\d%3A\d\d%3A\d\d", raw)
    assert "error_info={%22error%22%3A" in raw
    assert "Object%20reference%20not%20set%20to%20an%20instance%20of%20an%20object." in raw


def test_callback_url_with_a_query_string_gets_a_second_question_mark(
    sim: RunningSimulator, receiver: Receiver
) -> None:
    """callback-url.md writes callbacks as ``https://{url}?SMSID=...``: appended with "?", whatever
    the URL already holds."""
    smsid = send_with_callback(sim, receiver.url + "?src=x")["SMSID"]
    wait_idle(sim)
    assert all(path.startswith(f"/webhooks/esms/tok?src=x?SMSID={smsid}&") for path in receiver.calls)


def get_callback(url: str, smsid: str) -> list[dict]:
    payload = {"ApiKey": "key", "SecretKey": "secret", "ListRefid": [smsid], "OAId": "4097311281936189049"}
    entries: list[dict] = requests.post(f"{url}/ZaloCallback/GetCallback", json=payload, timeout=5).json()[
        "Data_callback"
    ]
    return entries


@pytest.mark.parametrize("setting", ["drop_callback_rate", "natural_lost_rate"])
def test_lost_callbacks_are_still_reported_by_get_callback(receiver: Receiver, setting: str) -> None:
    """ham-lay-thong-tin-callback-tin-nhan-zalo.md: GetCallback returns the data the callback
    carried, so a callback that never arrived can be recovered there."""
    running = start(**{setting: 1.0})
    try:
        smsid = send_with_callback(running, receiver.url)["SMSID"]
        wait_idle(running)
        assert receiver.calls == []
        record = truth_of(running, smsid)
        assert record["callbacks"] and all(c["dropped"] and not c["delivered"] for c in record["callbacks"])
        [entry] = get_callback(running.status_url, smsid)
        assert entry["SendStatus"] == 5 and entry["ErrorInfo"]
        stats = requests.get(f"{running.url}/_sim/stats", timeout=5).json()["callbacks"]
        assert stats["dropped"] == len(record["callbacks"]) and stats["delivered"] == 0
    finally:
        running.stop()


def test_late_and_duplicate_final_callbacks(receiver: Receiver) -> None:
    """SPEC 8 on callback-url.md's one callback: occasionally it comes twice, or seconds late
    (after a status query could already have seen the outcome)."""
    running = start(speed=0.05, duplicate_callback_rate=1.0, reorder_rate=1.0)
    try:
        configure_ok(running, forced_outcomes={"0901888484": "delivered"})
        started = time.monotonic()
        smsid = send_with_callback(running, receiver.url)["SMSID"]
        wait_idle(running)
        assert [c["SendStatus"] for c in receiver.parsed()] == ["5", "5"]
        record = truth_of(running, smsid)
        assert sum(c["duplicate"] for c in record["callbacks"]) == 1
        assert sum(c["late"] for c in record["callbacks"]) == 1
        # Reached within 1.5 * 1.3 * speed s, called back 2 to 20 s (times speed) after that.
        assert record["final_at_s"] <= 0.1 and time.monotonic() - started >= record["final_at_s"] + 0.1
    finally:
        running.stop()


def test_intermediate_callbacks_may_overtake_each_other(receiver: Receiver) -> None:
    """With intermediate statuses (callback-url.md's 2 and 7), a late one arrives after the next."""
    running = start(intermediate_statuses=True, duplicate_callback_rate=1.0, reorder_rate=1.0)
    try:
        configure_ok(running, forced_outcomes={"0901888484": "delivered"})
        smsid = send_with_callback(running, receiver.url)["SMSID"]
        wait_idle(running)
        statuses = [c["SendStatus"] for c in receiver.parsed()]
        assert sorted(statuses) == ["2", "5", "5", "7"]
        assert statuses != sorted(statuses, key=["2", "7", "5"].index)
        record = truth_of(running, smsid)["callbacks"]
        assert sum(c["duplicate"] for c in record) == 1 and sum(c["late"] for c in record) == 1
    finally:
        running.stop()


def test_http_errors_are_not_retried_but_timeouts_are(receiver: Receiver) -> None:
    """callback-url.md: retried (up to 5 times) only when the receiver times out, then given up."""
    running = start(callback_timeout=0.2, callback_retries=2, callback_retry_delay=0.0)
    try:
        receiver.status = 500
        erred = send_with_callback(running, receiver.url)["SMSID"]
        wait_idle(running)
        callbacks = truth_of(running, erred)["callbacks"]
        assert [(c["attempts"], c["http_status"], c["state"]) for c in callbacks] == [(1, 500, "failed")]
        receiver.status, receiver.delay = 200, 0.4
        slow = send_with_callback(running, receiver.url, RequestId="slow")["SMSID"]
        wait_idle(running)
        callbacks = truth_of(running, slow)["callbacks"]
        assert [(c["attempts"], c["error"], c["state"]) for c in callbacks] == [(3, "timeout", "failed")]
        assert requests.get(f"{running.url}/_sim/stats", timeout=5).json()["callbacks"]["retried"] == 2
    finally:
        running.stop()


def test_http_get_sends_the_url_byte_for_byte(receiver: Receiver) -> None:
    """callback-url.md's samples keep ``{`` ``}`` and ``%5C%22`` as they are; a generic client would
    re-quote them, so the dispatcher writes the request target itself."""
    query = "?SMSID=1&error_info=%22{%5C%22error%5C%22%3A0}%22&x=a%20b"
    attempt = http_get(receiver.url + query, timeout=5)
    assert (attempt.http_status, attempt.error, attempt.timed_out) == (200, None, False)
    assert receiver.calls == ["/webhooks/esms/tok" + query]


def test_http_get_tells_a_timeout_from_other_errors(receiver: Receiver) -> None:
    """Only a timeout is retried (callback-url.md), so the two must differ."""
    refused = http_get("http://127.0.0.1:9/cb?SMSID=1", timeout=1)
    assert refused.http_status is None and not refused.timed_out and refused.error
    receiver.delay = 0.5
    slow = http_get(receiver.url, timeout=0.1)
    assert (slow.http_status, slow.error, slow.timed_out) == (None, "timeout", True)
    receiver.delay, receiver.status = 0.0, 500
    assert http_get(receiver.url, timeout=5).http_status == 500
    assert USER_AGENT.startswith("eSMS-Simulator/")
