"""What every endpoint of the fake eSMS uses (tracker/simulator/flask_util.py): its FakeEsms, the JSON
body, the credential check, a field, a message's current status.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/bang-ma-loi.md (101 wrong keys;
105 a message just sent cannot be queried yet), the Zalo status and template pages under
esms-api/ham-truy-xuat-va-dang-ky/ (SmsType 24 or 25).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request

from tests.simulator.support import body, quiet_settings
from tracker.simulator import flask_util
from tracker.simulator.app import create_simulator_app


@pytest.fixture
def app() -> Flask:
    return create_simulator_app(quiet_settings(api_key="K", secret_key="S"))


def test_fake_esms_is_the_apps(app: Flask) -> None:
    with app.app_context():
        assert flask_util.fake_esms() is app.extensions["simulator"]


@pytest.mark.parametrize(
    ("data", "content_type", "read"),
    [
        ('{"a": 1}', "application/json", {"a": 1}),
        ('{"a": 1}', "text/plain", {"a": 1}),
        ('{"a": 1}', "application/x-www-form-urlencoded", {"a": 1}),
        ("[1, 2]", "application/json", {}),
        ("not json", "application/json", {}),
        ("", None, {}),
    ],
)
def test_body_is_json_whatever_the_content_type(app: Flask, data: str, content_type: str | None, read: Any) -> None:
    """eSMS reads the body as JSON whatever Content-Type says; anything but an object is empty."""
    with app.test_request_context("/", method="POST", data=data, content_type=content_type):
        assert flask_util.body() == read


def test_authorized_checks_the_configured_keys(app: Flask) -> None:
    """101 (bang-ma-loi.md) unless ApiKey and SecretKey are the account's, in a body or query string."""
    with app.app_context():
        assert flask_util.authorized({"ApiKey": "K", "SecretKey": "S"})
        assert not flask_util.authorized({"ApiKey": "K", "SecretKey": "x"})
        assert not flask_util.authorized({})
    with app.test_request_context("/?ApiKey=K&SecretKey=S"):
        assert flask_util.authorized(request.args)


@pytest.mark.parametrize(
    ("value", "read"), [(" 24 ", "24"), (24, "24"), (None, ""), (True, ""), ([1], ""), ({"a": 1}, "")]
)
def test_field_is_a_trimmed_scalar(value: Any, read: str) -> None:
    assert flask_util.field({"SmsType": value}, "SmsType") == read
    assert flask_util.field({}, "SmsType") == ""


def test_the_zalo_sms_types() -> None:
    """QueryZnsStatus and GetTemplate: SmsType "24" (Zalo priority) or "25" (Zalo normal) only."""
    assert flask_util.ZALO_SMS_TYPES == {"24", "25"}


def test_reached_is_none_until_the_message_has_a_status() -> None:
    """bang-ma-loi.md 105: a message just sent cannot be queried at once; a sandbox one never."""
    app = create_simulator_app(quiet_settings(speed=100.0))
    fake = app.extensions["simulator"]
    smsid = fake.handle_send(body(CallbackUrl=...)).body["SMSID"]
    sandbox = fake.handle_send(body(CallbackUrl=..., Sandbox="1", RequestId="sb")).body["SMSID"]
    with app.app_context():
        assert flask_util.reached(smsid) is None
        message = fake.messages[smsid]
        message.created_mono -= message.plan.steps[0].offset + 0.001
        found = flask_util.reached(smsid)
        assert found is not None and found[0] is message and found[1].send_status == 2
        sandboxed = fake.messages[sandbox]
        sandboxed.created_mono -= 10_000
        assert flask_util.reached(sandbox) is None and flask_util.reached("unknown") is None
