"""FakeEsms (tracker/simulator/fake_esms.py): the send path and the state behind it.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md
(the answers of a send; RequestId blocked for 24 h: code 124), esms-api/bang-ma-loi.md (101, 103,
124 ...), esms-api/moi-truong-test-sandbox.md (Sandbox), esms-api/callback-url.md (the callback an
accepted message gets). The injected faults of a send (a late answer, an early callback) are here;
those of a callback's delivery are in test_callbacks.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.simulator.support import (
    SMSID_RE,
    Receiver,
    body,
    configure,
    post,
    quiet_settings,
    send,
    send_with_callback,
    start,
    truth,
    truth_of,
    wait_idle,
)
from tracker.simulator import SimSettings, start_in_thread
from tracker.simulator.fake_esms import FIRST_SMS_ID, SENDS_KEPT, FakeEsms
from tracker.simulator.server import RunningSimulator


@pytest.fixture
def fake() -> Iterator[FakeEsms]:
    """A FakeEsms without HTTP; the sends below carry no CallbackUrl unless they say so."""
    esms = FakeEsms(quiet_settings())
    yield esms
    esms.stop()


def accept(fake: FakeEsms, **overrides: object) -> str:
    outcome = fake.handle_send(body(CallbackUrl=..., **overrides))
    assert outcome.http_status == 200 and outcome.body is not None
    assert outcome.body["CodeResult"] == "100", outcome.body
    smsid: str = outcome.body["SMSID"]
    return smsid


def code_of(fake: FakeEsms, **overrides: object) -> str:
    outcome = fake.handle_send(body(CallbackUrl=..., **overrides))
    assert outcome.body is not None
    code: str = outcome.body["CodeResult"]
    return code


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


def test_an_accepted_send_is_stored_with_its_type_price_telco_and_numeric_id(fake: FakeEsms) -> None:
    """tin-zalo-hanh-trinh.md, tab 100: CodeResult, CountRegenerate 0, SMSID; the message then has
    callback-url.md's TypeId 27 (journey) or 25 (Zalo normal) and telcoid (2 Mobifone for 090),
    and GetSmsSentData_V2's numeric SmsId, counted up from its sample's."""
    outcome = fake.handle_send(body(CallbackUrl=...))
    assert outcome.http_status == 200 and outcome.body is not None
    assert list(outcome.body) == ["CodeResult", "CountRegenerate", "SMSID"]
    journey = fake.find(outcome.body["SMSID"])
    assert journey is not None and SMSID_RE.match(journey.smsid)
    assert (journey.type_id, journey.price, journey.telco_id, journey.sms_id) == (27, 220.0, 2, FIRST_SMS_ID)
    assert journey.request.order_id == "J-1" and journey.plan is not None
    zns = fake.find(accept(fake, RequestId="r2", IsJourney=False, Phone="0981000000"))
    assert zns is not None and (zns.type_id, zns.price, zns.telco_id, zns.sms_id) == (25, 330.0, 1, FIRST_SMS_ID + 1)
    assert [m.smsid for m in fake.stored()] == [journey.smsid, zns.smsid]


def test_an_error_answer_has_the_code_its_message_and_stores_nothing(fake: FakeEsms) -> None:
    """bang-ma-loi.md: every CodeResult but 100 comes with its ErrorMessage and no SMSID."""
    outcome = fake.handle_send(body(Phone="12345"))
    assert outcome.http_status == 200
    assert outcome.body == {"CodeResult": "108", "CountRegenerate": 0, "ErrorMessage": "Phone number is invalid"}
    assert fake.messages == {} and fake.stats_view()["sends"]["by_code"] == {"108": 1}


def test_a_request_id_blocks_repeats_only_for_request_id_ttl() -> None:
    """tin-zalo-hanh-trinh.md: a RequestId blocks repeats for 24 h (``request_id_ttl``), then frees."""
    fake = FakeEsms(quiet_settings())
    assert fake.settings.request_id_ttl == 86400.0
    assert [code_of(fake) for _ in range(2)] == ["100", "124"]
    fake.configure(quiet_settings(request_id_ttl=0.0))
    assert code_of(fake) == "100"
    assert fake.accept_counts[("key", "req-1")] == 2 and fake.repeat_counts[("key", "req-1")] == 1


def test_103_when_the_balance_cannot_pay_but_sandbox_sends_are_not_charged() -> None:
    """bang-ma-loi.md 103 (balance too low) against GetBalance_json's balance; a sandbox send
    (moi-truong-test-sandbox.md) is not charged, so it is accepted."""
    fake = FakeEsms(quiet_settings(balance=219.0))
    assert code_of(fake) == "103"
    assert code_of(fake, Sandbox="1") == "100"
    fake.configure(quiet_settings(balance=220.0, failed_rate=0.0))
    accept(fake)
    assert fake.account.balance(fake.settings.balance) == 0.0


def test_a_scripted_window_answers_before_validation_but_not_before_101(fake: FakeEsms) -> None:
    """A window's code (the control API's scripted account error) replaces the verdict, except
    bang-ma-loi.md's 101: wrong keys are refused first and do not use up the window."""
    fake.account.add_window({"code": "143", "sends": 2})
    assert code_of(fake, Phone="12345") == "143"
    assert code_of(fake, ApiKey=...) == "101"
    assert fake.account.windows[0].answered == 1
    assert code_of(fake) == "143"
    assert code_of(fake) == "100"


