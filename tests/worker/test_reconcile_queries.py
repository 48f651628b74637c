"""Reconciliation's status queries that fit the message (issue 11), on both databases, against the
simulator over real HTTP or a fake eSMS: the message's own SmsType for QueryZnsStatus and a
GetSendStatus fallback that a type mismatch never skips, FinalStatus, the phone time from
GetZaloMessageStatus, and the SMSID recovered through GetSmsSentData_V2 after a 124.

Documents (devesms/gitbook_esms_for_develop_v2, esms-api/ham-truy-xuat-va-dang-ky/):
ham-lay-thong-tin-trang-thai-zns-1.md, ham-kiem-tra-tin-nhan-theo-smsid.md,
ham-lay-thong-tin-trang-thai-zns.md, ham-kiem-tra-trang-thai-tin-nhan-theo-khoang-thoi-gian.md.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import OAID, SECRET
from tests.worker.test_reconcile import (
    DEAD_CALLBACK,
    OLD,
    FakeEsms,
    callback,
    events,
    message,
    send_to_sim,
    truth,
)
from tracker import tokens
from tracker.db import utcnow
from tracker.esms.client import StatusAnswer, make_client
from tracker.worker.reconcile import PASS_LIMIT, Reconciler


@pytest.fixture
def make_message(make_message):
    """Messages that have waited past TRACKER_RECONCILE_AFTER unless told otherwise."""

    def make(**fields) -> int:
        now = utcnow()
        return make_message(**{"template_id": "2056446", "created_at": now - OLD, "updated_at": now - OLD, **fields})

    return make


def test_a_delivered_message_records_when_it_reached_the_phone(engine, sim, sim_settings, make_message):
    """Issue 11: GetZaloMessageStatus (by OA and the Zalo message id a status answer named, 30/s)
    says when Zalo put a delivered message on the phone: delivered_to_phone_at, and an event."""
    with_url = send_to_sim(sim_settings, 8, with_callback_url=True)
    without_url = send_to_sim(sim_settings, 4, with_callback_url=False)
    ids = {smsid: make_message(smsid=smsid, status="accepted") for smsid in with_url + without_url}
    reconciler = Reconciler(engine, sim_settings, make_client(sim_settings))
    summary = reconciler.run_once()
    real = truth(sim)
    delivered = [smsid for smsid in ids if real[smsid]["outcome"] == "delivered"]
    assert delivered and summary.phone_times == summary.phone_queries == len(delivered)
    for smsid, mid in ids.items():
        m = message(engine, mid)
        if smsid not in delivered:
            assert m.delivered_to_phone_at is None
            continue
        assert m.zalo_msg_id and utcnow() - timedelta(minutes=1) < m.delivered_to_phone_at <= utcnow()
        assert m.to_dict()["delivered_to_phone_at"] is not None
        ev = events(engine, mid)[-1]
        assert (ev.kind, ev.status, ev.data["api"], ev.data["zalo_status"]) == (
            "reconcile",
            "delivered",
            "GetZaloMessageStatus",
            1,
        )
    # Known, it is not asked again.
    assert reconciler.run_once(after=0).phone_queries == 0


def test_type_mismatch_never_skips_get_send_status(engine, settings, make_message):
    """Issue 11: asked with another SmsType than the message's, QueryZnsStatus answers 854 ("no
    data"); GetSendStatus, which takes no type, still has its say. The message's own type (a
    callback's TypeId) is what QueryZnsStatus is asked with."""

    class TypeStrict(FakeEsms):
        asked: list = []

        def query_zns_status(self, smsid, sms_type="25"):
            self.asked.append((smsid, sms_type))
            if sms_type != "24":
                return StatusAnswer(ok=False, code="854", error="no data")
            return self.answer(smsid)

        def get_send_status(self, smsid):
            self.queried.append(smsid)
            return self.answer(smsid)

    journey = make_message(smsid="J27")
    priority = make_message(smsid="P24", sms_type="24")
    fake = TypeStrict(unknown_to_get_callback={"J27", "P24"})
    summary = Reconciler(engine, settings, fake).run_once()
    assert sorted(fake.asked) == [("J27", "25"), ("P24", "24")] and fake.queried == ["J27"]
    assert (summary.applied, summary.not_found) == (2, 0)
    assert message(engine, journey).status == message(engine, priority).status == "delivered"
    assert events(engine, journey)[0].data["api"] == "GetSendStatus"
    assert events(engine, priority)[0].data["api"] == "QueryZnsStatus"


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        (dict(send_status=5, send_failed=1, error_info="-114", final=False), "sent", None),
        (dict(send_status=5, send_success=1, final=False), "sent", None),
        (dict(send_status=5, error_info="0", final=True), "delivered", None),
        (dict(send_status=5, error_info="1001", final=True), "failed", "1001"),
        (dict(send_status=5, send_failed=1, error_info="-114", final=True), "failed", "-114"),
    ],
)
def test_final_status_decides_finality_where_present(engine, settings, make_message, answer, status, code):
    """Issue 11: QueryZnsStatus's FinalStatus (ham-lay-thong-tin-trang-thai-zns-1.md) is no longer
    dropped: 0 keeps the message short of final, 1 makes ErrorInfo the last word."""
    mid = make_message(smsid="F1")

    class Answers(FakeEsms):
        def query_zns_status(self, smsid, sms_type="25"):
            return StatusAnswer(ok=True, code="100", smsid=smsid, **answer)

    Reconciler(engine, settings, Answers(unknown_to_get_callback={"F1"})).run_once()
    m = message(engine, mid)
    assert (m.status, m.error_code) == (status, code)


