"""The account behind the simulator (tracker/simulator/account.py): scripted error windows, balance,
the OA's daily quota, journey tokens, the TPS limiter.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/bang-ma-loi.md (the send
CodeResults a window may answer), esms-api/ham-truy-xuat-va-dang-ky/lay-qouta-tin-zalo-theo-oaid.md
(the daily quota; Zalo's -144 past it), esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md (a journey's
OrderId and token: Zalo's -148, -149, -1491, -150).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.simulator.support import (
    Receiver,
    body,
    configure_ok,
    decode_error_info,
    quiet_settings,
    send_with_callback,
    start,
    truth_of,
    wait_idle,
)
from tracker.simulator import wire
from tracker.simulator.account import SEND_CODES, Account, RateLimiter, Window, WindowError
from tracker.simulator.validate import SendRequest, validate_send

# 16:59:59 UTC is 23:59:59 in Vietnam; a second later it is the next Vietnam day.
LATE = datetime(2024, 4, 24, 16, 59, 59, tzinfo=UTC)
NEXT_DAY = datetime(2024, 4, 24, 17, 0, 0, tzinfo=UTC)


def request(**overrides: Any) -> SendRequest:
    verdict = validate_send(body(**overrides), quiet_settings())
    assert verdict.request is not None, verdict.code
    return verdict.request


def test_windows_take_only_the_documented_send_codes() -> None:
    """bang-ma-loi.md's codes for a send; not 100, nor a status-API code (105, 854), nor one it lacks."""
    assert {"101", "103", "124", "143", "789", "799"} <= SEND_CODES
    assert not SEND_CODES & {"100", "105", "125", "854"}
    account = Account()
    for spec in (
        {"code": "100", "sends": 1},
        {"code": "105", "sends": 1},
        {"code": "101"},
        {"code": "101", "sends": "x"},
    ):
        with pytest.raises(WindowError):
            account.add_window(spec)
    assert account.windows == []


def test_the_first_active_window_covering_the_oa_answers_and_counts_the_send() -> None:
    account = Account()
    one_oa = account.add_window({"code": "799", "oaid": "111", "sends": 1})
    every_oa = account.add_window({"code": "103", "seconds": 60})
    assert (one_oa.id, every_oa.id) == (1, 2)
    assert account.window_code("222") == "103"
    assert account.window_code("111") == "799"
    assert account.window_code("111") == "103"  # the one send of the first window is used up
    assert (one_oa.answered, one_oa.sends_left, every_oa.answered) == (1, 0, 2)
    assert [w["id"] for w in account.windows_view()] == [2]


def test_a_window_ends_at_its_time_or_its_last_send() -> None:
    now = time.monotonic()
    timed = Window(1, "101", None, until=now + 1.0, sends_left=None)
    assert timed.active(now) and not timed.active(now + 1.0)
    counted = Window(2, "101", None, until=None, sends_left=1)
    assert counted.active(now)
    counted.sends_left = 0
    assert not counted.active(now)
    assert timed.view(now + 0.25)["seconds_left"] == 0.75 and timed.view(now + 5)["seconds_left"] == 0.0
    account = Account()
    account.add_window({"code": "101", "seconds": 0})
    assert account.window_code("111") is None and account.windows == []


def test_the_balance_is_what_is_left_after_spending() -> None:
    account = Account()
    account.spent += 220.0
    assert account.balance(500.0) == 280.0


def test_the_quota_counts_per_oa_and_vietnam_day() -> None:
    """lay-qouta-tin-zalo-theo-oaid.md: a daily quota per OA; the day is Vietnam's (UTC+7)."""
    account = Account()
    assert account.quota_key("111", LATE) == ("111", "2024-04-24")
    assert account.quota_key("111", NEXT_DAY) == ("111", "2024-04-25")
    assert [account.count_quota("111", LATE) for _ in range(2)] == [1, 2]
    assert account.count_quota("111", NEXT_DAY) == 1 and account.count_quota("222", LATE) == 1


