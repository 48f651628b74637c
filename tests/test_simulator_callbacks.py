"""The eSMS simulator's callbacks: one final callback, wire encodings, retries, late/lost/duplicate ones.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/callback-url.md (GET with the
data in the query string, SendStatus table, the samples and their error_info encodings,
retried 5 times on a timeout), esms-api/ham-truy-xuat-va-dang-ky/ham-lay-thong-tin-trang-thai-zns-1.md
(ErrorInfo 1001), ham-lay-thong-tin-callback-tin-nhan-zalo.md (GetCallback keeps the data).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests

from tracker.simulator import SimSettings, start_in_thread
from tracker.simulator.server import RunningSimulator

PARAM_ORDER = [
    "SMSID", "SendFailed", "SendStatus", "SendSuccess", "TotalPrice", "TotalReceiver", "TotalSent",
    "RequestId", "TypeId", "telcoid", "phonenumber", "partnerids",
]  # fmt: skip


class Receiver:
    """A tiny webhook recording every GET it gets, raw, in arrival order."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with receiver.lock:
                    receiver.calls.append(self.path)
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/esms/tok"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def parsed(self) -> list[dict[str, str]]:
        """Each call's query decoded once, as a web framework would."""
        with self.lock:
            return [dict(parse_qsl(urlsplit(path).query, keep_blank_values=True)) for path in self.calls]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def start(**overrides: Any) -> RunningSimulator:
    base: dict[str, Any] = {
        "seed": 11,
        "speed": 0.0,
        "natural_duplicate_rate": 0.0,
        "natural_late_rate": 0.0,
        "natural_lost_rate": 0.0,
    }
    base.update(overrides)
    return start_in_thread(SimSettings(**base))


def configure(sim: RunningSimulator, **changes: Any) -> None:
    assert requests.post(f"{sim.url}/_sim/config", json=changes, timeout=5).ok


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    running = start()
    yield running
    running.stop()


def send(sim: RunningSimulator, url: str, timeout: float = 5, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ApiKey": "key",
        "SecretKey": "secret",
        "Phone": "0901888484",
        "Params": ["Lan"],
        "IsJourney": True,
        "OrderId": "J-1",
        "TempID": "2056446",
        "OAID": "4097311281936189049",
        "RequestId": "req-1",
        "CallbackUrl": url,
    }
    payload.update(overrides)
    payload = {k: v for k, v in payload.items() if v is not ...}
    response = requests.post(f"{sim.base_url}/SendZaloMessage_V4_post_json/", json=payload, timeout=timeout)
    answer: dict[str, Any] = response.json()
    return answer


