"""The eSMS simulator's request validation and status APIs, over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tracker.simulator import SimSettings, start_in_thread
from tracker.simulator.server import RunningSimulator

# Nothing listens on the discard port: callbacks fail fast and are not what these tests look at.
DEAD_CALLBACK = "http://127.0.0.1:9/cb"
SMSID_RE = re.compile(r"^[0-9a-f]{32}\d{3}$")


def quiet_settings(**overrides: Any) -> SimSettings:
    """Speed 0 and none of the natural duplicates/late callbacks, so results are exact."""
    base: dict[str, Any] = {"seed": 7, "speed": 0.0, "natural_duplicate_rate": 0.0, "natural_late_rate": 0.0}
    base.update(overrides)
    return SimSettings(**base)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    running = start_in_thread(quiet_settings())
    yield running
    running.stop()


def body(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ApiKey": "key",
        "SecretKey": "secret",
        "Phone": "0901888484",
        "Params": ["Lan", "ORD-1"],
        "IsJourney": True,
        "OrderId": "J-1",
        "TempID": "2056446",
        "OAID": "4097311281936189049",
        "RequestId": "req-1",
        "CallbackUrl": DEAD_CALLBACK,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not ...}


def send(sim: RunningSimulator, **overrides: Any) -> dict[str, Any]:
    response = requests.post(f"{sim.base_url}/SendZaloMessage_V4_post_json/", json=body(**overrides), timeout=5)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def truth(sim: RunningSimulator) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = requests.get(f"{sim.url}/_sim/messages", timeout=5).json()["messages"]
    return items


def configure(sim: RunningSimulator, **changes: Any) -> requests.Response:
    return requests.post(f"{sim.url}/_sim/config", json=changes, timeout=5)


def test_accepted_send_answers_100_with_an_esms_like_smsid(sim: RunningSimulator) -> None:
    answer = send(sim)
    assert answer["CodeResult"] == "100"
    assert answer["CountRegenerate"] == 0
    assert SMSID_RE.match(answer["SMSID"])
    [message] = truth(sim)
    assert message["smsid"] == answer["SMSID"]
    assert message["order_id"] == "J-1" and message["params"] == ["Lan", "ORD-1"]
    assert message["accept_count"] == 1 and message["type_id"] == 27


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"ApiKey": ...}, "101"),
        ({"SecretKey": ""}, "101"),
        ({"OAID": ...}, "791"),
        ({"TempID": ""}, "791"),
        ({"Params": "Lan"}, "118"),
        ({"Params": ["Lan", 3]}, "118"),
        ({"Phone": "12345"}, "108"),
        ({"Phone": "+1 415 555 0100"}, "108"),
        ({"Phone": ...}, "108"),
        ({"RequestId": "r" * 51}, "125"),
        ({"TempID": "abc"}, "789"),
        ({"Phone": "84901888484"}, "100"),
        ({"Phone": "+84 90 188 8484"}, "100"),
        ({"RequestId": "r" * 50}, "100"),
        ({"IsJourney": False, "OrderId": ...}, "100"),
    ],
)
def test_validation_codes(sim: RunningSimulator, overrides: dict[str, Any], code: str) -> None:
    answer = send(sim, **overrides)
    assert answer["CodeResult"] == code
    assert ("SMSID" in answer) == (code == "100")
    if code != "100":
        assert answer["ErrorMessage"]


def test_journey_without_order_id_is_791_with_a_reason(sim: RunningSimulator) -> None:
    answer = send(sim, OrderId="")
    assert answer["CodeResult"] == "791"
    assert "OrderId" in answer["ErrorMessage"]


def test_configured_credentials_and_templates() -> None:
    running = start_in_thread(quiet_settings(api_key="K", secret_key="S", templates={"111"}))
    try:
        assert send(running, ApiKey="key", SecretKey="secret")["CodeResult"] == "101"
        answer = send(running, ApiKey="K", SecretKey="S")
        assert answer == {"CodeResult": "789", "CountRegenerate": 0, "ErrorMessage": "TemplateId is not config"}
        assert send(running, ApiKey="K", SecretKey="S", TempID="111")["CodeResult"] == "100"
    finally:
        running.stop()


def test_repeat_request_id_gets_124_and_is_not_accepted_twice(sim: RunningSimulator) -> None:
    assert send(sim)["CodeResult"] == "100"
    assert send(sim)["CodeResult"] == "124"
    # The block is per ApiKey, and a send without RequestId is never a repeat.
    assert send(sim, ApiKey="other")["CodeResult"] == "100"
    assert send(sim, RequestId="")["CodeResult"] == "100"
    assert send(sim, RequestId="")["CodeResult"] == "100"
    first = next(m for m in truth(sim) if m["request_id"] == "req-1")
    assert first["accept_count"] == 1 and first["repeat_count"] == 1
    stats = requests.get(f"{sim.url}/_sim/stats", timeout=5).json()
    assert stats["sends"]["by_code"] == {"100": 4, "124": 1}


def test_forced_codes_and_outcomes_change_at_runtime(sim: RunningSimulator) -> None:
    assert configure(sim, forced_codes={"0901000789": "789"}, forced_outcomes={"0901000001": "failed:-118"}).ok
    assert send(sim, Phone="0901000789")["CodeResult"] == "789"
    assert send(sim, Phone="0901000001", RequestId="x")["CodeResult"] == "100"
    [message] = truth(sim)
    assert (message["outcome"], message["error_code"]) == ("failed", "-118")
    assert configure(sim, forced_codes={}).ok
    assert send(sim, Phone="0901000789", RequestId="y")["CodeResult"] == "100"


def test_config_rejects_unknown_or_bad_fields(sim: RunningSimulator) -> None:
    assert configure(sim, nonsense=1).status_code == 400
    assert configure(sim, drop_callback_rate=2).status_code == 400
    assert configure(sim, forced_outcomes={"0901": "lost"}).status_code == 400
    shown = requests.get(f"{sim.url}/_sim/config", timeout=5).json()
    assert shown["drop_callback_rate"] == 0.0


def test_sandbox_is_answered_but_not_stored_or_called_back(sim: RunningSimulator) -> None:
    answer = send(sim, Sandbox="1")
    assert answer["CodeResult"] == "100" and SMSID_RE.match(answer["SMSID"])
    # Not stored at eSMS: the RequestId is not blocked and the SMSID is unknown.
    assert send(sim, Sandbox="1")["CodeResult"] == "100"
    status = requests.get(
        f"{sim.base_url}/GetSendStatus",
        params={"RefId": answer["SMSID"], "ApiKey": "key", "SecretKey": "secret"},
        timeout=5,
    ).json()
    assert status["CodeResponse"] == "105"
    assert all(m["sandbox"] and m["callbacks"] == [] and m["outcome"] is None for m in truth(sim))
    assert requests.get(f"{sim.url}/_sim/idle", timeout=5).json() == {"idle": True, "pending_callbacks": 0}


def test_injected_5xx_stores_nothing() -> None:
    running = start_in_thread(quiet_settings(send_5xx_rate=1.0))
    try:
        response = requests.post(f"{running.base_url}/SendZaloMessage_V4_post_json/", json=body(), timeout=5)
        assert response.status_code == 503
        assert truth(running) == []
        stats = requests.get(f"{running.url}/_sim/stats", timeout=5).json()
        assert stats["injected"]["send_5xx"] == 1
    finally:
        running.stop()


def get_send_status(sim: RunningSimulator, smsid: str, key: str = "key") -> dict[str, Any]:
    params = {"RefId": smsid, "ApiKey": key, "SecretKey": "secret"}
    answer: dict[str, Any] = requests.get(f"{sim.base_url}/GetSendStatus", params=params, timeout=5).json()
    return answer


def query_zns(sim: RunningSimulator, smsid: str) -> dict[str, Any]:
    payload = {"ApiKey": "key", "SecretKey": "secret", "SmsId": smsid, "SmsType": "24"}
    answer: dict[str, Any] = requests.post(f"{sim.base_url}/QueryZnsStatus/", json=payload, timeout=5).json()
    return answer


def get_callback(sim: RunningSimulator, refs: list[str], key: str = "key") -> dict[str, Any]:
    payload = {"ApiKey": key, "SecretKey": "secret", "ListRefid": refs, "OAId": "4097311281936189049"}
    answer: dict[str, Any] = requests.post(f"{sim.status_url}/ZaloCallback/GetCallback", json=payload, timeout=5).json()
    return answer


def test_status_apis_reflect_a_delivered_message(sim: RunningSimulator) -> None:
    configure(sim, forced_outcomes={"0901888484": "delivered"})
    smsid = send(sim)["SMSID"]
    status = get_send_status(sim, smsid)
    assert status["CodeResponse"] == "100" and status["SMSID"] == smsid
    assert (status["SendStatus"], status["SendSuccess"], status["SendFailed"]) == (5, 1, 0)
    assert status["TotalPrice"] > 0 and status["TotalReceiver"] == 1 and status["TotalSent"] == 1
    data = query_zns(sim, smsid)["Data"]
    assert (data["ErrorInfo"], data["FinalStatus"], data["SendStatus"]) == ("0", "1", 5)
    assert re.fullmatch(r"[0-9a-f]{20}", data["ZaloMsgId"])
    [entry] = get_callback(sim, [smsid, "f" * 35])["Data_callback"]
    assert entry["SMSID"] == smsid and entry["SendStatus"] == 5 and entry["SendSuccess"] == 1
    assert entry["TypeId"] == 27 and entry["Telcoid"] == 2 and entry["PhoneNumber"] == "0901888484"
    assert entry["CallbackUrl"] == DEAD_CALLBACK and entry["ZnsTempId"] == "2056446"
    assert entry["Partnerids"] == data["ZaloMsgId"] and entry["ErrorInfo"]


def test_status_apis_reflect_failed_and_rejected(sim: RunningSimulator) -> None:
    configure(sim, forced_outcomes={"0901000001": "failed:-114", "0901000002": "rejected:-139"})
    failed = send(sim, Phone="0901000001", RequestId="a")["SMSID"]
    rejected = send(sim, Phone="0901000002", RequestId="b")["SMSID"]
    assert query_zns(sim, failed)["Data"]["ErrorInfo"] == "-114"
    status = get_send_status(sim, failed)
    assert (status["SendStatus"], status["SendSuccess"], status["SendFailed"], status["TotalPrice"]) == (5, 0, 1, 0.0)
    data = query_zns(sim, rejected)["Data"]
    assert (data["SendStatus"], data["ErrorInfo"], data["FinalStatus"]) == (4, "-139", "1")


def test_intermediate_state_and_not_yet_queryable() -> None:
    running = start_in_thread(quiet_settings(speed=100.0))
    try:
        configure(running, forced_outcomes={"0901888484": "delivered"})
        smsid = send(running)["SMSID"]
        # Right after the send eSMS has nothing to report yet.
        assert get_send_status(running, smsid)["CodeResponse"] == "105"
        assert query_zns(running, smsid)["CodeResult"] == "105"
        assert get_callback(running, [smsid])["Data_callback"] == []
        assert requests.get(f"{running.url}/_sim/idle", timeout=5).json() == {"idle": False, "pending_callbacks": 3}
        # Move the message's clock to just after its "7" instead of waiting for it.
        message = running.fake.messages[smsid]
        assert message.plan is not None
        message.created_mono -= message.plan.steps[1].offset + 0.001
        data = query_zns(running, smsid)["Data"]
        assert (data["SendStatus"], data["FinalStatus"], data["ErrorInfo"]) == (7, "0", None)
        assert get_callback(running, [smsid])["Data_callback"][0]["ErrorInfo"] is None
    finally:
        running.stop()


def test_status_api_errors(sim: RunningSimulator) -> None:
    smsid = send(sim)["SMSID"]
    assert get_send_status(sim, smsid, key="")["CodeResponse"] == "101"
    assert get_send_status(sim, "0" * 35)["CodeResponse"] == "105"
    assert get_send_status(sim, "")["CodeResponse"] == "851"
    assert query_zns(sim, "0" * 35)["CodeResult"] == "105"
    assert get_callback(sim, [smsid], key="")["Code"] == 101
    assert get_callback(sim, [smsid] * 201)["Code"] == 99
    assert get_callback(sim, [])["Code"] == 851
    without_url = send(sim, RequestId="no-url", CallbackUrl=...)["SMSID"]
    assert get_callback(sim, [without_url])["Data_callback"] == []


def test_get_callback_tps_limit(sim: RunningSimulator) -> None:
    codes = [get_callback(sim, ["x"])["Code"] for _ in range(25)]
    assert 160 in codes and codes[0] == 100


def test_get_template_lists_templates(sim: RunningSimulator) -> None:
    payload = {"ApiKey": "key", "SecretKey": "secret", "OAId": "1", "SmsType": "24"}
    answer = requests.post(f"{sim.base_url}/GetTemplate/", json=payload, timeout=5).json()
    assert answer["CodeResult"] == "100"
    assert {"2056446", "523194"} <= {t["TempId"] for t in answer["ZNSTemplates"]}
    assert all(p["MaxLength"] > 0 for t in answer["ZNSTemplates"] for p in t["Params"])


def planned(seed: int) -> list[tuple[str, str, str | None]]:
    running = start_in_thread(quiet_settings(seed=seed))
    try:
        for i in range(20):
            send(running, RequestId=f"r{i}", Phone=f"09010000{i:02d}")
        return [(m["smsid"], m["outcome"], m["error_code"]) for m in truth(running)]
    finally:
        running.stop()


def test_same_seed_gives_same_plan() -> None:
    first = planned(42)
    assert first == planned(42)
    assert first != planned(43)
    assert {o for _, o, _ in first} >= {"delivered"}


def test_reset_forgets_and_reseeds(sim: RunningSimulator) -> None:
    smsid = send(sim)["SMSID"]
    reset = requests.post(f"{sim.url}/_sim/reset", json={}, timeout=5)
    assert reset.ok and truth(sim) == []
    # Same seed, same first draw: the same SMSID again, and the RequestId is free again.
    assert send(sim)["SMSID"] == smsid
