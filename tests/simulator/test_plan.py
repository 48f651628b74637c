"""Planning one accepted message (tracker/simulator/plan.py): its outcome, its statuses, its callbacks.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/callback-url.md (SendStatus
2 -> 7 -> 5, or 1|2 -> 4; one callback with the final status; the -114 sample: SendFailed=1,
TotalSent=0, empty partnerids), esms-api/ham-truy-xuat-va-dang-ky/ham-lay-thong-tin-trang-thai-zns-1.md
(1001: not online within the template's timeout).
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from tests.simulator.support import PARAM_ORDER, quiet_settings
from tracker.simulator import plan as planning
from tracker.simulator import wire
from tracker.simulator.plan import Context, Delivery, Plan, Step

ACCEPTED = datetime(2024, 4, 24, 9, 58, 1, tzinfo=UTC)


def context(echo: bool = True, form: str = "plain") -> Context:
    return Context(
        smsid="s" * 35, request_id="req-1", phone="0901888484", type_id=27, telco_id=2, oa_id="111",
        template_id="2056446", price=220.0, partner_id="p" * 20, user_id="u", echo_request_id=echo,
        form=form, accepted_at=ACCEPTED,
    )  # fmt: skip


def steps(outcome: str, code: int, seed: int = 1, **settings: object) -> list[Step]:
    return planning.build_steps(
        random.Random(seed), quiet_settings(**{"speed": 1.0, **settings}), context(), outcome, code
    )


@pytest.mark.parametrize(
    ("forced", "outcome", "code"),
    [("delivered", "delivered", 0), ("failed:-118", "failed", -118), ("failed:1001", "failed", 1001),
     ("rejected:-139", "rejected", -139), ("delivered:-114", "delivered", -114)],
)  # fmt: skip
def test_a_forced_outcome(forced: str, outcome: str, code: int) -> None:
    assert planning.choose_outcome(random.Random(1), quiet_settings(), forced) == (outcome, code)


def test_a_forced_failure_without_a_code_is_a_refusal_at_once_never_1001() -> None:
    """1001 takes the template's timeout (ham-lay-thong-tin-trang-thai-zns-1.md): only when named."""
    failed = {planning.choose_outcome(random.Random(seed), quiet_settings(), "failed")[1] for seed in range(300)}
    assert failed == {c for c, _ in wire.FAILED_REASONS} - {wire.NOT_ONLINE}
    rejected = {planning.choose_outcome(random.Random(seed), quiet_settings(), "rejected")[1] for seed in range(100)}
    assert rejected == {c for c, _ in wire.REJECTED_REASONS}


def test_the_drawn_outcome_follows_the_rates() -> None:
    """The natural mix: delivered, failed with a reason of FAILED_REASONS (1001 included), rejected
    only when its rate asks for it (no eSMS sample shows a SendStatus 4)."""

    def drawn(**rates: float) -> set[str]:
        return {planning.choose_outcome(random.Random(s), quiet_settings(**rates), None)[0] for s in range(200)}

    assert drawn() == {"delivered", "failed"}
    assert drawn(delivered_rate=0, failed_rate=0, rejected_rate=1) == {"rejected"}
    assert drawn(delivered_rate=0, failed_rate=0, rejected_rate=0) == {"delivered"}
    codes = {planning.choose_outcome(random.Random(s), quiet_settings(failed_rate=1, delivered_rate=0), None)[1]
             for s in range(300)}  # fmt: skip
    assert codes == {c for c, _ in wire.FAILED_REASONS}


def test_two_draws_whatever_the_outcome() -> None:
    """A seed gives the same later draws with or without forced outcomes."""
    forced, drawn = random.Random(3), random.Random(3)
    planning.choose_outcome(forced, quiet_settings(), "failed:-118")
    planning.choose_outcome(drawn, quiet_settings(), None)
    assert forced.random() == drawn.random()


def test_delivered_goes_2_7_5_and_the_final_step_carries_the_result() -> None:
    """callback-url.md: 2 waiting, 7 at the operator, 5 done with SendSuccess=1, TotalPrice, partnerids
    and error_info with Zalo's error 0; the query in the samples' parameter order."""
    planned = steps("delivered", 0)
    assert [s.send_status for s in planned] == [2, 7, 5]
    assert [s.final for s in planned] == [False, False, True]
    assert all(a.offset < b.offset for a, b in itertools.pairwise(planned))
    first, at_operator, final = planned
    assert (first.partner_id, first.error_info, first.total_price) == ("", None, 0.0)
    assert at_operator.partner_id == "p" * 20 and at_operator.send_success == 0
    assert (final.send_success, final.send_failed, final.total_price, final.total_sent) == (1, 0, 220.0, 1)
    assert final.error_info is not None and '"error":0' in final.error_info
    query = dict(parse_qsl(final.query, keep_blank_values=True))
    assert list(query)[: len(PARAM_ORDER)] == PARAM_ORDER and list(query)[-3:] == ["error_info", "oaid", "tempid"]
    assert (query["SendStatus"], query["TotalPrice"], query["RequestId"], query["partnerids"]) == (
        "5", "220.0000", "req-1", "p" * 20)  # fmt: skip