def wait_idle(sim: RunningSimulator, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if requests.get(f"{sim.url}/_sim/idle", timeout=5).json()["idle"]:
            return
        time.sleep(0.02)
    raise AssertionError("simulator never went idle")


def truth(sim: RunningSimulator, smsid: str) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(f"{sim.url}/_sim/messages/{smsid}", timeout=5).json()
    return answer


def decode_error_info(value: str) -> tuple[str, dict[str, Any]]:
    """(encoding, Zalo JSON) of an error_info already decoded once (REFERENCE section 2)."""
    if value.startswith('"'):
        return "quoted", json.loads(json.loads(value))
    if "____" in value:
        encoded, stamp = value.split("____")
        assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", unquote(stamp))
        return "double_encoded", json.loads(unquote(encoded))
    obj, end = json.JSONDecoder().raw_decode(value)
    return ("plain" if end == len(value) else "trailing_text"), obj


def test_one_final_callback_by_default(sim: RunningSimulator, receiver: Receiver) -> None:
    """callback-url.md: eSMS calls back (GET, data in the query string) when the message has its
    final status; the journey sample: SendStatus=5, SendSuccess=1, TypeId=27, a partnerids and
    error_info with Zalo's error 0."""
    configure(sim, forced_outcomes={"0901888484": "delivered"})
    smsid = send(sim, receiver.url)["SMSID"]
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
    record = truth(sim, smsid)
    assert [c["send_status"] for c in record["callbacks"]] == [5]
    assert all(c["delivered"] and c["http_status"] == 200 for c in record["callbacks"])


def test_zalo_errors_are_status_5_with_send_failed(sim: RunningSimulator, receiver: Receiver) -> None:
    """callback-url.md, the Zalo sample: a Zalo refusal is SendStatus=5, SendFailed=1,
    SendSuccess=0, TotalPrice=0.0000, TotalSent=0, empty partnerids, Zalo's code in error_info."""
    configure(sim, forced_outcomes={"0901000001": "failed:-114"})
    smsid = send(sim, receiver.url, Phone="0901000001", RequestId="a")["SMSID"]
    wait_idle(sim)
    [call] = receiver.parsed()
    assert call["SMSID"] == smsid
    fields = ("SendStatus", "SendFailed", "SendSuccess", "TotalPrice", "TotalSent", "partnerids")
    assert tuple(call[f] for f in fields) == ("5", "1", "0", "0.0000", "0", "")
    zalo = decode_error_info(call["error_info"])[1]
    assert zalo["error"] == -114 and zalo["message"].startswith("User is inactive, or reject the message")
    assert truth(sim, smsid)["outcome"] == "failed"


def test_the_natural_mix_never_calls_back_anything_but_5(receiver: Receiver) -> None:
    """callback-url.md: every sample is SendStatus 5; without a request for them no 1, 2, 4 or 7."""
    running = start(seed=3, failed_rate=0.5)
    try:
        for i in range(30):
            send(running, receiver.url, RequestId=f"r{i}", Phone=f"09010000{i:02d}")
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
        configure(running, forced_outcomes=outcomes)
        ids = {p: send(running, receiver.url, Phone=p, RequestId=p)["SMSID"] for p in outcomes}
        wait_idle(running)
        calls = receiver.parsed()
        seq = {p: [c["SendStatus"] for c in calls if c["SMSID"] == smsid] for p, smsid in ids.items()}
        assert seq["0901888484"] == seq["0901000001"] == ["2", "7", "5"]
        assert seq["0901000002"] in (["1", "4"], ["2", "4"])
        first = next(c for c in calls if c["SMSID"] == ids["0901888484"])
        assert first["partnerids"] == "" and "error_info" not in first
        rejected = [c for c in calls if c["SMSID"] == ids["0901000002"]][-1]
        assert decode_error_info(rejected["error_info"])[1]["error"] < 0
        assert truth(running, ids["0901000002"])["outcome"] == "rejected"
    finally:
        running.stop()


def test_not_online_fails_1001_after_the_template_timeout(receiver: Receiver) -> None:
    """ham-lay-thong-tin-trang-thai-zns-1.md: ErrorInfo 1001, the user was not online within the
    allowed time; that time is the template's Timeout (ham-lay-thong-tin-chi-tiet-template-zalo.md).
    Until then nothing is called back and the message waits on Zalo's server."""
    running = start(speed=1.0, template_timeout=1.5)
    try:
        configure(running, forced_outcomes={"0901888484": "failed:1001"})
        info = requests.get(f"{running.base_url}/GetZnsTemplateInfo", timeout=5, params={
            "TemplateId": "2056446", "ApiKey": "key", "SecretKey": "secret", "OAId": "4097311281936189049"}).json()
        assert info["Data"]["Timeout"] == 1500
        started = time.monotonic()
        smsid = send(running, receiver.url)["SMSID"]
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


def test_journey_token_failures(receiver: Receiver) -> None:
    """tin-zalo-hanh-trinh.md: a journey needs its OrderId and a template registered at Zalo as a
    journey one. Zalo's codes (linked from ham-lay-thong-tin-trang-thai-zns-1.md): -148 token not
    found (no OrderId), -1491 token type not for this template, -150 token expired
    (``journey_token_ttl``), -149 invalid (on request); each a SendStatus 5, SendFailed=1 callback."""
    running = start(journey_token_ttl=0.0, failed_rate=0.0)
    try:
        configure(running, forced_outcomes={"0901000149": "failed:-149"})
        plain = {"TempID": "300001", "Params": ["DH1", "1000", "30/04/2024"]}
        sends = {
            -148: send(running, receiver.url, RequestId="a", OrderId=""),
            -1491: send(running, receiver.url, RequestId="b", OrderId="J-9", **plain),
            0: send(running, receiver.url, RequestId="c", OrderId="J-2"),
            -150: send(running, receiver.url, RequestId="d", OrderId="J-2"),
            -149: send(running, receiver.url, RequestId="e", Phone="0901000149"),
        }
        not_journey = send(running, receiver.url, RequestId="f", IsJourney=False, OrderId=..., **plain)
        wait_idle(running)
        codes = {c["SMSID"]: decode_error_info(c["error_info"])[1]["error"] for c in receiver.parsed()}
        for code, answer in sends.items():
            assert answer["CodeResult"] == "100"
            assert codes[answer["SMSID"]] == code
        assert codes[not_journey["SMSID"]] not in (-148, -149, -1491, -150)
        assert truth(running, sends[-150]["SMSID"])["error_code"] == "-150"
    finally:
        running.stop()


def test_error_info_rotates_through_all_four_encodings(sim: RunningSimulator, receiver: Receiver) -> None:
    """callback-url.md's samples encode error_info four ways (REFERENCE section 2): JSON in quotes
    with escaped quotes, JSON URL-encoded twice plus ``____dd/MM/yyyy HH:mm:ss``, plain JSON, and
    JSON followed by free text; each appears, byte for byte as on the wire."""
    for i in range(8):
        send(sim, receiver.url, RequestId=f"r{i}")
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
    smsid = send(sim, receiver.url + "?src=x")["SMSID"]
    wait_idle(sim)
    assert all(path.startswith(f"/webhooks/esms/tok?src=x?SMSID={smsid}&") for path in receiver.calls)
