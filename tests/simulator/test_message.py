"""One accepted message (tracker/simulator/message.py): its TypeId, its price, the status reached by now.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/callback-url.md (TypeId 27 in
the journey sample, 25 "Zalo normal"; the journey sample's TotalPrice=220.0000),
esms-api/ham-truy-xuat-va-dang-ky/ham-lay-thong-tin-trang-thai-zns-1.md (its sample's TotalPrice
330.0), and bang-ma-loi.md 105: a message just sent has no status yet.
"""

from __future__ import annotations

import time

from tests.simulator.support import body, quiet_settings
from tracker.simulator.message import (
    JOURNEY_PRICE,
    JOURNEY_TYPE_ID,
    ZNS_PRICE,
    ZNS_TYPE_ID,
    Message,
    price_of,
    type_id_of,
)
from tracker.simulator.plan import Plan, Step
from tracker.simulator.validate import SendRequest, validate_send


def request(**overrides: object) -> SendRequest:
    verdict = validate_send(body(**overrides), quiet_settings())
    assert verdict.request is not None
    return verdict.request


def step(offset: float, send_status: int) -> Step:
    return Step(offset, send_status, 0, 0, 0.0, 0, "", None, "")


def message(plan: Plan | None, age: float) -> Message:
    req = request()
    return Message("s", req, 27, 2, 220.0, "", time.monotonic() - age, plan)


def test_type_id_and_price_of_a_journey_and_of_a_plain_zns() -> None:
    assert (JOURNEY_TYPE_ID, ZNS_TYPE_ID, JOURNEY_PRICE, ZNS_PRICE) == (27, 25, 220.0, 330.0)
    journey, plain = request(), request(IsJourney=False)
    assert (type_id_of(journey), price_of(journey)) == (27, 220.0)
    assert (type_id_of(plain), price_of(plain)) == (25, 330.0)


def test_the_current_step_is_the_latest_one_reached() -> None:
    plan = Plan("delivered", 0, [step(1.0, 2), step(5.0, 7), step(60.0, 5)])
    assert message(plan, 0.0).current_step() is None
    assert message(plan, 2.0).current_step() is plan.steps[0]
    assert message(plan, 10.0).current_step() is plan.steps[1]
    assert message(plan, 61.0).current_step() is plan.steps[2]


def test_a_message_without_a_plan_has_no_status() -> None:
    """A sandbox send (moi-truong-test-sandbox.md) is not processed, so it never has one."""
    assert message(None, 100.0).current_step() is None
