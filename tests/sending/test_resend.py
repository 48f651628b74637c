"""POST /api/messages/<id>/resend: a new message linked to a failed one, in the same journey (issue 11)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support import OAID
from tracker.models import Message
from tracker.sending import resend


def count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Message))


@pytest.mark.parametrize("status,code", [("failed", "-118"), ("rejected", "790")])
def test_a_failed_or_rejected_message_is_resent_once(client, auth, engine, make_message, status, code):
    old = make_message(
        status=status,
        error_code=code,
        params=["Lan", "DH1"],
        order_id="J1",
        campaign_id="tết",
        request_id="first-try",
        smsid="SM1",
    )
    resp = client.post(f"/api/messages/{old}/resend", headers=auth)
    assert resp.status_code == 202, resp.json
    new = resp.json
    assert new["id"] != old and new["resent_from"] == old and new["status"] == "queued"
    assert (
        new["phone"],
        new["template_id"],
        new["oa_id"],
        new["params"],
        new["order_id"],
        new["campaign_id"],
        new["sandbox"],
    ) == ("+84901888484", "523194", OAID, ["Lan", "DH1"], "J1", "tết", False)
    assert new["request_id"] not in (None, "first-try") and len(new["request_id"]) <= 50
    assert new["smsid"] is None and new["error_code"] is None and new["attempts"] == 0
    # The same resend again (a client retrying) queues nothing more and returns the first.
    again = client.post(f"/api/messages/{old}/resend", headers=auth)
    assert again.status_code == 200 and again.json["id"] == new["id"]
    assert count(engine) == 2
    journey = client.get("/api/journeys/J1", headers=auth).json["messages"]
    assert [(m["id"], m["resent_from"]) for m in journey] == [(old, None), (new["id"], old)]
    assert client.get(f"/api/messages/{old}", headers=auth).json["resent_from"] is None


@pytest.mark.parametrize(
    "status", ["delivered", "queued", "sending", "accepted", "waiting", "sent", "pending_approval"]
)
def test_delivered_and_unfinished_messages_are_refused_409(client, auth, engine, make_message, status):
    old = make_message(status=status)
    resp = client.post(f"/api/messages/{old}/resend", headers=auth)
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "not_resendable" and status in resp.json["error"]["message"]
    assert count(engine) == 1


def test_a_message_with_nothing_left_to_send_is_refused(client, auth, make_message):
    purged = make_message(status="failed", phone=None, params=[])
    external = make_message(status="rejected", source="external", order_id=None, template_id=None)
    for mid in (purged, external):
        resp = client.post(f"/api/messages/{mid}/resend", headers=auth)
        assert resp.status_code == 409 and "lacks" in resp.json["error"]["message"]


def test_unknown_ids_and_no_token(client, auth, make_message):
    assert client.post("/api/messages/999999/resend", headers=auth).status_code == 404
    assert client.post(f"/api/messages/{2**63}/resend", headers=auth).json["error"]["code"] == "not_found"
    old = make_message(status="failed")
    assert client.post(f"/api/messages/{old}/resend").status_code == 401


def test_a_failed_resend_may_be_resent_in_turn(client, auth, engine, make_message):
    first = make_message(status="failed")
    second = client.post(f"/api/messages/{first}/resend", headers=auth).json["id"]
    with Session(engine) as s:
        s.get(Message, second).status = "failed"
        s.commit()
    third = client.post(f"/api/messages/{second}/resend", headers=auth)
    assert third.status_code == 202 and third.json["resent_from"] == second
    assert client.post(f"/api/messages/{first}/resend", headers=auth).json["id"] == second


def test_racing_resends_make_one_message(engine, settings, make_message):
    """Two requests at once: the unique link lets one insert, the other answers with it."""
    old = make_message(status="rejected")
    results, barrier = [], threading.Barrier(4)

    def one() -> None:
        barrier.wait()
        with Session(engine) as s:
            msg, created = resend.resend(s, settings, old)
            results.append((msg.id, created))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({mid for mid, _ in results}) == 1 and sum(created for _, created in results) == 1
    assert count(engine) == 2
