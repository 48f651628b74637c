"""The test-only control API (tracker/simulator/control.py) under /_sim/: ground truth, sends, stats,
config, scripted error windows, reset, idle.

Not part of eSMS, so no document describes it; the windows answer eSMS's send CodeResults
(esms-api/bang-ma-loi.md), and the ground truth is what the status APIs and callbacks of
eSMS's documents report about a message.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.simulator.support import OAID, Receiver, configure, send, send_with_callback, start, truth, wait_idle
from tracker.simulator.control import ground_truth
from tracker.simulator.server import RunningSimulator


def test_config_rejects_unknown_or_bad_fields(sim: RunningSimulator) -> None:
    assert configure(sim, nonsense=1).status_code == 400
    assert configure(sim, drop_callback_rate=2).status_code == 400
    assert configure(sim, forced_outcomes={"0901": "lost"}).status_code == 400
    assert configure(sim, intermediate_statuses="yes").status_code == 400
    assert configure(sim, template_timeout=-1).status_code == 400
    shown = requests.get(f"{sim.url}/_sim/config", timeout=5).json()
    assert shown["drop_callback_rate"] == 0.0 and shown["intermediate_statuses"] is False
    assert configure(sim, journey_token_ttl=None, oa_ids=[OAID]).json()["oa_ids"] == [OAID]


def test_reset_forgets_and_reseeds(sim: RunningSimulator) -> None:
    smsid = send(sim)["SMSID"]
    reset = requests.post(f"{sim.url}/_sim/reset", json={}, timeout=5)
    assert reset.ok and truth(sim) == []
    # Same seed, same first draw: the same SMSID again, and the RequestId is free again.
    assert send(sim)["SMSID"] == smsid


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


def window(sim: RunningSimulator, **spec: Any) -> requests.Response:
    return requests.post(f"{sim.url}/_sim/windows", json=spec, timeout=5)


def test_a_101_window_for_some_seconds(sim: RunningSimulator) -> None:
    """Scripted through the control API: every send answers 101 (bang-ma-loi.md: wrong ApiKey or
    SecretKey, e.g. the keys were revoked) for the next N seconds, then the account is back."""
    made = window(sim, code="101", seconds=0.5)
    assert made.ok and made.json()["window"]["code"] == "101"
    assert [send(sim, RequestId=f"r{i}")["CodeResult"] for i in range(3)] == ["101"] * 3
    assert requests.get(f"{sim.url}/_sim/windows", timeout=5).json()["windows"][0]["answered"] == 3
    time.sleep(0.6)
    assert send(sim, RequestId="after")["CodeResult"] == "100"
    assert requests.get(f"{sim.url}/_sim/windows", timeout=5).json()["windows"] == []


def test_a_103_window_for_some_sends_and_a_799_window_for_one_oa(sim: RunningSimulator) -> None:
    """103 (balance too low) for the next 2 sends of the account; 799 (OAID inactive) for one OA
    only, while another OA keeps sending; windows end with DELETE or a reset."""
    assert window(sim, code="103", sends=2).ok
    assert window(sim, code="799", seconds=60, oaid="111").ok
    assert [send(sim, RequestId=f"a{i}")["CodeResult"] for i in range(3)] == ["103", "103", "100"]
    assert send(sim, RequestId="b", OAID="111")["CodeResult"] == "799"
    assert send(sim, RequestId="c")["CodeResult"] == "100"
    assert requests.delete(f"{sim.url}/_sim/windows", timeout=5).ok
    assert send(sim, RequestId="d", OAID="111")["CodeResult"] == "100"
    assert window(sim, code="799", seconds=60).ok
    requests.post(f"{sim.url}/_sim/reset", json={}, timeout=5)
    assert send(sim, RequestId="e")["CodeResult"] == "100"
    by_code = requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["sends"]["by_code"]
    assert by_code == {"100": 1}


def test_windows_take_only_documented_send_codes(sim: RunningSimulator) -> None:
    """Only bang-ma-loi.md's send codes: not 100, not a status-API code such as 105, nor 125."""
    for spec in ({"code": "125", "seconds": 1}, {"code": "105", "seconds": 1}, {"code": "101"}, {"seconds": 1}):
        assert window(sim, **spec).status_code == 400
    assert window(sim, code="143", seconds=1).ok


def test_messages_filter_by_exact_field_and_one_message_by_smsid(sim: RunningSimulator) -> None:
    first = send(sim, RequestId="a", OrderId="J-1")["SMSID"]
    second = send(sim, RequestId="b", OrderId="J-2", Phone="0981000000")["SMSID"]
    by = {
        name: requests.get(f"{sim.url}/_sim/messages", params={name: value}, timeout=5).json()["messages"]
        for name, value in (("smsid", first), ("request_id", "b"), ("phone", "0981000000"), ("order_id", "J-"))
    }
    assert [m["smsid"] for m in by["smsid"]] == [first]
    assert [m["smsid"] for m in by["request_id"]] == [second] == [m["smsid"] for m in by["phone"]]
    assert by["order_id"] == []  # exact match only
    one = requests.get(f"{sim.url}/_sim/messages/{second}", timeout=5)
    assert one.ok and one.json()["order_id"] == "J-2"
    missing = requests.get(f"{sim.url}/_sim/messages/nope", timeout=5)
    assert (missing.status_code, missing.json()) == (404, {"error": "unknown SMSID"})


