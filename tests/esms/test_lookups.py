"""tracker.esms.lookups: the SmsType a message is asked about with, FinalStatus, and the two calls
GetZaloMessageStatus and GetSmsSentData_V2, against the simulator over real HTTP.

Documents (devesms/gitbook_esms_for_develop_v2, esms-api/ham-truy-xuat-va-dang-ky/):
ham-lay-thong-tin-trang-thai-zns-1.md (QueryZnsStatus: SmsType 24/25, FinalStatus),
ham-lay-thong-tin-trang-thai-zns.md (GetZaloMessageStatus),
ham-kiem-tra-trang-thai-tin-nhan-theo-khoang-thoi-gian.md (GetSmsSentData_V2).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.esms.support import API_KEY, SECRET_KEY, Reply
from tests.simulator.support import OAID, configure, quiet_settings, send
from tracker.esms import lookups
from tracker.esms.callback import parse_callback
from tracker.esms.client import EsmsClient
from tracker.simulator import start_in_thread
from tracker.simulator.server import RunningSimulator


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    running = start_in_thread(quiet_settings())
    yield running
    running.stop()


@pytest.fixture
def sim_client(sim: RunningSimulator) -> Iterator[EsmsClient]:
    c = EsmsClient(sim.base_url, sim.status_url, "key", "secret", timeout=5.0)
    yield c
    c.close()


@pytest.mark.parametrize(("kept", "asked"), [(None, "25"), ("27", "25"), ("26", "25"), ("24", "24"), ("25", "25")])
def test_query_sms_type_is_the_messages_own_where_queryznsstatus_takes_it(kept, asked):
    """QueryZnsStatus takes 24 or 25 only; a journey (TypeId 27, or not yet known) is asked as 25."""
    assert lookups.query_sms_type(kept) == asked


def _cb(send_status: int, success: int = 0, failed: int = 0, error_info: str | None = None):
    params = {"SMSID": "s", "SendStatus": send_status, "SendSuccess": success, "SendFailed": failed}
    return parse_callback({**params, **({"error_info": error_info} if error_info is not None else {})})


@pytest.mark.parametrize(
    ("cb", "final", "status"),
    [
        (_cb(5, 1), None, "delivered"),  # no FinalStatus (GetCallback, GetSendStatus): as mapped
        (_cb(5, 1), True, "delivered"),
        (_cb(5, 0, 1, "-114"), False, "sent"),  # counted, but eSMS says not final yet
        (_cb(4), False, "sent"),
        (_cb(5, 0, 0, "0"), True, "delivered"),  # final with no counter: ErrorInfo 0 is delivered
        (_cb(5, 0, 0, "1001"), True, "failed"),  # ... 1001 (not online in time) or a Zalo code failed
        (_cb(5, 0, 0, None), True, "sent"),  # ... and nothing to go on stays as it is
        (_cb(7), True, "sent"),
        (_cb(2), False, "waiting"),
    ],
)
def test_final_status_decides_finality_where_present(cb, final, status):
    assert lookups.settle(cb, final).status == status


def test_settled_failure_keeps_its_zalo_code():
    settled = lookups.settle(_cb(5, 0, 0, "1001"), True)
    assert (settled.error_code, settled.zalo_error) == ("1001", 1001)


def test_get_zalo_message_status_from_the_simulator(sim, sim_client):
    """status 1 with delivery_time (ms) once on the phone; -1 for another OA or an unknown id;
    851 (not ok) without MessageId."""
    configure(sim, forced_outcomes={"0901888484": "delivered"})
    smsid = send(sim)["SMSID"]
    zalo_id = sim_client.query_zns_status(smsid).zalo_msg_id
    assert zalo_id
    answer = lookups.get_zalo_message_status(sim_client, OAID, zalo_id)
    assert (answer.ok, answer.code, answer.status) == (True, "100", 1)
    assert answer.delivered_at is not None
    assert abs(answer.delivered_at - datetime.now(UTC)) < timedelta(minutes=1)
    other = lookups.get_zalo_message_status(sim_client, "other-oa", zalo_id)
    assert (other.ok, other.status, other.delivered_at) == (True, -1, None)
    assert lookups.get_zalo_message_status(sim_client, OAID, "").code == "851"


def test_get_sms_sent_data_from_the_simulator(sim, sim_client):
    """Sends of a window with their ReferenceId (the SMSID), phone and campaign, SentTime read from
    /Date(ms+0700)/; 105 is an empty window, 101 an error."""
    now = datetime.now(UTC)
    first = send(sim, RequestId="a", campaignid="tet")["SMSID"]
    second = send(sim, RequestId="b", Phone="0901000002")["SMSID"]
    page = lookups.get_sms_sent_data(sim_client, "25", now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert (page.ok, page.total) == (True, 2)
    got = {r.smsid: r for r in page.records}
    assert set(got) == {first, second}
    assert (got[first].phone, got[first].campaign, got[second].phone) == ("0901888484", "tet", "0901000002")
    assert got[first].sent_at is not None and abs(got[first].sent_at - now) < timedelta(minutes=1)
    paged = lookups.get_sms_sent_data(
        sim_client, "25", now - timedelta(minutes=1), now + timedelta(minutes=1), page=2, page_size=1
    )
    assert paged.total == 2 and len(paged.records) == 1
    empty = lookups.get_sms_sent_data(sim_client, "25", now - timedelta(hours=2), now - timedelta(hours=1))
    assert (empty.ok, empty.code, empty.records) == (True, "105", [])
    wrong = EsmsClient(sim.base_url, sim.status_url, "", "", timeout=5.0)
    assert lookups.get_sms_sent_data(wrong, "25", now, now).code == "101"


def test_the_request_bodies_and_a_transport_failure(fake, client):  # noqa: F811 (fixtures)
    """From/To go in Vietnam time (yyyy-MM-dd HH:mm:ss); keys never in the answer."""
    fake.script(Reply({"CodeResult": "100", "CountTotal": 0, "SentData": []}))
    start = datetime(2026, 11, 30, 17, 0, 5, tzinfo=UTC)
    lookups.get_sms_sent_data(client, "24", start, start + timedelta(hours=1))
    assert fake.seen[-1].path == "/MainService.svc/json/GetSmsSentData_V2"
    assert fake.json() == {
        "ApiKey": API_KEY,
        "SecretKey": SECRET_KEY,
        "SmsType": "24",
        "Page": 1,
        "PageSize": 500,
        "From": "2026-12-01 00:00:05",
        "To": "2026-12-01 01:00:05",
    }
    fake.script(
        Reply({"CodeResult": "100", "Data": {"status": 1, "delivery_time": "1767678030984"}, "ApiKey": API_KEY})
    )
    answer = lookups.get_zalo_message_status(client, "oa-1", "zmsg-1")
    assert fake.json() == {"ApiKey": API_KEY, "SecretKey": SECRET_KEY, "OAID": "oa-1", "MessageId": "zmsg-1"}
    assert answer.delivered_at == datetime(2026, 1, 6, 5, 40, 30, 984000, tzinfo=UTC)
    assert API_KEY not in repr(answer)
    fake.script(Reply("down", status=503))
    assert lookups.get_zalo_message_status(client, "oa-1", "zmsg-1").transport
    assert lookups.get_sms_sent_data(client, "24", start, start).transport
