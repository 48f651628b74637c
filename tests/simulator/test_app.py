"""The eSMS simulator's send endpoint, over real HTTP: the answers and codes eSMS documents.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md
(the journey send and its answers), esms-api/bang-ma-loi.md (CodeResult table),
esms-api/moi-truong-test-sandbox.md (Sandbox). The shared helpers below are imported by the
other tests/test_simulator_*.py files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tracker.simulator import SimSettings, start_in_thread
from tracker.simulator.server import RunningSimulator

from tests.simulator.support import OAID, SMSID_RE, body, configure, post, quiet_settings, send, truth

@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    running = start_in_thread(quiet_settings())
    yield running
    running.stop()


def test_accepted_send_answers_100_with_an_esms_like_smsid(sim: RunningSimulator) -> None:
    """tin-zalo-hanh-trinh.md, tab 100: CodeResult "100", CountRegenerate 0, an SMSID."""
    answer = send(sim)
    assert answer["CodeResult"] == "100"
    assert answer["CountRegenerate"] == 0
    assert SMSID_RE.match(answer["SMSID"])
    [message] = truth(sim)
    assert message["smsid"] == answer["SMSID"]
    assert message["order_id"] == "J-1" and message["params"] == ["Lan", "ORD-1"]
    assert message["accept_count"] == 1 and message["type_id"] == 27 and message["price"] == 220.0


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"ApiKey": ...}, "101"),
        ({"SecretKey": ""}, "101"),
        ({"OAID": ...}, "791"),
        ({"TempID": ""}, "791"),
        ({"Phone": "12345"}, "108"),
        ({"Phone": "+1 415 555 0100"}, "108"),
        ({"Phone": ...}, "108"),
        ({"TempID": "abc"}, "789"),
        ({"Params": "Lan"}, "790"),
        ({"Params": ["Lan", 3]}, "790"),
        ({"Params": ["L" * 31]}, "790"),
        ({"Params": ["a", "b", "c", "d"]}, "790"),
        ({"TempID": "300001", "IsJourney": False, "Params": ["DH1", "12a"]}, "790"),
        ({"TempID": "300001", "IsJourney": False, "Params": ["DH1", "1" * 13]}, "790"),
        ({"TempID": "300001", "IsJourney": False, "Params": ["DH1", "150000", "2024-04-30"]}, "790"),
        ({"TempID": "300001", "IsJourney": False, "Params": ["DH1", "150000", "30/04/2024"]}, "100"),
        ({"TempID": "9999", "Params": ["x" * 500]}, "100"),
        ({"Phone": "84901888484"}, "100"),
        ({"Phone": "+84 90 188 8484"}, "100"),
        ({"RequestId": "r" * 50}, "100"),
        ({"IsJourney": False, "OrderId": ...}, "100"),
    ],
)
def test_validation_codes(sim: RunningSimulator, overrides: dict[str, Any], code: str) -> None:
    """bang-ma-loi.md: 101 wrong keys, 791 OAID/TempID missing, 108 phone format, 789 template not
    configured, 790 wrong ZNS template (Params over a GetTemplate Limit or of the wrong
    RequireType: ham-lay-danh-sach-template-zalo.md); every error with an ErrorMessage."""
    answer = send(sim, **overrides)
    assert answer["CodeResult"] == code
    assert ("SMSID" in answer) == (code == "100")
    if code != "100":
        assert answer["ErrorMessage"] and answer["CountRegenerate"] == 0


def test_only_documented_codes_are_answered(sim: RunningSimulator) -> None:
    """bang-ma-loi.md has no code for a long RequestId, a missing OrderId or a Params problem
    other than a wrong template: the first two are accepted (the RequestId cut to its documented
    50 characters), so 118 and 125 never answer a send."""
    long_id = "r" * 60
    assert send(sim, RequestId=long_id)["CodeResult"] == "100"
    assert send(sim, RequestId=long_id + "x")["CodeResult"] == "124"  # the same first 50
    assert send(sim, RequestId="no-order", OrderId=...)["CodeResult"] == "100"
    by_code = requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["sends"]["by_code"]
    assert set(by_code) == {"100", "124"}
    assert {m["request_id"] for m in truth(sim)} == {"r" * 50, "no-order"}


def test_configured_credentials_templates_and_oas() -> None:
    """bang-ma-loi.md: 101 for other keys, 789 for a template not configured, 799 for an OAID not
    added to the account."""
    running = start_in_thread(quiet_settings(api_key="K", secret_key="S", templates={"111"}, oa_ids={OAID}))
    try:
        assert send(running, ApiKey="key", SecretKey="secret")["CodeResult"] == "101"
        answer = send(running, ApiKey="K", SecretKey="S")
        assert answer == {"CodeResult": "789", "CountRegenerate": 0, "ErrorMessage": "TemplateId is not config"}
        assert send(running, ApiKey="K", SecretKey="S", TempID="111", OAID="42")["CodeResult"] == "799"
        assert send(running, ApiKey="K", SecretKey="S", TempID="111")["CodeResult"] == "100"
    finally:
        running.stop()


def test_repeat_request_id_gets_124_and_is_not_accepted_twice(sim: RunningSimulator) -> None:
    """tin-zalo-hanh-trinh.md: a RequestId blocks repeats for 24 h; bang-ma-loi.md: 124."""
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
    """bang-ma-loi.md 789, forced for one phone through the control API."""
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
    assert configure(sim, intermediate_statuses="yes").status_code == 400
    assert configure(sim, template_timeout=-1).status_code == 400
    shown = requests.get(f"{sim.url}/_sim/config", timeout=5).json()
    assert shown["drop_callback_rate"] == 0.0 and shown["intermediate_statuses"] is False
    assert configure(sim, journey_token_ttl=None, oa_ids=[OAID]).json()["oa_ids"] == [OAID]


def test_defaults_follow_esms() -> None:
    """callback-url.md: one callback, final status; no eSMS sample shows a SendStatus 4, so
    rejections are off; the natural duplicate, late and lost callbacks are on."""
    defaults = SimSettings()
    assert defaults.intermediate_statuses is False and defaults.rejected_rate == 0.0
    assert defaults.natural_duplicate_rate > 0 and defaults.natural_late_rate > 0 and defaults.natural_lost_rate > 0
    assert defaults.template_timeout == 7200.0  # GetZnsTemplateInfo's sample Timeout, 7200000 ms


def test_sandbox_is_answered_but_not_stored_or_called_back(sim: RunningSimulator) -> None:
    """moi-truong-test-sandbox.md: Sandbox=1 is validated, not stored, not charged, not delivered."""
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
    assert post(sim, "GetBalance_json")["Balance"] == int(SimSettings().balance)


def test_injected_5xx_stores_nothing() -> None:
    """A fault, not an eSMS answer: tin-zalo-hanh-trinh.md always answers JSON with HTTP 200."""
    running = start_in_thread(quiet_settings(send_5xx_rate=1.0))
    try:
        response = requests.post(f"{running.base_url}/SendZaloMessage_V4_post_json/", json=body(), timeout=5)
        assert response.status_code == 503
        assert truth(running) == []
        stats = requests.get(f"{running.url}/_sim/stats", timeout=5).json()
        assert stats["injected"]["send_5xx"] == 1
    finally:
        running.stop()


def planned(seed: int) -> list[tuple[str, str, str | None]]:
    running = start_in_thread(quiet_settings(seed=seed))
    try:
        for i in range(20):
            send(running, RequestId=f"r{i}", Phone=f"09010000{i:02d}")
        return [(m["smsid"], m["outcome"], m["error_code"]) for m in truth(running)]
    finally:
        running.stop()


def test_same_seed_gives_same_plan() -> None:
    """Seedable (SPEC 8): the same seed gives the same SMSIDs, outcomes and Zalo codes."""
    first = planned(42)
    assert first == planned(42)
    assert first != planned(43)
    assert {o for _, o, _ in first} >= {"delivered"}


def test_intermediate_statuses_do_not_move_the_seeded_plan() -> None:
    """Asking for intermediate callbacks changes which steps are called back, not the draws."""
    plans = []
    for intermediate in (False, True):
        running = start_in_thread(quiet_settings(seed=5, intermediate_statuses=intermediate))
        try:
            for i in range(10):
                send(running, RequestId=f"r{i}", Phone=f"09010000{i:02d}")
            plans.append([(m["smsid"], m["outcome"], m["error_code"], m["partner_id"]) for m in truth(running)])
        finally:
            running.stop()
    assert plans[0] == plans[1]


def test_reset_forgets_and_reseeds(sim: RunningSimulator) -> None:
    smsid = send(sim)["SMSID"]
    reset = requests.post(f"{sim.url}/_sim/reset", json={}, timeout=5)
    assert reset.ok and truth(sim) == []
    # Same seed, same first draw: the same SMSID again, and the RequestId is free again.
    assert send(sim)["SMSID"] == smsid
