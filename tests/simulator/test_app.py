"""The Flask app (tracker/simulator/app.py): eSMS's send endpoint over real HTTP, the index, the app factory.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md
(the journey send and its answers), esms-api/bang-ma-loi.md (CodeResult table). What happens to
an accepted send is tested in test_fake_esms.py, each check of the request in test_validate.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.simulator.support import OAID, SMSID_RE, body, quiet_settings, send, truth
from tracker.simulator import SimSettings, start_in_thread
from tracker.simulator.app import create_simulator_app
from tracker.simulator.fake_esms import FakeEsms
from tracker.simulator.server import RunningSimulator
from tracker.simulator.wire import BASE


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


def test_the_app_holds_a_fake_esms_with_the_settings_given() -> None:
    settings = quiet_settings(seed=99)
    app = create_simulator_app(settings)
    fake = app.extensions["simulator"]
    assert isinstance(fake, FakeEsms) and fake.settings is settings
    assert create_simulator_app().extensions["simulator"].settings == SimSettings()


def test_answers_keep_the_field_order_they_are_built_in() -> None:
    """eSMS's answers list their fields in the order of its samples (GetCallback: SendFailed,
    SendSuccess, SendStatus, ...), which is not alphabetical: the app does not sort keys. The send
    (tin-zalo-hanh-trinh.md, tab 100): CodeResult, CountRegenerate, SMSID."""
    client = create_simulator_app(quiet_settings()).test_client()
    assert client.get("/").get_data(as_text=True).startswith('{"service":"eSMS simulator","ESMS_BASE_URL":')
    accepted = client.post(f"{BASE}/SendZaloMessage_V4_post_json/", json=body())
    assert accepted.status_code == 200 and accepted.mimetype == "application/json"
    assert list(accepted.get_json()) == ["CodeResult", "CountRegenerate", "SMSID"]
    refused = client.post(f"{BASE}/SendZaloMessage_V4_post_json/", json=body(OAID=...))
    assert refused.get_data(as_text=True).startswith('{"CodeResult":"791","CountRegenerate":0,"ErrorMessage"')


def test_an_injected_5xx_is_a_bare_html_503() -> None:
    """No eSMS answer: HTTP 503 with an HTML body, as a proxy in front of eSMS would give."""
    client = create_simulator_app(quiet_settings(send_5xx_rate=1.0)).test_client()
    answer = client.post(f"{BASE}/SendZaloMessage_V4_post_json/", json=body())
    assert (answer.status_code, answer.mimetype) == (503, "text/html")
    assert "503" in answer.get_data(as_text=True)


def test_the_index_gives_the_urls_to_configure(sim: RunningSimulator) -> None:
    """ESMS_BASE_URL is eSMS's REST base path (rest.esms.vn/MainService.svc/json), ESMS_STATUS_URL the root."""
    index = requests.get(f"{sim.url}/", timeout=5).json()
    assert index == {
        "service": "eSMS simulator",
        "ESMS_BASE_URL": sim.url + "/MainService.svc/json",
        "ESMS_STATUS_URL": sim.url,
        "control": sim.url + "/_sim/",
    }


def test_the_send_path_takes_no_trailing_slash_too(sim: RunningSimulator) -> None:
    answer = requests.post(f"{sim.base_url}/SendZaloMessage_V4_post_json", json=body(), timeout=5)
    assert answer.status_code == 200 and answer.json()["CodeResult"] == "100"
