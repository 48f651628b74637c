"""GetBalance_json and ZNS/GetQuota (tracker/esms/account_api.py): against the simulator over HTTP
(ham-lay-so-du-tai-khoan.md, lay-qouta-tin-zalo-theo-oaid.md), and against a scripted server for
the shapes the simulator does not make (a balance as a string, garbage, HTTP errors, no server)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.esms.support import API_KEY, SECRET_KEY, Reply
from tests.support import OAID
from tracker.esms import account_api
from tracker.esms.client import EsmsClient
from tracker.simulator import SimSettings, start_in_thread

# Long fake keys: the client remembers every key it is given to scrub log lines (tracker/esms/redact.py).
SIM_KEY, SIM_SECRET = "sim-key-account-readings", "sim-secret-account-readings"


@pytest.fixture
def sim():
    running = start_in_thread(
        SimSettings(
            seed=3,
            speed=0.0,
            api_key=SIM_KEY,
            secret_key=SIM_SECRET,
            balance=1_234_567.0,
            daily_quota=5000,
            oa_ids={OAID},
        )
    )
    yield running
    running.stop()


def sim_client(sim, key: str = SIM_KEY, secret: str = SIM_SECRET) -> EsmsClient:
    return EsmsClient(sim.base_url, sim.status_url, key, secret, timeout=5.0)


def test_balance_from_the_simulator(sim):
    answer = account_api.get_balance(sim_client(sim))
    assert answer.ok and answer.code == "100" and not answer.transport
    assert answer.balance == Decimal("1234567.00")
    assert answer.raw["UserID"] == 9999


def test_wrong_keys_are_101_not_a_zero_balance(sim):
    answer = account_api.get_balance(sim_client(sim, key="wrong-key-account-api"))
    assert not answer.ok and answer.code == "101" and answer.balance is None


def test_quota_from_the_simulator(sim):
    answer = account_api.get_quota(sim_client(sim), OAID)
    assert answer.ok and answer.code == "100"
    assert (answer.oa_id, answer.daily, answer.remaining) == (OAID, 5000, 5000)


def test_quota_of_an_oa_not_added_to_the_account_is_799(sim):
    answer = account_api.get_quota(sim_client(sim), "111")
    assert not answer.ok and answer.code == "799" and answer.daily is None


def test_the_documented_request_shapes(fake, client):
    fake.script(Reply({"Balance": 36693, "CodeResponse": "100", "UserID": 9999}))
    account_api.get_balance(client)
    assert fake.seen[-1].path == "/MainService.svc/json/GetBalance_json"
    assert fake.json() == {"ApiKey": API_KEY, "SecretKey": SECRET_KEY}
    fake.script(Reply({"CodeResult": "100", "DailyQuota": 5000, "RemainingQuota": 4992}))
    answer = account_api.get_quota(client, OAID)
    assert fake.seen[-1].path == "/MainService.svc/json/ZNS/GetQuota/"
    assert fake.json() == {"ApiKey": API_KEY, "SecretKey": SECRET_KEY, "OAID": OAID}
    assert (answer.daily, answer.remaining) == (5000, 4992)


@pytest.mark.parametrize(
    "body, balance",
    [
        ({"Balance": "36693", "CodeResponse": "100"}, Decimal("36693")),  # the page's table: a string
        ({"Balance": 36693.5, "CodeResponse": "100"}, Decimal("36693.5")),
        ({"balance": -2000, "coderesponse": "100"}, Decimal("-2000")),  # keys case-insensitively
    ],
)
def test_balance_shapes(fake, client, body, balance):
    fake.script(Reply(body))
    answer = account_api.get_balance(client)
    assert answer.ok and answer.balance == balance


@pytest.mark.parametrize(
    "reply, code, transport",
    [
        (Reply({"Balance": "lots", "CodeResponse": "100"}), "bad_response", False),
        (Reply({"Balance": True, "CodeResponse": "100"}), "bad_response", False),
        (Reply({"CodeResponse": "100"}), "bad_response", False),
        (Reply({"Balance": 0, "CodeResponse": "101", "ErrorMessage": "Authorize Failed"}), "101", False),
        (Reply("<html>busy</html>", status=503), "http_503", True),
        (Reply("not json"), "bad_response", True),
    ],
)
def test_balance_failures_are_answers(fake, client, reply, code, transport):
    fake.script(reply)
    answer = account_api.get_balance(client)
    assert not answer.ok and answer.balance is None
    assert (answer.code, answer.transport) == (code, transport)


@pytest.mark.parametrize(
    "body, code",
    [
        ({"CodeResult": "100", "DailyQuota": 5000}, "bad_response"),
        ({"CodeResult": "101", "ErrorMessage": "Authorize Failed"}, "101"),
    ],
)
def test_quota_failures_are_answers(fake, client, body, code):
    fake.script(Reply(body))
    answer = account_api.get_quota(client, OAID)
    assert not answer.ok and answer.code == code and answer.remaining is None


def test_no_server_is_a_transport_failure_with_no_key_in_it():
    client = EsmsClient("http://127.0.0.1:9/MainService.svc/json", "http://127.0.0.1:9", "KEY-zz", "SEC-zz", timeout=1)
    balance, quota = account_api.get_balance(client), account_api.get_quota(client, OAID)
    assert (balance.ok, balance.code, balance.transport) == (False, "connection", True)
    assert (quota.ok, quota.code, quota.transport) == (False, "connection", True)
    assert "KEY-zz" not in repr(balance) + repr(quota)
