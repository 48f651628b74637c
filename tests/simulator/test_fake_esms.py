"""The eSMS simulator's imperfect callbacks: lost, late, duplicate, early, retried; and a send that times out.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/callback-url.md ("retried 5
times if the customer's URL times out, then given up"), esms-api/ham-truy-xuat-va-dang-ky/
ham-lay-thong-tin-callback-tin-nhan-zalo.md (GetCallback keeps what a callback carried),
esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md (RequestId blocked for 24 h: code 124).
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.simulator.support import Receiver, configure_ok, send_with_callback, start, truth_of, wait_idle



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


def test_send_timeout_accepts_once_and_the_retry_gets_124(receiver: Receiver) -> None:
    """tin-zalo-hanh-trinh.md: the RequestId of a send whose answer was lost blocks the retry (124)."""
    running = start(send_timeout_rate=1.0, timeout_delay=5.0)
    try:
        with pytest.raises(requests.Timeout):
            send_with_callback(running, receiver.url, timeout=0.3)
        assert send_with_callback(running, receiver.url, timeout=2)["CodeResult"] == "124"
        messages = requests.get(f"{running.url}/_sim/messages", timeout=5).json()["messages"]
        [message] = messages
        assert message["accept_count"] == 1 and message["repeat_count"] == 1
        stats = requests.get(f"{running.url}/_sim/stats", timeout=5).json()
        assert stats["injected"]["send_timeout"] == 1
        # The accepted message's callback still goes out while the client waits.
        wait_idle(running)
        assert {c["SMSID"] for c in receiver.parsed()} == {message["smsid"]}
    finally:
        running.stop()


def test_early_callback_arrives_before_the_send_answer(receiver: Receiver) -> None:
    """An injected race: the one (final) callback of callback-url.md before the send's answer."""
    running = start(speed=1.0, early_callback_rate=1.0)
    try:
        smsid = send_with_callback(running, receiver.url)["SMSID"]
        [call] = receiver.parsed()
        assert call["SMSID"] == smsid and call["SendStatus"] == "5"
        assert truth_of(running, smsid)["callbacks"][0]["early"]
    finally:
        running.stop()


def test_idle_counts_pending_callbacks(receiver: Receiver) -> None:
    running = start(speed=0.2)
    try:
        send_with_callback(running, receiver.url)
        idle = requests.get(f"{running.url}/_sim/idle", timeout=5).json()
        assert idle == {"idle": False, "pending_callbacks": 1}
        wait_idle(running)
        assert len(receiver.calls) == 1
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