def test_a_zalo_refusal_is_a_5_with_send_failed_and_no_zalo_message() -> None:
    """callback-url.md's -114 sample: SendStatus=5, SendFailed=1, TotalPrice=0, TotalSent=0, partnerids empty."""
    final = steps("failed", -114)[-1]
    assert (final.send_status, final.send_failed, final.send_success) == (5, 1, 0)
    assert (final.total_price, final.total_sent, final.partner_id) == (0.0, 0, "")
    assert final.error_info is not None and '"error":-114' in final.error_info


def test_1001_comes_after_the_template_timeout_with_the_zalo_message() -> None:
    """ham-lay-thong-tin-trang-thai-zns-1.md: 1001, Zalo held the message until the timeout."""
    planned = steps("failed", wire.NOT_ONLINE, template_timeout=30.0)
    assert planned[-1].offset == 30.0 and planned[1].offset < 3.0
    assert (planned[-1].total_sent, planned[-1].partner_id, planned[-1].send_failed) == (1, "p" * 20, 1)


def test_a_rejection_goes_1_or_2_then_4() -> None:
    firsts = {steps("rejected", -139, seed=s)[0].send_status for s in range(20)}
    assert firsts == {1, 2}
    final = steps("rejected", -139)[-1]
    assert (final.send_status, final.final, final.send_failed, final.partner_id) == (4, True, 1, "")


def test_speed_scales_every_step_and_request_id_is_echoed_or_not() -> None:
    """callback-url.md's samples all have ``RequestId=`` empty; sometimes it is echoed."""
    assert [s.offset for s in steps("delivered", 0, speed=0.0)] == [0.0, 0.0, 0.0]
    silent = planning.build_steps(random.Random(1), quiet_settings(), context(echo=False), "delivered", 0)[-1]
    assert silent.request_id == "" and "&RequestId=&" in silent.query


def deliveries(
    outcome: str = "delivered", early: bool = False, **settings: object
) -> tuple[list[Step], list[Delivery]]:
    config = quiet_settings(**{"speed": 1.0, **settings})
    rng = random.Random(2)
    planned = planning.build_steps(rng, config, context(), outcome, 0 if outcome == "delivered" else -114)
    return planned, planning.build_deliveries(rng, config, planned, early)


def test_one_callback_with_the_final_status_unless_intermediate_ones_are_asked_for() -> None:
    """callback-url.md: eSMS calls back when the message has its final status."""
    planned, [only] = deliveries()
    assert (only.step, only.due, only.state) == (2, planned[2].offset, "pending")
    assert not (only.duplicate or only.late or only.dropped or only.early)
    planned, every = deliveries(intermediate_statuses=True)
    assert [d.step for d in every] == [0, 1, 2] and [d.due for d in every] == [s.offset for s in planned]
    plan = Plan("delivered", 0, planned, [only])
    assert plan.called_back(2) and not plan.called_back(0)


def test_duplicate_late_and_lost_callbacks() -> None:
    planned, [first, copy] = deliveries(duplicate_callback_rate=1.0)
    assert copy.duplicate and copy.step == first.step == 2 and copy.due > first.due
    planned, [late] = deliveries(reorder_rate=1.0)
    assert late.late and late.due >= planned[2].offset + 2.0
    _, overtaken = deliveries(reorder_rate=1.0, intermediate_statuses=True)
    assert [d.step for d in overtaken] in ([1, 0, 2], [0, 2, 1]) and sum(d.late for d in overtaken) == 1
    _, lost = deliveries(drop_callback_rate=1.0, duplicate_callback_rate=1.0)
    assert len(lost) == 2 and all(d.dropped for d in lost)


def test_an_early_callback_is_due_at_once_and_never_dropped() -> None:
    """The injected race: the final callback before the send's answer; its steps are reached at once."""
    planned, [early] = deliveries(early=True, drop_callback_rate=1.0)
    assert (early.early, early.dropped, early.due) == (True, False, 0.0)
    assert [s.offset for s in planned] == [0.0, 0.0, 0.0]


def test_intermediate_statuses_do_not_change_the_draws() -> None:
    after = []
    for intermediate in (False, True):
        config = quiet_settings(intermediate_statuses=intermediate)
        rng = random.Random(4)
        planning.build_deliveries(rng, config, planning.build_steps(rng, config, context(), "delivered", 0), False)
        after.append(rng.random())
    assert after[0] == after[1]
