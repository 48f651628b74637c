"""eSMS's checks on a send (tracker/simulator/validate.py), table by table and in their order.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md
(the fields), esms-api/bang-ma-loi.md (101 wrong keys, 108 phone format, 789 template not configured,
790 wrong ZNS template, 791 OAID or TempID missing, 799 OAID not added to the account).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.support import OAID, body, quiet_settings
from tracker.simulator.settings import SimSettings
from tracker.simulator.validate import MAX_REQUEST_ID, auth_ok, oa_added, text, truthy, validate_send


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({}, "100"),
        ({"ApiKey": ...}, "101"),
        ({"SecretKey": ""}, "101"),
        ({"ApiKey": 42}, "101"),
        ({"OAID": ...}, "791"),
        ({"TempID": ""}, "791"),
        ({"TempID": None}, "791"),
        ({"Phone": "12345"}, "108"),
        ({"Phone": ...}, "108"),
        ({"TempID": "abc"}, "789"),
        ({"Params": "Lan"}, "790"),
        ({"Params": ...}, "790"),
        ({"Params": ["Lan", 3]}, "790"),
        ({"Params": ["L" * 31]}, "790"),
        ({"TempID": 2056446}, "100"),
        ({"Phone": 84901888484}, "100"),
        ({"OrderId": ...}, "100"),
        ({"RequestId": "r" * 60}, "100"),
    ],
)
def test_each_code(overrides: dict[str, Any], code: str) -> None:
    """bang-ma-loi.md's code for each kind of bad request; numbers given for strings are read as
    their digits (tin-zalo-hanh-trinh.md types them as strings)."""
    verdict = validate_send(body(**overrides), quiet_settings())
    assert verdict.code == code
    assert (verdict.request is not None) == (code == "100")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"ApiKey": "", "OAID": "", "Phone": "1"}, "101"),
        ({"OAID": "", "Phone": "1", "TempID": "abc"}, "791"),
        ({"OAID": "other", "Phone": "1"}, "799"),
        ({"Phone": "1", "TempID": "abc"}, "108"),
        ({"TempID": "abc", "Params": "x"}, "789"),
    ],
)
def test_the_order_of_the_checks(overrides: dict[str, Any], code: str) -> None:
    """101, then 791, 799, 108, 789, 790: the first failing check answers."""
    assert validate_send(body(**overrides), quiet_settings(oa_ids={OAID})).code == code


def test_a_forced_code_answers_after_the_keys_are_checked() -> None:
    settings = quiet_settings(forced_codes={"0901888484": "143", "0901000100": "100"})
    assert validate_send(body(), settings).code == "143"
    assert validate_send(body(ApiKey=""), settings).code == "101"
    assert validate_send(body(Phone="0901000100"), settings).code == "100"


def test_an_accepted_request_carries_the_parsed_fields() -> None:
    """tin-zalo-hanh-trinh.md's fields; a RequestId over 50 characters keeps its first 50 (no code
    documents it), the phone is kept as sent and as 0xxxxxxxxx."""
    payload = body(Phone="+84 90 188 8484", RequestId="r" * 60, IsJourney="1", Sandbox="true", campaignid=" tet ")
    request = validate_send(payload, quiet_settings()).request
    assert request is not None
    assert (request.phone, request.local_phone) == ("+84 90 188 8484", "0901888484")
    assert request.request_id == "r" * MAX_REQUEST_ID and MAX_REQUEST_ID == 50
    assert request.is_journey and request.sandbox and request.campaign_id == "tet"
    assert (request.oa_id, request.template_id, request.order_id) == (OAID, "2056446", "J-1")
    assert request.params == ["Lan", "ORD-1"] and request.template.temp_id == "2056446"
    assert request.callback_url == "http://127.0.0.1:9/cb" and request.api_key == "key"
    plain = validate_send(body(IsJourney=..., OrderId=..., CallbackUrl=...), quiet_settings()).request
    assert plain is not None and not plain.is_journey and not plain.sandbox
    assert (plain.order_id, plain.callback_url) == ("", "")


@pytest.mark.parametrize(
    ("value", "read"), [(None, ""), (True, ""), (12, "12"), (1.5, "1.5"), ("  a ", "a"), ([1], ""), ({"a": 1}, "")]
)
def test_text_reads_a_json_scalar(value: Any, read: str) -> None:
    assert text(value) == read


@pytest.mark.parametrize(
    ("value", "read"),
    [(True, True), (False, False), ("1", True), ("true", True), ("Yes", True), (1, True), ("0", False),
     (0, False), ("", False), (None, False)],
)  # fmt: skip
def test_truthy_reads_is_journey_and_sandbox(value: Any, read: bool) -> None:
    """IsJourney is documented as a string, Sandbox as "0"/"1" (moi-truong-test-sandbox.md)."""
    assert truthy(value) is read


def test_auth_ok_takes_any_pair_unless_one_is_configured() -> None:
    """101 (bang-ma-loi.md): missing keys always; other keys only when the simulator has its own."""
    anything, fixed = SimSettings(), SimSettings(api_key="K", secret_key="S")
    assert auth_ok(anything, "a", "b") and not auth_ok(anything, "a", "") and not auth_ok(anything, None, "b")
    assert auth_ok(fixed, "K", "S") and not auth_ok(fixed, "K", "x") and not auth_ok(fixed, "x", "S")
    assert auth_ok(SimSettings(api_key="K"), "K", "anything")


def test_oa_added_to_the_account() -> None:
    """799 (bang-ma-loi.md) for an OAID not added, once the account lists its OAs."""
    assert oa_added(SimSettings(), "whatever")
    assert oa_added(SimSettings(oa_ids={OAID}), OAID) and not oa_added(SimSettings(oa_ids={OAID}), "other")
