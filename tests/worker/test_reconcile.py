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

import pytest
import requests
from sqlalchemy import update

from tests.support import OAID, ROOT, SECRET, events, message, replace_settings
from tests.support import callback_query as callback
from tracker import tokens
from tracker.callbacks import apply
from tracker.db import utcnow
from tracker.esms import codes
from tracker.esms.client import GetCallbackResult, StatusAnswer, make_client
from tracker.models import Message
from tracker.sending.ratelimit import PerKey, TokenBucket
from tracker.worker.reconcile import Reconciler, time_out

DEAD_CALLBACK = "http://127.0.0.1:9/cb"
OLD = timedelta(hours=1)


@pytest.fixture
def make_message(make_message):
    """Messages that have waited past TRACKER_RECONCILE_AFTER unless told otherwise."""

    def make(**fields) -> int:
        now = utcnow()
        return make_message(**{"template_id": "2056446", "created_at": now - OLD, "updated_at": now - OLD, **fields})

    return make


# -- the horizon, and correcting a timeout ------------------------------------------------


def test_horizon_times_out_only_open_messages_past_it(engine, settings, make_message):
    past = utcnow() - timedelta(seconds=settings.reconcile_horizon + 60)
    stuck = {
        s: make_message(status=s, smsid=f"H-{s}", created_at=past)
        for s in ("accepted", "pending_approval", "waiting", "sent")
    }
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


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        (callback("T1", 5, 1, 0), "delivered", None),
        (callback("T1", 5, 0, 1, error_info='{"error":-118,"message":"gone"}'), "failed", "-118"),
        (callback("T1", 4), "rejected", codes.STATUS4),
    ],
)
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


@pytest.mark.parametrize(
    ("status", "error_code"),
    [
        ("failed", "-114"),
        ("failed", "transport"),
        ("delivered", None),
        ("rejected", "789"),
    ],
)
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
    ids = {s: make_message(status=s, smsid=f"R-{s}") for s in ("queued", "sent", "delivered", "rejected")}
    timed_out = make_message(status="failed", smsid="R-t", error_code="timeout")
    now = utcnow()
    with engine.begin() as conn:
        moved = apply.change_status(
            conn,
            [*ids.values(), timed_out],
            "failed",
            now=now,
            among=("accepted", "pending_approval", "waiting", "sent"),
            error_code="timeout",
            error_message="late",
        )
    assert [(mid, smsid) for mid, smsid in moved] == [(ids["sent"], "R-sent")]
    m = message(engine, ids["sent"])
    assert (m.status, m.error_code, m.error_message, m.final_at, m.due_at) == ("failed", "timeout", "late", now, None)
    for s in ("queued", "delivered", "rejected"):
        assert message(engine, ids[s]).status == s
    # A guess never replaces a guess (only a real final report replaces a timeout).
    assert message(engine, timed_out).updated_at < now


# -- asking the simulator ---------------------------------------------------------------


def send_to_sim(sim_settings, n: int, with_callback_url: bool) -> list[str]:
    client = make_client(sim_settings)
    smsids = []
    for i in range(n):
        result = client.send_journey(
            phone=f"09010{i:05d}",
            params=["Lan"],
            order_id=f"R{i}",
            template_id="2056446",
            oa_id=OAID,
            request_id=uuid.uuid4().hex,
            callback_url=DEAD_CALLBACK if with_callback_url else None,
        )
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


def test_young_or_recently_asked_messages_are_left_alone(engine, sim, sim_settings, make_message):
    (smsid,) = send_to_sim(sim_settings, 1, with_callback_url=True)
    young = make_message(smsid=smsid, updated_at=utcnow(), request_id="young")
    reconciler = Reconciler(engine, sim_settings, make_client(sim_settings))
    assert reconciler.run_once().candidates == 0
    with engine.begin() as conn:
        conn.execute(
            update(Message)
            .where(Message.id == young)
            .values(updated_at=utcnow() - OLD, reconciled_at=utcnow() - timedelta(seconds=10))
        )
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
        return StatusAnswer(
            ok=True,
            code="100",
            smsid=smsid,
            send_status=5,
            send_success=1,
            send_failed=0,
            error_info='{"error":0,"message":"Success"}',
        )

    def get_callbacks(self, smsids: list[str], oa_id: str) -> GetCallbackResult:
        assert len(smsids) <= 200
        self.batches.append((oa_id, len(smsids)))
        return GetCallbackResult(
            ok=True, code="100", answers=[self.answer(s) for s in smsids if s not in self.unknown_to_get_callback]
        )

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


@pytest.mark.parametrize(
    ("rate", "calls", "at_least", "at_most"),
    [
        (20, 20, 0.0, 0.0),  # one second's burst goes at once
        (20, 60, 2.0, 2.01),  # then 20 per second
        (100, 350, 2.5, 2.51),
    ],
)
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
    (smsid,) = send_to_sim(
        replace_settings(settings, esms_base_url=sim.base_url, esms_status_url=sim.status_url), 1, True
    )
    mid = make_message(smsid=smsid)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_SIMULATOR": "1",
        "TRACKER_SIMULATOR_URL": sim.url,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tracker", "reconcile", "--after", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert '"applied": 1' in done.stdout
    assert message(engine, mid).status == truth(sim)[smsid]["outcome"]
