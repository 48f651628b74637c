"""When a delivered message reached the phone (tracker/worker/phone_time.py): which messages are
asked about, the phone time stored once with its event, a 160 asked again, and a message asked
again only after its period; against a scripted GetZaloMessageStatus, on both databases.

The whole path against the simulator over HTTP is in tests/worker/test_reconcile_queries.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import OAID, events, message
from tracker.db import utcnow
from tracker.esms import lookups
from tracker.sending.ratelimit import TokenBucket
from tracker.worker import phone_time


class Zalo:
    """GetZaloMessageStatus answering from ``script`` (one answer per call, the last one repeated)."""

    def __init__(self, *script: lookups.ZaloStatus):
        self.script, self.asked = list(script), []

    def __call__(self, client, oa_id, message_id):
        self.asked.append((oa_id, message_id))
        return self.script[min(len(self.asked), len(self.script)) - 1]


class Bucket(TokenBucket):
    def __init__(self):
        super().__init__(0)
        self.taken = 0

    def acquire(self, *args, **kwargs):
        self.taken += 1


AT = utcnow().replace(microsecond=0) - timedelta(seconds=30)
ON_PHONE = lookups.ZaloStatus(ok=True, code="100", status=1, delivered_at=AT, raw={"status": 1})
ON_SERVER = lookups.ZaloStatus(ok=True, code="100", status=0)
TPS = lookups.ZaloStatus(ok=False, code=phone_time.TPS_EXCEEDED)


@pytest.fixture
def delivered(make_message):
    """Delivered messages, each with an SMSID of its own (S1 the first) and Zalo id Z1 unless told."""
    made = []

    def make(**fields) -> int:
        made.append(None)
        return make_message(**{"status": "delivered", "smsid": f"S{len(made)}", "zalo_msg_id": "Z1", **fields})

    return make


def _run(engine, settings, zalo, monkeypatch, *, after=60.0, limit=100, now=None, bucket=None):
    monkeypatch.setattr(lookups, "get_zalo_message_status", zalo)
    counted: list[str] = []
    phone_time.record_phone_times(
        engine, settings, object(), bucket or Bucket(), now or utcnow(), after=after, limit=limit, count=counted.append
    )
    return counted


def test_the_phone_time_is_stored_with_an_event(engine, settings, delivered, monkeypatch):
    mid = delivered()
    zalo = Zalo(ON_PHONE)
    assert _run(engine, settings, zalo, monkeypatch) == ["query", "recorded"]
    assert zalo.asked == [(OAID, "Z1")]
    m = message(engine, mid)
    assert m.delivered_to_phone_at == AT and m.status == "delivered"
    (ev,) = events(engine, mid)
    assert (ev.kind, ev.outcome, ev.status, ev.smsid) == ("reconcile", "applied", "delivered", "S1")
    assert ev.data["api"] == "GetZaloMessageStatus" and ev.data["zalo_status"] == 1
    assert ev.data["delivered_to_phone_at"]


def test_only_delivered_messages_with_a_zalo_id_an_oa_and_no_phone_time_are_asked(
    engine, settings, delivered, monkeypatch
):
    asked = delivered(zalo_msg_id="Z-ASK")
    delivered(zalo_msg_id=None)
    delivered(oa_id=None)
    delivered(status="sent")
    delivered(sandbox=True)
    delivered(delivered_to_phone_at=AT)
    delivered(created_at=utcnow() - timedelta(seconds=settings.reconcile_horizon + 60))  # past the horizon
    zalo = Zalo(ON_SERVER)
    _run(engine, settings, zalo, monkeypatch)
    assert zalo.asked == [(OAID, "Z-ASK")] and message(engine, asked).reconciled_at is not None


def test_not_yet_on_the_phone_is_asked_again_only_after_the_period(engine, settings, delivered, monkeypatch):
    mid = delivered()
    zalo = Zalo(ON_SERVER, ON_PHONE)
    assert _run(engine, settings, zalo, monkeypatch) == ["query"]
    assert message(engine, mid).delivered_to_phone_at is None and events(engine, mid) == []
    assert _run(engine, settings, zalo, monkeypatch) == []  # asked within the period: not again
    later = utcnow() + timedelta(seconds=61)
    assert _run(engine, settings, zalo, monkeypatch, now=later) == ["query", "recorded"]
    assert message(engine, mid).delivered_to_phone_at == AT


def test_a_160_is_asked_once_more_after_a_beat(engine, settings, delivered, monkeypatch):
    mid = delivered()
    zalo, bucket = Zalo(TPS, ON_PHONE), Bucket()
    assert _run(engine, settings, zalo, monkeypatch, bucket=bucket) == ["query", "recorded"]
    assert len(zalo.asked) == 2 and bucket.taken == 3  # one per request, one more for the beat
    assert message(engine, mid).delivered_to_phone_at == AT


def test_a_160_twice_gives_up_until_the_next_period(engine, settings, delivered, monkeypatch):
    mid = delivered()
    zalo = Zalo(TPS)
    assert _run(engine, settings, zalo, monkeypatch) == ["query"]
    assert len(zalo.asked) == 2 and message(engine, mid).delivered_to_phone_at is None


@pytest.mark.parametrize(
    "answer",
    [
        lookups.ZaloStatus(ok=False, code="99", transport=True),
        lookups.ZaloStatus(ok=True, code="100", status=-1),
        lookups.ZaloStatus(ok=True, code="100", status=1, delivered_at=None),
    ],
)
def test_an_answer_without_a_phone_time_changes_nothing(engine, settings, delivered, monkeypatch, answer):
    mid = delivered()
    assert _run(engine, settings, Zalo(answer), monkeypatch) == ["query"]
    assert message(engine, mid).delivered_to_phone_at is None and events(engine, mid) == []


def test_a_pass_asks_at_most_its_limit_oldest_first(engine, settings, delivered, monkeypatch):
    now = utcnow()
    for i in range(5):
        delivered(zalo_msg_id=f"Z{i}", created_at=now - timedelta(minutes=10 - i))
    zalo = Zalo(ON_SERVER)
    _run(engine, settings, zalo, monkeypatch, limit=3)
    assert sorted(z for _, z in zalo.asked) == ["Z0", "Z1", "Z2"]


def test_a_stored_phone_time_is_never_overwritten(engine, delivered):
    mid = delivered(delivered_to_phone_at=AT)
    later = lookups.ZaloStatus(ok=True, code="100", status=1, delivered_at=AT + timedelta(minutes=5))
    d = phone_time._Delivered(mid, "S1", OAID, "Z1")
    assert phone_time._record(engine, d, later, utcnow()) is False
    assert message(engine, mid).delivered_to_phone_at == AT and events(engine, mid) == []