def test_ground_truth_tells_the_planned_outcome_and_status(sim: RunningSimulator) -> None:
    """The outcome, Zalo's code and SendStatus 5 with callback-url.md's TypeId, telcoid and price."""
    configure(sim, forced_outcomes={"0901000001": "failed:-118"})
    smsid = send(sim, Phone="0901000001", campaignid="tet")["SMSID"]
    record = ground_truth(sim.fake, sim.fake.messages[smsid])
    assert (record["outcome"], record["error_code"], record["send_status"], record["final"]) == (
        "failed", "-118", 5, True)  # fmt: skip
    assert (record["type_id"], record["telco_id"], record["price"], record["campaign_id"]) == (27, 2, 220.0, "tet")
    assert record["partner_id"] is None and record["final_at_s"] == 0.0
    assert [c["send_status"] for c in record["callbacks"]] == [5] and record["accept_count"] == 1
    [listed] = truth(sim)
    assert {k: v for k, v in listed.items() if k != "callbacks"} == {
        k: v for k, v in record.items() if k != "callbacks"
    }


def test_sends_lists_every_answer_in_order(sim: RunningSimulator) -> None:
    send(sim)
    send(sim)
    send(sim, Phone="1")
    sends = requests.get(f"{sim.url}/_sim/sends", timeout=5).json()["sends"]
    assert [(s["code"], s["phone"], s["smsid"] is not None) for s in sends] == [
        ("100", "0901888484", True), ("124", "0901888484", False), ("108", "1", False)]  # fmt: skip
    assert not any(s["timeout_injected"] for s in sends)


def test_stats_count_sends_and_callbacks(sim: RunningSimulator) -> None:
    send(sim)
    send(sim, ApiKey="")
    stats = requests.get(f"{sim.url}/_sim/stats", timeout=5).json()
    assert stats["sends"] == {"total": 2, "by_code": {"100": 1, "101": 1}, "sandbox": 0}
    assert stats["messages"] == 1 and stats["callbacks"]["planned"] == 1
    assert set(stats["callbacks"]) >= {"pending", "delivered", "dropped", "retried"}
    assert stats["injected"] == {"send_5xx": 0, "send_timeout": 0, "early_callback": 0}


def test_config_is_shown_with_the_secret_masked_and_changed_at_runtime(sim: RunningSimulator) -> None:
    shown = requests.get(f"{sim.url}/_sim/config", timeout=5).json()
    assert shown["secret_key"] is None and shown["speed"] == 0.0
    changed = configure(sim, secret_key="s3cret", api_key="k", failed_rate=1.0)
    assert changed.ok and changed.json()["secret_key"] == "***" and changed.json()["api_key"] == "k"
    assert sim.fake.settings.secret_key == "s3cret" and sim.fake.settings.failed_rate == 1.0
    assert requests.get(f"{sim.url}/_sim/config", timeout=5).json()["secret_key"] == "***"
    not_an_object = requests.post(f"{sim.url}/_sim/config", json=[1], timeout=5)
    assert not_an_object.status_code == 400 and "JSON object" in not_an_object.json()["error"]


def test_reset_with_settings_restores_the_first_settings(sim: RunningSimulator) -> None:
    configure(sim, balance=5.0)
    kept = requests.post(f"{sim.url}/_sim/reset", json={}, timeout=5).json()
    assert kept["reset"] is True and kept["settings"]["balance"] == 5.0
    restored = requests.post(f"{sim.url}/_sim/reset", json={"settings": True}, timeout=5).json()
    assert restored["settings"]["balance"] == 100_000_000.0


def test_windows_are_listed_while_active(sim: RunningSimulator) -> None:
    """A window of 2 sends from one OA: listed with what is left, gone once used up."""
    made = window(sim, code="799", sends=2, oaid="111").json()["window"]
    assert made == {"id": 1, "code": "799", "oaid": "111", "seconds_left": None, "sends_left": 2, "answered": 0,
                    "active": True}  # fmt: skip
    assert send(sim, RequestId="a", OAID="111")["CodeResult"] == "799"
    [listed] = requests.get(f"{sim.url}/_sim/windows", timeout=5).json()["windows"]
    assert (listed["sends_left"], listed["answered"]) == (1, 1)
    assert send(sim, RequestId="b", OAID="111")["CodeResult"] == "799"
    assert requests.get(f"{sim.url}/_sim/windows", timeout=5).json()["windows"] == []
    assert requests.post(f"{sim.url}/_sim/windows", json="101", timeout=5).status_code == 400