def test_sandbox_sends_are_kept_for_the_ground_truth_only(fake: FakeEsms) -> None:
    """moi-truong-test-sandbox.md: answered like a real send, not stored at eSMS: the status APIs
    (find, by_partner, stored) never see it, and it has no plan."""
    smsid = accept(fake, Sandbox="1")
    assert smsid in fake.messages and fake.messages[smsid].plan is None and fake.messages[smsid].sms_id == 0
    assert fake.find(smsid) is None and fake.stored() == [] and fake.by_partner_id == {}
    stats = fake.stats_view()
    assert stats["messages"] == 0 and stats["sends"]["sandbox"] == 1 and stats["sends"]["total"] == 1


def test_by_partner_finds_a_message_zalo_took_and_not_one_it_refused(fake: FakeEsms) -> None:
    """callback-url.md: partnerids is the Zalo message id; the -114 sample has none."""
    fake.configure(quiet_settings(forced_outcomes={"0901000001": "failed:-114"}))
    delivered = fake.find(accept(fake))
    refused = fake.find(accept(fake, RequestId="r2", Phone="0901000001"))
    assert delivered is not None and delivered.plan is not None and refused is not None and refused.plan is not None
    partner = delivered.plan.steps[-1].partner_id
    assert partner and fake.by_partner(partner) is delivered
    assert refused.plan.steps[-1].partner_id == "" and list(fake.by_partner_id.values()) == [delivered.smsid]
    assert fake.by_partner("0" * 20) is None


def test_a_forced_outcome_wins_over_zalos_refusal() -> None:
    """Past the daily quota Zalo refuses with -144 (lay-qouta-tin-zalo-theo-oaid.md), unless the
    phone's outcome is forced; the send is counted against the quota either way."""
    fake = FakeEsms(quiet_settings(daily_quota=0, failed_rate=0.0, forced_outcomes={"0901000001": "delivered"}))
    over = fake.find(accept(fake))
    forced = fake.find(accept(fake, RequestId="r2", Phone="0901000001"))
    assert over is not None and over.plan is not None and (over.plan.outcome, over.plan.zalo_code) == ("failed", -144)
    assert forced is not None and forced.plan is not None and forced.plan.outcome == "delivered"
    assert sum(fake.account.quota_used.values()) == 2


def test_stats_count_sends_by_code_and_planned_callbacks(fake: FakeEsms) -> None:
    fake.configure(quiet_settings(intermediate_statuses=True, forced_outcomes={"0901888484": "delivered"}))
    fake.handle_send(body(CallbackUrl="http://127.0.0.1:9/cb"))
    fake.handle_send(body(CallbackUrl="http://127.0.0.1:9/cb"))
    stats = fake.stats_view()
    assert stats["sends"] == {"total": 2, "by_code": {"100": 1, "124": 1}, "sandbox": 0}
    assert stats["messages"] == 1 and stats["callbacks"]["planned"] == 3
    assert [s["code"] for s in fake.sends] == ["100", "124"] and fake.sends[0]["order_id"] == "J-1"
    assert fake.sends.maxlen == SENDS_KEPT


def test_reset_forgets_everything_and_restores_the_first_settings_on_request() -> None:
    first = quiet_settings()
    fake = FakeEsms(first)
    smsid = accept(fake)
    fake.configure(quiet_settings(balance=1.0))
    fake.reset()
    assert fake.messages == {} and fake.request_ids == {} and fake.stats_view()["sends"]["total"] == 0
    assert fake.settings.balance == 1.0
    fake.reset(restore_settings=True)
    assert fake.settings is first
    # Re-seeded: the same first SMSID again.
    assert accept(fake) == smsid