def test_the_callbacks_typeid_is_kept_as_the_messages_sms_type(client, engine, make_message):
    mid = make_message(smsid="TY1")
    client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{callback('TY1', 7, TypeId=24)}")
    m = message(engine, mid)
    assert m.sms_type == "24" and m.to_dict()["sms_type"] == "24"
    other = make_message(smsid="TY2")
    client.get(f"/webhooks/esms/{tokens.make(SECRET, other)}?{callback('TY2', 7, TypeId=123456)}")
    assert message(engine, other).sms_type is None  # not an eSMS type


def _send(client, phone: str, request_id: str):
    return client.send_journey(
        phone=phone,
        params=["Lan"],
        order_id="L1",
        template_id="2056446",
        oa_id=OAID,
        request_id=request_id,
        callback_url=DEAD_CALLBACK,
    )


def test_an_smsid_lost_with_its_answer_is_found_and_the_message_reconciled(engine, sim, sim_settings, make_message):
    """Issue 11: a message accepted through a 124 on our own retry has no SMSID. GetSmsSentData_V2
    (ham-kiem-tra-trang-thai-tin-nhan-theo-khoang-thoi-gian.md) lists the sends of its time window;
    the one to its phone that no message of ours holds is its own, and the same pass asks about it."""
    client = make_client(sim_settings)
    known = _send(client, "0901000111", "known-1").smsid  # same phone, already someone's SMSID
    make_message(smsid=known, phone="+84901000111", request_id="known-1")
    _send(client, "0901000222", "other-1")  # another phone
    lost = _send(client, "0901000111", "lost-1")
    assert lost.outcome == "accepted" and _send(client, "0901000111", "lost-1").code == "124"
    now = utcnow()
    mid = make_message(
        smsid=None,
        phone="+84901000111",
        request_id="lost-1",
        created_at=now - timedelta(seconds=30),
        sent_at=now - timedelta(seconds=5),
        updated_at=now - timedelta(seconds=5),
    )
    summary = Reconciler(engine, sim_settings, client).run_once(after=1)
    assert summary.smsids_recovered == 1 and summary.recovery_queries >= 2
    m = message(engine, mid)
    assert m.smsid == lost.smsid and m.status == truth(sim)[lost.smsid]["outcome"]
    found, asked = events(engine, mid)[:2]
    assert (found.kind, found.smsid, found.data["api"], found.data["reason"]) == (
        "reconcile",
        lost.smsid,
        "GetSmsSentData_V2",
        "smsid recovered",
    )
    assert found.data["matched_by"] in ("request_id", "phone and time")
    assert asked.data["api"] == "GetCallback"


def test_phone_times_asked_per_pass_fit_one_interval_at_30_per_second(engine, settings):
    """GetZaloMessageStatus allows 30 requests/s (ham-lay-thong-tin-trang-thai-zns.md): a pass asks
    at most an interval's worth, so a backlog spreads over passes instead of stretching one."""
    assert Reconciler(engine, settings, FakeEsms())._phone_limit() == int(30 * settings.reconcile_interval)
    assert Reconciler(engine, settings, FakeEsms(), zalo_rate=0)._phone_limit() == PASS_LIMIT