def test_zalo_refuses_past_the_quota_with_minus_144() -> None:
    account, settings = Account(), quiet_settings(daily_quota=1)
    assert account.zalo_refusal(request(), settings, LATE) is None
    assert account.zalo_refusal(request(), settings, LATE) == wire.DAILY_QUOTA_EXCEEDED == -144
    assert account.zalo_refusal(request(), settings, NEXT_DAY) is None


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"OrderId": ""}, -148),
        ({"TempID": "300001", "Params": ["DH1", "1000", "30/04/2024"]}, -1491),
        ({"IsJourney": False, "OrderId": "", "TempID": "300001", "Params": []}, None),
        ({}, None),
    ],
)
def test_journey_token_refusals(overrides: dict[str, Any], code: int | None) -> None:
    """tin-zalo-hanh-trinh.md: a journey needs its OrderId (else no token: -148) and a template
    registered as a journey one (else -1491); a message outside a journey needs neither."""
    assert Account().zalo_refusal(request(**overrides), quiet_settings(), LATE) == code


def test_a_journey_token_expires_after_journey_token_ttl() -> None:
    """-150 once the journey (OAID, phone, OrderId) is older than ``journey_token_ttl``; never without one."""
    account = Account()
    assert account.journey_age(("111", "0901888484", "J-1")) == 0.0
    account.journeys[("111", "0901888484", "J-1")] -= 10.0
    assert 10.0 <= account.journey_age(("111", "0901888484", "J-1")) < 11.0
    expiring, lasting = quiet_settings(journey_token_ttl=5.0), quiet_settings()
    req = request()
    assert account.zalo_refusal(req, expiring, LATE) is None  # the journey's first message
    account.journeys[(req.oa_id, req.local_phone, req.order_id)] -= 10.0
    assert account.zalo_refusal(req, lasting, LATE) is None
    assert account.zalo_refusal(req, expiring, LATE) == wire.JOURNEY_TOKEN_EXPIRED == -150
    assert account.zalo_refusal(request(OrderId="J-2"), expiring, LATE) is None


def test_the_rate_limiter_allows_so_many_a_second() -> None:
    """Sliding one-second window, like the TPS limits of eSMS's status APIs (160 above)."""
    limiter = RateLimiter(3)
    assert [limiter.allow() for _ in range(4)] == [True, True, True, False]
    limiter._times[0] -= 1.0
    assert limiter.allow() and not limiter.allow()


def test_journey_token_failures(receiver: Receiver) -> None:
    """tin-zalo-hanh-trinh.md: a journey needs its OrderId and a template registered at Zalo as a
    journey one. Zalo's codes (linked from ham-lay-thong-tin-trang-thai-zns-1.md): -148 token not
    found (no OrderId), -1491 token type not for this template, -150 token expired
    (``journey_token_ttl``), -149 invalid (on request); each a SendStatus 5, SendFailed=1 callback."""
    running = start(journey_token_ttl=0.0, failed_rate=0.0)
    try:
        configure_ok(running, forced_outcomes={"0901000149": "failed:-149"})
        plain = {"TempID": "300001", "Params": ["DH1", "1000", "30/04/2024"]}
        sends = {
            -148: send_with_callback(running, receiver.url, RequestId="a", OrderId=""),
            -1491: send_with_callback(running, receiver.url, RequestId="b", OrderId="J-9", **plain),
            0: send_with_callback(running, receiver.url, RequestId="c", OrderId="J-2"),
            -150: send_with_callback(running, receiver.url, RequestId="d", OrderId="J-2"),
            -149: send_with_callback(running, receiver.url, RequestId="e", Phone="0901000149"),
        }
        not_journey = send_with_callback(running, receiver.url, RequestId="f", IsJourney=False, OrderId=..., **plain)
        wait_idle(running)
        codes = {c["SMSID"]: decode_error_info(c["error_info"])[1]["error"] for c in receiver.parsed()}
        for code, answer in sends.items():
            assert answer["CodeResult"] == "100"
            assert codes[answer["SMSID"]] == code
        assert codes[not_journey["SMSID"]] not in (-148, -149, -1491, -150)
        assert truth_of(running, sends[-150]["SMSID"])["error_code"] == "-150"
    finally:
        running.stop()
