"""Finding the SMSID of a message eSMS accepted without naming it (tracker/worker/recover.py):
which messages are looked for and in what window, which listed send is whose, and the pass
that stores the SMSID, against a scripted GetSmsSentData_V2 and GetCallback, on both databases.

The whole path against the simulator over HTTP is in tests/worker/test_reconcile_queries.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.support import OAID, events, message
from tests.worker.test_reconcile import OLD
from tracker.db import utcnow
from tracker.esms import lookups
from tracker.esms.answers import GetCallbackResult, StatusAnswer
from tracker.models import Event, Message
from tracker.worker import recover


@pytest.fixture
def make_message(make_message):
    """Messages that have waited past TRACKER_RECONCILE_AFTER unless told otherwise."""

    def make(**fields) -> int:
        now = utcnow()
        return make_message(**{"template_id": "2056446", "created_at": now - OLD, "updated_at": now - OLD, **fields})

    return make


def test_the_window_looked_in_starts_at_the_first_send_attempt(engine, make_message):
    """A message may wait queued for hours (a paused account) before it is sent: its window runs
    from its first send attempt to its acceptance, not from its creation."""
    now = utcnow()
    mid = make_message(
        smsid=None,
        created_at=now - timedelta(hours=3),
        sent_at=now - timedelta(minutes=2),
        updated_at=now - timedelta(minutes=2),
    )
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
        1: ("S2", "request_id"),
        2: ("S1", "request_id"),
    }
    # No RequestIds kept: one candidate each, claimed by nobody else.
    assert recover._choose([a], {1: [s1]}, {}) == {1: ("S1", "phone and time")}
    # Two messages, two sends, nothing to tell them apart: neither is guessed.
    assert recover._choose([a, b], {1: [s1, s2], 2: [s1, s2]}, {}) == {}
    # A send eSMS names another RequestId for is not this message's.
    assert recover._choose([c], {3: [s3]}, {"S3": "someone-else"}) == {}
    # Named for one, the other send is the other's by elimination.
    assert recover._choose([a, b], {1: [s1, s2], 2: [s1, s2]}, {"S1": "ra"}) == {
        1: ("S1", "request_id"),
        2: ("S2", "phone and time"),
    }


def test_overlapping_windows_are_merged_so_each_send_is_listed_once():
    at = utcnow()

    def lost(start: int, end: int) -> recover._Lost:
        return recover._Lost(
            start,
            "+84901000111",
            OAID,
            None,
            None,
            "accepted",
            at + timedelta(minutes=start),
            at + timedelta(minutes=end),
        )

    assert recover._windows([lost(10, 20), lost(0, 5), lost(4, 8), lost(20, 25)]) == [
        (at, at + timedelta(minutes=8)),
        (at + timedelta(minutes=10), at + timedelta(minutes=25)),
    ]
    assert recover._windows([]) == []


def test_a_send_fits_a_message_by_phone_campaign_and_window():
    at = utcnow()
    m = recover._Lost(1, "+84901000111", OAID, "C1", None, "accepted", at, at + timedelta(minutes=5))

    def sent(phone="0901000111", campaign="C1", sent_at=at + timedelta(minutes=1)) -> lookups.SentRecord:
        return lookups.SentRecord("S", phone, campaign, sent_at, 5, "24")

    assert recover._fits(m, sent())
    assert recover._fits(m, sent(sent_at=None))  # no creation time listed: the phone decides
    assert not recover._fits(m, sent(phone="0901000222"))
    assert not recover._fits(m, sent(campaign="C2"))
    assert not recover._fits(m, sent(sent_at=at + timedelta(minutes=6)))
    no_campaign = recover._Lost(1, "+84901000111", OAID, None, None, "accepted", m.start, m.end)
    assert recover._fits(no_campaign, sent(campaign="C2"))  # a message without one takes any
    assert not recover._fits(recover._Lost(1, None, OAID, None, None, "accepted", m.start, m.end), sent())


def test_only_open_messages_without_an_smsid_that_have_waited_are_looked_for(engine, make_message):
    now = utcnow()
    wanted = make_message(smsid=None)
    make_message(smsid="HAS1")  # has its SMSID
    make_message(smsid=None, status="delivered")  # final
    make_message(smsid=None, sandbox=True)  # eSMS keeps no sandbox send
    make_message(smsid=None, updated_at=now)  # not waited long enough
    assert [m.id for m in recover._due(engine, now, after=60)] == [wanted]


class Esms:
    """GetSmsSentData_V2 listing ``sends`` (paged), GetCallback naming ``request_ids``."""

    def __init__(self, sends: list[lookups.SentRecord], request_ids: dict[str, str] | None = None):
        self.sends, self.request_ids = sends, request_ids or {}
        self.listed: list[tuple[str, int]] = []
        self.asked: list[tuple[tuple[str, ...], str]] = []

    def sent_data(self, client, sms_type, start, end, page=1, page_size=lookups.SENT_DATA_PAGE_SIZE):
        self.listed.append((sms_type, page))
        mine = [r for r in self.sends if r.sms_type == sms_type]
        return lookups.SentPage(
            ok=True, code="100", total=len(mine), records=mine[(page - 1) * page_size : page * page_size]
        )

    def get_callbacks(self, smsids, oa_id):
        self.asked.append((tuple(smsids), oa_id))
        return GetCallbackResult(
            ok=True,
            code="100",
            answers=[
                StatusAnswer(ok=True, code="100", smsid=s, raw={"RequestId": self.request_ids.get(s, "")})
                for s in smsids
            ],
        )


def _run(engine, settings, esms, monkeypatch, now=None):
    monkeypatch.setattr(lookups, "get_sms_sent_data", esms.sent_data)
    counted: list[str] = []
    recover.recover_smsids(
        engine, settings, esms, now or utcnow(), after=60, acquire=lambda: None, count=counted.append
    )
    return counted


def test_a_pass_stores_the_one_unclaimed_send_to_the_phone_and_logs_how(engine, settings, make_message, monkeypatch):
    mid = make_message(smsid=None, phone="+84901000111", request_id="r-1")
    make_message(smsid="HELD", phone="+84901000111")  # already another message's
    esms = Esms(
        [
            lookups.SentRecord("HELD", "0901000111", None, None, 5, "24"),
            lookups.SentRecord("OTHER", "0901000999", None, None, 5, "24"),
            lookups.SentRecord("MINE", "0901000111", None, None, 5, "25"),
        ]
    )
    counted = _run(engine, settings, esms, monkeypatch)
    assert sorted(esms.listed) == [("24", 1), ("25", 1)]  # both types read
    assert esms.asked == [(("MINE",), OAID)]
    assert counted.count("recovered") == 1 and counted.count("recovery_query") == 3
    m = message(engine, mid)
    assert m.smsid == "MINE" and m.reconciled_at is None  # the same pass goes on to ask about it
    (ev,) = events(engine, mid)
    assert (ev.kind, ev.smsid, ev.data) == (
        "reconcile",
        "MINE",
        {"api": "GetSmsSentData_V2", "reason": "smsid recovered", "matched_by": "phone and time"},
    )


def test_a_send_get_callback_names_for_another_request_is_left_alone(engine, settings, make_message, monkeypatch):
    mid = make_message(smsid=None, phone="+84901000111", request_id="r-1")
    esms = Esms([lookups.SentRecord("S1", "0901000111", None, None, 5, "24")], {"S1": "someone-else"})
    counted = _run(engine, settings, esms, monkeypatch)
    assert "recovered" not in counted
    assert message(engine, mid).smsid is None and events(engine, mid) == []


def test_a_window_is_read_page_by_page_up_to_its_total(engine, settings, make_message, monkeypatch):
    make_message(smsid=None, phone="+84901000111")
    sends = [lookups.SentRecord(f"S{i}", "0901000999", None, None, 5, "24") for i in range(3)]
    esms = Esms(sends)
    monkeypatch.setattr(lookups, "SENT_DATA_PAGE_SIZE", 1)
    esms_pages = esms.sent_data

    def one_per_page(client, sms_type, start, end, page=1, page_size=1):
        return esms_pages(client, sms_type, start, end, page=page, page_size=1)

    esms.sent_data = one_per_page
    _run(engine, settings, esms, monkeypatch)
    assert sorted(esms.listed) == [("24", 1), ("24", 2), ("24", 3), ("25", 1)]
    assert esms.asked == []  # nothing to that phone: GetCallback is not asked


def test_nothing_is_asked_when_no_message_lacks_its_smsid(engine, settings, make_message, monkeypatch):
    make_message(smsid="S1")
    esms = Esms([])
    assert _run(engine, settings, esms, monkeypatch) == []
    assert esms.listed == [] and esms.asked == []


def test_a_stored_smsid_is_never_overwritten(engine, make_message):
    now = utcnow()
    mid = make_message(smsid=None)
    (lost,) = recover._due(engine, now, after=60)
    with Session(engine) as s:
        s.get(Message, mid).smsid = "FROM-CALLBACK"
        s.commit()
    assert recover._store(engine, lost, "LISTED", "phone and time", now) is False
    assert message(engine, mid).smsid == "FROM-CALLBACK"
    assert events(engine, mid) == []
