"""Reconciliation on both databases: asking eSMS (the simulator, or a counting fake), the horizon,
and the one exception to "a final never changes": a timeout is corrected by a real final."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker import tokens
from tracker.callbacks import apply
from tracker.db import utcnow
from tracker.esms import codes
from tracker.esms.client import GetCallbackResult, StatusAnswer
from tracker.models import Event, Message
from tracker.sending.ratelimit import PerKey, TokenBucket
from tracker.simulator import SimSettings, start_in_thread
from tracker.esms.client import make_client
from tracker.esms import lookups
from tracker.worker import recover
from tracker.worker.reconcile import Reconciler, time_out

from .conftest import OAID, ROOT, SECRET, replace_settings

DEAD_CALLBACK = "http://127.0.0.1:9/cb"
OLD = timedelta(hours=1)


@pytest.fixture
def make_message(make_message):
    """Messages that have waited past TRACKER_RECONCILE_AFTER unless told otherwise."""
    def make(**fields) -> int:
        now = utcnow()
        return make_message(**{"template_id": "2056446", "created_at": now - OLD, "updated_at": now - OLD,
                               **fields})
    return make


def message(engine, mid: int) -> Message:
    with Session(engine) as s:
        return s.get(Message, mid)


def events(engine, mid: int) -> list[Event]:
    with Session(engine) as s:
        return list(s.scalars(select(Event).where(Event.message_id == mid).order_by(Event.id)))


def callback(smsid: str, send_status: int, success: int = 0, failed: int = 0, **extra) -> str:
    return urlencode({"SMSID": smsid, "SendStatus": send_status, "SendSuccess": success,
                      "SendFailed": failed, **extra})


# -- the horizon, and correcting a timeout ------------------------------------------------


def test_horizon_times_out_only_open_messages_past_it(engine, settings, make_message):
    past = utcnow() - timedelta(seconds=settings.reconcile_horizon + 60)
    stuck = {s: make_message(status=s, smsid=f"H-{s}", created_at=past)
             for s in ("accepted", "pending_approval", "waiting", "sent")}
    no_smsid = make_message(status="accepted", smsid=None, created_at=past)
    untouched = {
        "young": make_message(status="sent", smsid="Y1"),
        "queued": make_message(status="queued", created_at=past),
        "sending": make_message(status="sending", created_at=past),
        "delivered": make_message(status="delivered", smsid="D1", created_at=past),
    }
    assert time_out(engine, settings) == 5
    for mid in [*stuck.values(), no_smsid]:
        m = message(engine, mid)
        assert (m.status, m.error_code) == ("failed", "timeout") and m.final_at is not None
        (ev,) = events(engine, mid)
        assert (ev.kind, ev.outcome, ev.status, ev.data["reason"]) == ("reconcile", "applied", "failed", "horizon")
    for name, mid in untouched.items():
        assert message(engine, mid).error_code is None, name
    assert time_out(engine, settings) == 0


@pytest.mark.parametrize(("query", "status", "code"), [
    (callback("T1", 5, 1, 0), "delivered", None),
    (callback("T1", 5, 0, 1, error_info='{"error":-118,"message":"gone"}'), "failed", "-118"),
    (callback("T1", 4), "rejected", codes.STATUS4),
])
def test_a_real_final_corrects_a_timeout(client, engine, settings, make_message, query, status, code):
    mid = make_message(status="sent", smsid="T1", created_at=utcnow() - timedelta(days=4))
    time_out(engine, settings)
    timed_out_at = message(engine, mid).final_at
    resp = client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{query}")
    assert resp.json["outcome"] == "applied"
    m = message(engine, mid)
    assert (m.status, m.error_code) == (status, code) and m.final_at > timed_out_at
    # Corrected once, it is an ordinary final: nothing replaces it any more.
    other = callback("T1", 5, 0, 1) if status == "delivered" else callback("T1", 5, 1, 0)
    assert client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{other}").json["outcome"] == "stale"
    assert message(engine, mid).status == status


@pytest.mark.parametrize(("status", "error_code"), [
    ("failed", "-114"), ("failed", "transport"), ("delivered", None), ("rejected", "789"),
])
def test_an_ordinary_final_still_never_changes(client, engine, make_message, status, error_code):
    final_at = utcnow() - timedelta(minutes=5)
    mid = make_message(status=status, smsid="N1", error_code=error_code, final_at=final_at)
    for query in (callback("N1", 5, 1, 0), callback("N1", 5, 0, 1), callback("N1", 4), callback("N1", 7)):
        client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{query}")
    m = message(engine, mid)
    assert (m.status, m.error_code, m.final_at) == (status, error_code, final_at)


def test_a_non_final_does_not_undo_a_timeout(client, engine, settings, make_message):
    mid = make_message(status="accepted", smsid="T2", created_at=utcnow() - timedelta(days=4))
    time_out(engine, settings)
    resp = client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{callback('T2', 7)}")
    assert resp.json["outcome"] == "stale"
    assert (message(engine, mid).status, message(engine, mid).error_code) == ("failed", "timeout")


def test_the_horizon_goes_through_the_status_rule(engine, make_message):
    """What time_out writes with: a row that reached a final (or a lower status) after it was chosen stays."""
    ids = {s: make_message(status=s, smsid=f"R-{s}")
           for s in ("queued", "sent", "delivered", "rejected")}
    timed_out = make_message(status="failed", smsid="R-t", error_code="timeout")
    now = utcnow()
    with engine.begin() as conn:
        moved = apply.change_status(conn, [*ids.values(), timed_out], "failed", now=now,
                                    among=("accepted", "pending_approval", "waiting", "sent"),
                                    error_code="timeout", error_message="late")
    assert [(mid, smsid) for mid, smsid in moved] == [(ids["sent"], "R-sent")]
    m = message(engine, ids["sent"])
    assert (m.status, m.error_code, m.error_message, m.final_at, m.due_at) == ("failed", "timeout", "late", now, None)
    for s in ("queued", "delivered", "rejected"):
        assert message(engine, ids[s]).status == s
    # A guess never replaces a guess (only a real final report replaces a timeout).
    assert message(engine, timed_out).updated_at < now


# -- asking the simulator ---------------------------------------------------------------


@pytest.fixture
def sim():
    running = start_in_thread(SimSettings(seed=11, speed=0.0, natural_duplicate_rate=0.0,
                                          natural_late_rate=0.0, delivered_rate=0.5, failed_rate=0.3,
                                          rejected_rate=0.2))
    yield running
    running.stop()


@pytest.fixture
def sim_settings(settings, sim):
    return replace_settings(settings, esms_base_url=sim.base_url, esms_status_url=sim.status_url,
                            esms_api_key="k", esms_secret_key="s", reconcile_after=60)


def send_to_sim(sim_settings, n: int, with_callback_url: bool) -> list[str]:
    client = make_client(sim_settings)
    smsids = []
    for i in range(n):
        result = client.send_journey(
            phone=f"09010{i:05d}", params=["Lan"], order_id=f"R{i}", template_id="2056446", oa_id=OAID,
            request_id=uuid.uuid4().hex, callback_url=DEAD_CALLBACK if with_callback_url else None)
        assert result.outcome == "accepted", result
        smsids.append(result.smsid)
    return smsids


def truth(sim) -> dict[str, dict]:
    return {m["smsid"]: m for m in requests.get(f"{sim.url}/_sim/messages", timeout=5).json()["messages"]}


def test_reconcile_brings_every_stuck_message_to_the_simulators_truth(engine, sim, sim_settings, make_message):
    with_url = send_to_sim(sim_settings, 12, with_callback_url=True)
    without_url = send_to_sim(sim_settings, 6, with_callback_url=False)
    ids = {smsid: make_message(smsid=smsid, status="accepted") for smsid in with_url + without_url}
    fresh = make_message(smsid=None, status="accepted")  # no SMSID: cannot be asked about
    summary = Reconciler(engine, sim_settings, make_client(sim_settings)).run_once()
    assert summary.candidates == 18 and summary.applied == 18
    assert summary.get_callback_requests == 1 and summary.status_queries == 6
    real = truth(sim)
    for smsid, mid in ids.items():
        m, want = message(engine, mid), real[smsid]
        assert m.status == want["outcome"], smsid
        if want["outcome"] != "delivered":
            assert m.error_code == want["error_code"]
        else:
            assert m.price is not None and m.price > Decimal(0)
        # A delivered one has a second event: GetZaloMessageStatus's phone time.
        ev = events(engine, mid)[0]
        assert len(events(engine, mid)) == (2 if want["outcome"] == "delivered" else 1)
        assert (ev.kind, ev.outcome) == ("reconcile", "applied")
        assert ev.data["api"] == ("GetCallback" if smsid in with_url else "QueryZnsStatus")
    assert events(engine, fresh) == []


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
            "reconcile", "delivered", "GetZaloMessageStatus", 1)
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


@pytest.mark.parametrize(("answer", "status", "code"), [
    (dict(send_status=5, send_failed=1, error_info="-114", final=False), "sent", None),
    (dict(send_status=5, send_success=1, final=False), "sent", None),
    (dict(send_status=5, error_info="0", final=True), "delivered", None),
    (dict(send_status=5, error_info="1001", final=True), "failed", "1001"),
    (dict(send_status=5, send_failed=1, error_info="-114", final=True), "failed", "-114"),
])
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
    return client.send_journey(phone=phone, params=["Lan"], order_id="L1", template_id="2056446", oa_id=OAID,
                               request_id=request_id, callback_url=DEAD_CALLBACK)


def test_an_smsid_lost_with_its_answer_is_found_and_the_message_reconciled(engine, sim, sim_settings,
                                                                        make_message):
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
    mid = make_message(smsid=None, phone="+84901000111", request_id="lost-1", created_at=now - timedelta(seconds=30),
                       sent_at=now - timedelta(seconds=5), updated_at=now - timedelta(seconds=5))
    summary = Reconciler(engine, sim_settings, client).run_once(after=1)
    assert summary.smsids_recovered == 1 and summary.recovery_queries >= 2
    m = message(engine, mid)
    assert m.smsid == lost.smsid and m.status == truth(sim)[lost.smsid]["outcome"]
    found, asked = events(engine, mid)[:2]
    assert (found.kind, found.smsid, found.data["api"], found.data["reason"]) == (
        "reconcile", lost.smsid, "GetSmsSentData_V2", "smsid recovered")
    assert found.data["matched_by"] in ("request_id", "phone and time")
    assert asked.data["api"] == "GetCallback"


def test_the_window_looked_in_starts_at_the_first_send_attempt(engine, make_message):
    """A message may wait queued for hours (a paused account) before it is sent: its window runs
    from its first send attempt to its acceptance, not from its creation."""
    now = utcnow()
    mid = make_message(smsid=None, created_at=now - timedelta(hours=3), sent_at=now - timedelta(minutes=2),
                       updated_at=now - timedelta(minutes=2))
    with Session(engine) as s:
        for ago in (10, 5):
            s.add(Event(message_id=mid, kind="send", outcome="retry", created_at=now - timedelta(minutes=ago)))
        s.commit()
    (lost,) = recover._due(engine, now, after=60)
    assert lost.start == now - timedelta(minutes=10) - recover.SLACK
    assert lost.end == now - timedelta(minutes=2) + recover.SLACK
    assert recover._due(engine, now, after=60) == []  # asked: not again within the period


def test_a_send_is_given_to_a_message_only_beyond_doubt():
    """GetCallback's RequestId decides where eSMS kept one; else a send to the same phone in the
    window is taken only when it is the message's one candidate and no other message's."""
    at = utcnow()

    def lost(mid: int, request_id: str) -> recover._Lost:
        return recover._Lost(mid, "+84901000111", OAID, None, request_id, "accepted", at, at)

    def sent(smsid: str) -> lookups.SentRecord:
        return lookups.SentRecord(smsid, "0901000111", None, at, 5, "24")

    a, b, c = lost(1, "ra"), lost(2, "rb"), lost(3, "rc")
    s1, s2, s3 = sent("S1"), sent("S2"), sent("S3")
    # Named by RequestId: taken, even among several candidates.
    assert recover._choose([a, b], {1: [s1, s2], 2: [s1, s2]}, {"S1": "rb", "S2": "ra"}) == {
        1: ("S2", "request_id"), 2: ("S1", "request_id")}
    # No RequestIds kept: one candidate each, claimed by nobody else.
    assert recover._choose([a], {1: [s1]}, {}) == {1: ("S1", "phone and time")}
    # Two messages, two sends, nothing to tell them apart: neither is guessed.
    assert recover._choose([a, b], {1: [s1, s2], 2: [s1, s2]}, {}) == {}
    # A send eSMS names another RequestId for is not this message's.
    assert recover._choose([c], {3: [s3]}, {"S3": "someone-else"}) == {}
    # Named for one, the other send is the other's by elimination.
    assert recover._choose([a, b], {1: [s1, s2], 2: [s1, s2]}, {"S1": "ra"}) == {
        1: ("S1", "request_id"), 2: ("S2", "phone and time")}


def test_young_or_recently_asked_messages_are_left_alone(engine, sim, sim_settings, make_message):
    (smsid,) = send_to_sim(sim_settings, 1, with_callback_url=True)
    young = make_message(smsid=smsid, updated_at=utcnow(), request_id="young")
    reconciler = Reconciler(engine, sim_settings, make_client(sim_settings))
    assert reconciler.run_once().candidates == 0
    with engine.begin() as conn:
        conn.execute(update(Message).where(Message.id == young).values(
            updated_at=utcnow() - OLD, reconciled_at=utcnow() - timedelta(seconds=10)))
    assert reconciler.run_once().candidates == 0
    assert reconciler.run_once(after=0).candidates == 1


# -- batching and pacing, counted on a fake eSMS --------------------------------------


@dataclass
class FakeEsms:
    """Knows every SMSID as delivered, except those listed in ``unknown_to_get_callback``."""

    unknown_to_get_callback: set[str] = field(default_factory=set)
    batches: list[tuple[str, int]] = field(default_factory=list)
    queried: list[str] = field(default_factory=list)

    def answer(self, smsid: str) -> StatusAnswer:
        return StatusAnswer(ok=True, code="100", smsid=smsid, send_status=5, send_success=1, send_failed=0,
                            error_info='{"error":0,"message":"Success"}')

    def get_callbacks(self, smsids: list[str], oa_id: str) -> GetCallbackResult:
        assert len(smsids) <= 200
        self.batches.append((oa_id, len(smsids)))
        return GetCallbackResult(ok=True, code="100", answers=[
            self.answer(s) for s in smsids if s not in self.unknown_to_get_callback])

    def query_zns_status(self, smsid: str, sms_type: str = "25") -> StatusAnswer:
        self.queried.append(smsid)
        return self.answer(smsid)

    def get_send_status(self, smsid: str) -> StatusAnswer:
        return self.query_zns_status(smsid)


def test_get_callback_batches_hold_at_most_200_smsids_per_oa(engine, settings, make_message):
    for i in range(450):
        make_message(smsid=f"A{i}")
    for i in range(30):
        make_message(smsid=f"B{i}", oa_id="other-oa")
    fake = FakeEsms(unknown_to_get_callback={"A7", "B3"})
    summary = Reconciler(engine, settings, fake).run_once()
    assert sorted(fake.batches) == sorted([(OAID, 200), (OAID, 200), (OAID, 50), ("other-oa", 30)])
    assert sorted(fake.queried) == ["A7", "B3"]
    assert summary.applied == 480
    # Answers that change nothing write nothing: a second pass over the same (now final) rows is silent.
    assert Reconciler(engine, settings, fake).run_once(after=0).candidates == 0


def test_sandbox_messages_are_never_asked_about_nor_timed_out(engine, settings, make_message):
    """Issue 11: eSMS neither delivers nor keeps a sandbox send (moi-truong-test-sandbox.md), so it
    stays accepted: no status query, and no failed/timeout at the horizon."""
    past = utcnow() - timedelta(seconds=settings.reconcile_horizon + 60)
    sandbox = make_message(smsid="SB1", sandbox=True, created_at=past, updated_at=past)
    real = make_message(smsid="RL1")
    fake = FakeEsms(unknown_to_get_callback={"SB1", "RL1"})
    summary = Reconciler(engine, settings, fake).run_once()
    assert (summary.candidates, summary.timed_out) == (1, 0)
    assert fake.queried == ["RL1"] and fake.batches == [(OAID, 1)]
    m = message(engine, sandbox)
    assert (m.status, m.error_code, m.final_at) == ("accepted", None, None) and events(engine, sandbox) == []
    assert message(engine, real).status == "delivered"


def test_an_answer_that_changes_nothing_is_not_logged(engine, settings, make_message):
    mid = make_message(smsid="S7", status="sent")

    class Stuck(FakeEsms):
        def answer(self, smsid):
            return StatusAnswer(ok=True, code="100", smsid=smsid, send_status=7)

    summary = Reconciler(engine, settings, Stuck()).run_once()
    assert (summary.candidates, summary.applied, summary.unchanged) == (1, 0, 1)
    assert events(engine, mid) == []


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(("rate", "calls", "at_least", "at_most"), [
    (20, 20, 0.0, 0.0),     # one second's burst goes at once
    (20, 60, 2.0, 2.01),    # then 20 per second
    (100, 350, 2.5, 2.51),
])
def test_token_bucket_keeps_to_its_rate(rate, calls, at_least, at_most):
    clock = FakeClock()
    bucket = TokenBucket(rate, clock=clock, sleep=clock.sleep)
    for _ in range(calls):
        bucket.acquire()
    assert at_least <= clock.now <= at_most


def test_token_bucket_zero_is_unlimited_and_per_key_buckets_are_separate():
    assert TokenBucket(0).acquire() == 0.0
    limiter = PerKey(5)
    assert limiter.bucket("oa1") is limiter.bucket("oa1")
    assert limiter.bucket("oa1") is not limiter.bucket("oa2")


# -- the command ------------------------------------------------------------------------


def test_reconcile_command_prints_its_summary(engine, db_url, settings, sim, make_message, tmp_path):
    (smsid,) = send_to_sim(replace_settings(settings, esms_base_url=sim.base_url,
                                            esms_status_url=sim.status_url), 1, True)
    mid = make_message(smsid=smsid)
    env = {**os.environ, "DATABASE_URL": db_url, "TRACKER_SECRET_KEY": SECRET, "TRACKER_SIMULATOR": "1", "TRACKER_SIMULATOR_URL": sim.url,
           "TRACKER_INSTANCE_DIR": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-m", "tracker", "reconcile", "--after", "0"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"applied": 1' in done.stdout
    assert message(engine, mid).status == truth(sim)[smsid]["outcome"]


def test_phone_times_asked_per_pass_fit_one_interval_at_30_per_second(engine, settings):
    """GetZaloMessageStatus allows 30 requests/s (ham-lay-thong-tin-trang-thai-zns.md): a pass asks
    at most an interval's worth, so a backlog spreads over passes instead of stretching one."""
    from tracker.worker import reconcile
    assert Reconciler(engine, settings, FakeEsms())._phone_limit() == int(30 * settings.reconcile_interval)
    assert Reconciler(engine, settings, FakeEsms(), zalo_rate=0)._phone_limit() == reconcile.PASS_LIMIT
