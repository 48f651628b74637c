"""The webhook on both databases: storing, applying, ranking, conflicts, tokens, shared URL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support import CALLBACK_SAMPLES, JOURNEY_FIELDS, SECRET, WEBHOOK_TOKEN, callback_query, events, message
from tracker import tokens
from tracker.models import Message

SAMPLES = CALLBACK_SAMPLES.read_text().splitlines()


def url_for(message_id: int) -> str:
    return f"/webhooks/esms/{tokens.make(SECRET, message_id)}"


def cb(smsid: str, send_status: int, success: int = 0, failed: int = 0, **extra) -> str:
    price = "220.0000" if success else "0.0000"
    return callback_query(smsid, send_status, success, failed, **{"TotalPrice": price, **JOURNEY_FIELDS, **extra})


def test_sample_callbacks_each_apply_to_their_message(client, engine, make_message):
    want = {  # sample line -> (status, error_code, price)
        0: ("failed", "send_failed", "0.0000"),
        1: ("sent", None, "696987.0000"),
        2: ("failed", "-114", "0.0000"),
        3: ("delivered", None, "470.0000"),
        4: ("delivered", None, "60.0000"),
        5: ("delivered", None, "60.0000"),
        8: ("delivered", None, "2104.0000"),
    }
    # Lines 6 and 7 repeat the SMSIDs of lines 5 and 4: see the duplicate/conflict tests below.
    for i, (status, code, price) in want.items():
        query = SAMPLES[i].split("?", 1)[1]
        mid = make_message(request_id=f"r{i}")
        resp = client.get(f"{url_for(mid)}?{query}")
        assert resp.status_code == 200, (i, resp.json)
        assert resp.json["outcome"] == "applied"
        m = message(engine, mid)
        assert (m.status, m.error_code, str(m.price)) == (status, code, price), i
        assert m.smsid and m.smsid in query
        (ev,) = events(engine, mid)
        assert ev.kind == "callback" and ev.outcome == "applied" and ev.raw == query


def test_zalo_message_id_and_telco_kept(client, engine, make_message):
    mid = make_message()
    query = SAMPLES[8].split("?", 1)[1]
    client.get(f"{url_for(mid)}?{query}")
    m = message(engine, mid)
    assert m.zalo_msg_id == "416f53d0cf0ec7569e19"
    assert m.telco == "Zalo UID"
    assert m.final_at is not None and m.sent_at is not None


def test_realistic_sequence_then_duplicate(client, engine, make_message):
    mid = make_message(smsid="S1")
    outcomes = [
        client.get(f"{url_for(mid)}?{cb('S1', s, *sf)}").json["outcome"]
        for s, *sf in [(2,), (7,), (5, 1, 0), (5, 1, 0)]
    ]
    assert outcomes == ["applied", "applied", "applied", "duplicate"]
    assert message(engine, mid).status == "delivered"
    assert [e.outcome for e in events(engine, mid)] == outcomes


def test_out_of_order_never_regresses(client, engine, make_message):
    mid = make_message(smsid="S2")
    outcomes = [
        client.get(f"{url_for(mid)}?{cb('S2', s, *sf)}").json["outcome"]
        for s, *sf in [(7,), (2,), (5, 1, 0), (7,), (1,)]
    ]
    assert outcomes == ["applied", "stale", "applied", "stale", "stale"]
    assert message(engine, mid).status == "delivered"


def test_final_is_never_replaced_and_keeps_its_time_and_code(client, engine, make_message):
    mid = make_message(smsid="S3")
    failed = cb("S3", 5, 0, 1, error_info='{"error":-114,"message":"User is inactive"}')
    client.get(f"{url_for(mid)}?{failed}")
    before = message(engine, mid)
    resp = client.get(f"{url_for(mid)}?{cb('S3', 5, 1, 0)}")
    assert resp.json["outcome"] == "stale"
    after = message(engine, mid)
    assert (after.status, after.error_code, after.final_at) == ("failed", "-114", before.final_at)
    assert after.error_message == "User is inactive"


@pytest.mark.parametrize(
    "query",
    [
        "smsid=S4&sendstatus=5&sendsuccess=1&sendfailed=0",
        "SMSID=S4&SENDSTATUS=5&SENDSUCCESS=1&SENDFAILED=0",
        "SmsId=S4&SendStatus=5&SendSuccess=1&SendFailed=0",
    ],
)
def test_parameters_are_read_case_insensitively(client, engine, make_message, query):
    mid = make_message(smsid="S4")
    assert client.get(f"{url_for(mid)}?{query}").status_code == 200
    assert message(engine, mid).status == "delivered"


def test_post_form_and_json_are_accepted(client, engine, make_message):
    a, b = make_message(smsid="F1"), make_message(smsid="J1", request_id="rj")
    r1 = client.post(url_for(a), data={"SMSID": "F1", "SendStatus": "7"})
    r2 = client.post(url_for(b), json={"SMSID": "J1", "SendStatus": 5, "SendSuccess": 1, "SendFailed": 0})
    assert (r1.status_code, r2.status_code) == (200, 200)
    assert message(engine, a).status == "sent" and message(engine, b).status == "delivered"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # forged signature
        lambda t: t[:-3],  # truncated
        lambda t: "999999." + t.split(".")[1],  # another message's id with this signature
        lambda t: "nonsense",
    ],
)
def test_forged_or_unknown_token_is_404_and_stores_nothing(client, engine, make_message, mangle):
    mid = make_message(smsid="S5")
    resp = client.get(f"/webhooks/esms/{mangle(tokens.make(SECRET, mid))}?{cb('S5', 5, 1, 0)}")
    assert resp.status_code == 404
    assert message(engine, mid).status == "accepted"
    assert events(engine) == []


def test_callback_before_send_response_fills_the_smsid(client, engine, make_message):
    mid = make_message(status="sending", smsid=None)
    resp = client.get(f"{url_for(mid)}?{cb('EARLY', 2)}")
    assert resp.json["outcome"] == "applied"
    m = message(engine, mid)
    assert (m.status, m.smsid) == ("waiting", "EARLY")


def test_smsid_of_another_message_is_a_conflict_changing_neither(client, engine, make_message):
    a = make_message(smsid=None, status="sending")
    b = make_message(smsid="TAKEN", request_id="rb")
    resp = client.get(f"{url_for(a)}?{cb('TAKEN', 5, 1, 0)}")
    assert resp.status_code == 200 and resp.json["outcome"] == "conflict"
    assert (message(engine, a).status, message(engine, a).smsid) == ("sending", None)
    assert message(engine, b).status == "accepted"
    assert [e.outcome for e in events(engine, a)] == ["conflict"]


def test_smsid_different_from_the_messages_own_is_a_conflict(client, engine, make_message):
    mid = make_message(smsid="MINE")
    resp = client.get(f"{url_for(mid)}?{cb('OTHER', 5, 1, 0)}")
    assert resp.json["outcome"] == "conflict"
    assert message(engine, mid).status == "accepted"


@pytest.mark.parametrize(
    "query",
    [
        "SMSID=G1&SendStatus=banana",
        "SMSID=G1&SendStatus=3",
        "SMSID=G1",
        "SendStatus=99999999999999999999999",
        "%ff%fe=%00&SendStatus=",
    ],
)
def test_garbage_is_stored_as_invalid_with_a_4xx(client, engine, make_message, query):
    mid = make_message(smsid="G1")
    resp = client.get(f"{url_for(mid)}?{query}")
    assert resp.status_code == 400 and resp.json["outcome"] == "invalid"
    assert message(engine, mid).status == "accepted"
    (ev,) = events(engine, mid)
    assert ev.outcome == "invalid" and ev.raw == query


def test_shared_url_updates_a_known_smsid(client, engine, make_message):
    mid = make_message(smsid="K1")
    resp = client.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?{cb('K1', 5, 1, 0)}")
    assert resp.json["outcome"] == "applied"
    assert message(engine, mid).status == "delivered"


def test_shared_url_creates_an_external_message_for_an_unknown_smsid(client, engine):
    query = SAMPLES[4].split("?", 1)[1]
    resp = client.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?{query}")
    assert resp.status_code == 200
    with Session(engine) as s:
        (m,) = s.scalars(select(Message)).all()
    assert (m.source, m.status, m.smsid) == ("external", "delivered", "7d11c87a22934df390f73ec59d8defd6205")
    assert m.phone is None and m.recipient == "312158068343230" and m.oa_id == "4097311281936189049"
    # The same callback again is a duplicate, not a second message.
    assert client.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?{query}").json["outcome"] == "duplicate"
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1


def test_shared_url_without_smsid_is_kept_as_invalid(client, engine):
    resp = client.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?SendStatus=5&SendSuccess=1")
    assert resp.status_code == 400
    (ev,) = events(engine)
    assert (ev.message_id, ev.outcome) == (None, "invalid")


def test_raw_keeps_no_credentials(client, engine, make_message):
    mid = make_message(smsid="C1")
    client.get(f"{url_for(mid)}?SMSID=C1&SendStatus=7&ApiKey=LEAKED1&secretkey=LEAKED2")
    (ev,) = events(engine, mid)
    assert "LEAKED" not in ev.raw and "LEAKED" not in str(ev.data)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_final_callbacks_on_postgres_land_exactly_once(app, engine, make_message):
    for round_ in range(15):
        mid = make_message(smsid=f"R{round_}", request_id=f"race{round_}", status="sent")
        bodies = [cb(f"R{round_}", 5, 1, 0), cb(f"R{round_}", 5, 0, 1)] * 3
        barrier = threading.Barrier(len(bodies))
        results: list[str] = []

        def hit(query: str) -> None:
            client = app.test_client()
            barrier.wait()
            results.append(client.get(f"{url_for(mid)}?{query}").json["outcome"])

        threads = [threading.Thread(target=hit, args=(q,)) for q in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count("applied") == 1, results
        m = message(engine, mid)
        evs = events(engine, mid)
        winner = next(e for e in evs if e.outcome == "applied")
        assert m.status == winner.status and m.status in ("delivered", "failed")
        # Every loser is told the truth: the same final again is a duplicate, the other stale.
        for e in evs:
            if e.outcome != "applied":
                assert e.outcome == ("duplicate" if e.status == m.status else "stale"), (e.status, e.outcome)


def test_sample_repeats_are_duplicates_or_conflicts(client, engine, make_message):
    line = lambda i: SAMPLES[i].split("?", 1)[1]  # noqa: E731
    first = make_message(request_id="r5")
    assert client.get(f"{url_for(first)}?{line(5)}").json["outcome"] == "applied"
    assert client.get(f"{url_for(first)}?{line(6)}").json["outcome"] == "duplicate"
    # Line 7 carries line 4's SMSID: on another message's URL it is a conflict.
    owner, other = make_message(request_id="r4"), make_message(request_id="r7")
    client.get(f"{url_for(owner)}?{line(4)}")
    assert client.get(f"{url_for(other)}?{line(7)}").json["outcome"] == "conflict"
    assert message(engine, other).status == "accepted"
