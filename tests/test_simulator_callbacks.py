"""The eSMS simulator's callbacks: sequences, wire encodings, retries and injected faults."""

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
    base: dict[str, Any] = {"seed": 11, "speed": 0.0, "natural_duplicate_rate": 0.0, "natural_late_rate": 0.0}
    base.update(overrides)
    return start_in_thread(SimSettings(**base))


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


def test_delivered_sequence(sim: RunningSimulator, receiver: Receiver) -> None:
    requests.post(f"{sim.url}/_sim/config", json={"forced_outcomes": {"0901888484": "delivered"}}, timeout=5)
    smsid = send(sim, receiver.url)["SMSID"]
    wait_idle(sim)
    calls = receiver.parsed()
    assert [c["SendStatus"] for c in calls] == ["2", "7", "5"]
    for call in calls:
        assert list(call)[: len(PARAM_ORDER)] == PARAM_ORDER
        assert call["SMSID"] == smsid and call["TypeId"] == "27" and call["telcoid"] == "2"
        assert call["phonenumber"] == "0901888484" and call["RequestId"] in ("", "req-1")
        assert call["oaid"] == "4097311281936189049" and call["tempid"] == "2056446"
    assert calls[0]["partnerids"] == "" and "error_info" not in calls[0]
    final = calls[-1]
    assert (final["SendSuccess"], final["SendFailed"], final["TotalSent"]) == ("1", "0", "1")
    assert re.fullmatch(r"[1-9]\d*\.0000", final["TotalPrice"])
    assert re.fullmatch(r"[0-9a-f]{20}", final["partnerids"])
    assert decode_error_info(final["error_info"])[1]["error"] == 0
    record = truth(sim, smsid)
    assert [c["send_status"] for c in record["callbacks"]] == [2, 7, 5]
    assert all(c["delivered"] and c["http_status"] == 200 for c in record["callbacks"])


def test_failed_and_rejected_sequences(sim: RunningSimulator, receiver: Receiver) -> None:
    outcomes = {"0901000001": "failed:-114", "0901000002": "rejected"}
    requests.post(f"{sim.url}/_sim/config", json={"forced_outcomes": outcomes}, timeout=5)
    failed = send(sim, receiver.url, Phone="0901000001", RequestId="a")["SMSID"]
    rejected = send(sim, receiver.url, Phone="0901000002", RequestId="b")["SMSID"]
    wait_idle(sim)
    calls = receiver.parsed()
    failed_calls = [c for c in calls if c["SMSID"] == failed]
    assert [c["SendStatus"] for c in failed_calls] == ["2", "7", "5"]
    final = failed_calls[-1]
    assert (final["SendSuccess"], final["SendFailed"], final["TotalPrice"]) == ("0", "1", "0.0000")
    assert decode_error_info(final["error_info"])[1]["error"] == -114
    rejected_calls = [c for c in calls if c["SMSID"] == rejected]
    assert [c["SendStatus"] for c in rejected_calls] in (["1", "4"], ["2", "4"])
    assert decode_error_info(rejected_calls[-1]["error_info"])[1]["error"] < 0
    assert truth(sim, rejected)["outcome"] == "rejected"


def test_error_info_rotates_through_all_four_encodings(sim: RunningSimulator, receiver: Receiver) -> None:
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
    smsid = send(sim, receiver.url + "?src=x")["SMSID"]
    wait_idle(sim)
    assert all(path.startswith(f"/webhooks/esms/tok?src=x?SMSID={smsid}&") for path in receiver.calls)


def test_dropped_callbacks_are_still_reported_by_get_callback(receiver: Receiver) -> None:
    running = start(drop_callback_rate=1.0)
    try:
        smsid = send(running, receiver.url)["SMSID"]
        wait_idle(running)
        assert receiver.calls == []
        record = truth(running, smsid)
        assert record["callbacks"] and all(c["dropped"] and not c["delivered"] for c in record["callbacks"])
        payload = {"ApiKey": "key", "SecretKey": "secret", "ListRefid": [smsid], "OAId": "4097311281936189049"}
        answer = requests.post(f"{running.status_url}/ZaloCallback/GetCallback", json=payload, timeout=5).json()
        [entry] = answer["Data_callback"]
        assert entry["SendStatus"] in (4, 5) and entry["ErrorInfo"]
        stats = requests.get(f"{running.url}/_sim/stats", timeout=5).json()["callbacks"]
        assert stats["dropped"] == len(record["callbacks"]) and stats["delivered"] == 0
    finally:
        running.stop()


