"""The account readings (tracker/worker/readings.py) on both databases, against the simulator over HTTP:
the balance and each OA's quota stored, which OAs are asked about, and eSMS unreachable or refusing
leaving the previous reading in place with the failed ask recorded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.support import OAID, pointed_at, replace_settings
from tracker.db import utcnow
from tracker.esms.client import make_client
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker import readings
from tracker.worker.readings import BALANCE_KEY, MAX_OAS, QUOTA_PREFIX, Readings

# Long fake keys: the client remembers every key it is given to scrub log lines (tracker/esms/redact.py).
SIM_KEY, SIM_SECRET = "sim-key-account-readings", "sim-secret-account-readings"

OTHER_OA = "4097311281936180000"


@pytest.fixture
def sim():
    running = start_in_thread(
        SimSettings(seed=5, speed=0.0, api_key=SIM_KEY, secret_key=SIM_SECRET, balance=2_500_000.0, daily_quota=3000)
    )
    yield running
    running.stop()


@pytest.fixture
def sim_settings(settings, sim):
    return pointed_at(settings, sim, SIM_KEY, SIM_SECRET)


def by_key(engine) -> dict[str, readings.Reading]:
    return {r.key: r for r in readings.latest(engine)}


def test_a_pass_stores_the_balance_and_the_configured_oas_quota(engine, sim_settings):
    before = utcnow()
    assert Readings(engine, sim_settings, make_client(sim_settings)).run_once() == 2
    found = readings.latest(engine)
    assert [r.key for r in found] == [BALANCE_KEY, QUOTA_PREFIX + OAID]
    balance, quota = found
    assert balance.balance == Decimal("2500000") and balance.error is None and balance.oa_id is None
    assert balance.read_at >= before and balance.checked_at == balance.read_at
    assert (quota.oa_id, quota.daily_quota, quota.remaining_quota, quota.error) == (OAID, 3000, 3000, None)


def test_the_oas_of_recent_messages_are_asked_about_too(engine, sim_settings, make_message):
    make_message(oa_id=OTHER_OA)
    make_message(oa_id=None)
    make_message(oa_id="old-oa", created_at=utcnow() - timedelta(days=3))  # before the first look-back
    duty = Readings(engine, replace_settings(sim_settings, esms_oaid=None), make_client(sim_settings))
    assert duty.oas() == [OTHER_OA]
    duty.run_once()
    assert set(by_key(engine)) == {BALANCE_KEY, QUOTA_PREFIX + OTHER_OA}
    # A later pass looks only at messages since the last one, and keeps every OA already read.
    assert duty.oas() == [OTHER_OA]
    make_message(oa_id=OAID)
    assert duty.oas() == [OTHER_OA, OAID]


def test_at_most_max_oas(engine, sim_settings, make_message):
    for i in range(MAX_OAS + 5):
        make_message(oa_id=f"oa-{i:03d}")
    assert len(Readings(engine, sim_settings, make_client(sim_settings)).oas()) == MAX_OAS


def test_the_quota_goes_down_as_the_oa_sends(engine, sim_settings, sim):
    client = make_client(sim_settings)
    for i in range(3):
        result = client.send_journey(
            phone="0901888484",
            params=["An"],
            order_id=f"DH{i}",
            template_id="523194",
            oa_id=OAID,
            request_id=f"rq-{i}",
            callback_url=None,
        )
        assert result.outcome == "accepted", result
    Readings(engine, sim_settings, client).run_once()
    assert by_key(engine)[QUOTA_PREFIX + OAID].remaining_quota == 3000 - 3


def test_unreachable_esms_keeps_the_last_reading_and_records_the_failure(engine, sim_settings):
    Readings(engine, sim_settings, make_client(sim_settings)).run_once()
    first = by_key(engine)
    down = replace_settings(sim_settings, esms_base_url="http://127.0.0.1:9/MainService.svc/json", send_timeout=1.0)
    assert Readings(engine, down, make_client(down)).run_once() == 0
    now = by_key(engine)
    for key in (BALANCE_KEY, QUOTA_PREFIX + OAID):
        assert now[key].error == "connection"
        assert now[key].read_at == first[key].read_at and now[key].checked_at > first[key].checked_at
    assert now[BALANCE_KEY].balance == first[BALANCE_KEY].balance == Decimal("2500000")
    assert now[QUOTA_PREFIX + OAID].remaining_quota == 3000
    # eSMS back: a fresh reading, the error gone.
    Readings(engine, sim_settings, make_client(sim_settings)).run_once()
    assert by_key(engine)[BALANCE_KEY].error is None


def test_wrong_keys_before_any_reading_store_the_code_and_no_value(engine, sim_settings):
    wrong = replace_settings(sim_settings, esms_api_key="wrong-key-readings")
    assert Readings(engine, wrong, make_client(wrong)).run_once() == 0
    balance = by_key(engine)[BALANCE_KEY]
    assert (balance.balance, balance.read_at, balance.error) == (None, None, "101")


def test_an_oa_the_account_does_not_have_is_799(engine, sim_settings, sim):
    sim.fake.settings.oa_ids = {"someone-else"}
    Readings(engine, sim_settings, make_client(sim_settings)).run_once()
    quota = by_key(engine)[QUOTA_PREFIX + OAID]
    assert (quota.error, quota.remaining_quota) == ("799", None)