def test_send_timeout_accepts_once_and_the_retry_gets_124(receiver: Receiver) -> None:
    running = start(send_timeout_rate=1.0, timeout_delay=5.0)
    try:
        with pytest.raises(requests.Timeout):
            send(running, receiver.url, timeout=0.3)
        assert send(running, receiver.url, timeout=2)["CodeResult"] == "124"
        messages = requests.get(f"{running.url}/_sim/messages", timeout=5).json()["messages"]
        [message] = messages
        assert message["accept_count"] == 1 and message["repeat_count"] == 1
        stats = requests.get(f"{running.url}/_sim/stats", timeout=5).json()
        assert stats["injected"]["send_timeout"] == 1
        # The accepted message's callbacks still go out while the client waits.
        wait_idle(running)
        assert {c["SMSID"] for c in receiver.parsed()} == {message["smsid"]}
    finally:
        running.stop()


def test_early_callback_arrives_before_the_send_answer(receiver: Receiver) -> None:
    running = start(speed=1.0, early_callback_rate=1.0)
    try:
        smsid = send(running, receiver.url)["SMSID"]
        # Delivered synchronously before the answer; the rest are ~0.3 s away.
        assert [c["SMSID"] for c in receiver.parsed()] == [smsid]
        assert truth(running, smsid)["callbacks"][0]["early"]
    finally:
        running.stop()


def test_idle_counts_pending_callbacks(receiver: Receiver) -> None:
    running = start(speed=0.2)
    try:
        send(running, receiver.url)
        idle = requests.get(f"{running.url}/_sim/idle", timeout=5).json()
        assert idle["idle"] is False and idle["pending_callbacks"] >= 2
        wait_idle(running)
        assert len(receiver.calls) >= 2
    finally:
        running.stop()


def test_duplicates_and_late_callbacks(receiver: Receiver) -> None:
    running = start(duplicate_callback_rate=1.0, reorder_rate=1.0)
    try:
        requests.post(f"{running.url}/_sim/config", json={"forced_outcomes": {"0901888484": "delivered"}}, timeout=5)
        smsid = send(running, receiver.url)["SMSID"]
        wait_idle(running)
        statuses = [c["SendStatus"] for c in receiver.parsed()]
        assert sorted(statuses) == ["2", "5", "5", "7"]
        assert statuses != sorted(statuses, key=["2", "7", "5"].index)
        record = truth(running, smsid)["callbacks"]
        assert sum(c["duplicate"] for c in record) == 1 and sum(c["late"] for c in record) == 1
    finally:
        running.stop()


def test_http_errors_are_not_retried_but_timeouts_are(receiver: Receiver) -> None:
    running = start(callback_timeout=0.2, callback_retries=2, callback_retry_delay=0.0)
    try:
        requests.post(f"{running.url}/_sim/config", json={"forced_outcomes": {"0901888484": "rejected"}}, timeout=5)
        receiver.status = 500
        erred = send(running, receiver.url)["SMSID"]
        wait_idle(running)
        assert [(c["attempts"], c["http_status"], c["state"]) for c in truth(running, erred)["callbacks"]] == [
            (1, 500, "failed"),
            (1, 500, "failed"),
        ]
        receiver.status, receiver.delay = 200, 0.4
        slow = send(running, receiver.url, RequestId="slow")["SMSID"]
        wait_idle(running)
        callbacks = truth(running, slow)["callbacks"]
        assert [(c["attempts"], c["error"], c["state"]) for c in callbacks] == [(3, "timeout", "failed")] * 2
        assert requests.get(f"{running.url}/_sim/stats", timeout=5).json()["callbacks"]["retried"] == 4
    finally:
        running.stop()
