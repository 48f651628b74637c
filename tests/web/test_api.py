"""/api/*: queueing, idempotency, validation, auth, reading, pagination, stats, OpenAPI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.support import OAID, make_settings
from tracker import create_app
from tracker.db import utcnow
from tracker.models import Event, Message

GOOD = {
    "phone": "+84 90 188 8484",
    "template_id": "523194",
    "params": ["Nguyễn Văn An", " DH1 ", "x"],
    "order_id": "DH1",
}


def test_post_queues_a_message_202(client, auth):
    resp = client.post("/api/messages", json=GOOD, headers=auth)
    assert resp.status_code == 202
    body = resp.json
    assert body["status"] == "queued" and body["phone"] == "+84901888484"
    assert body["params"] == ["Nguyễn Văn An", " DH1 ", "x"]  # as given, in order
    assert body["oa_id"] == OAID and body["source"] == "api" and len(body["request_id"]) <= 50
    for key in (
        "id",
        "smsid",
        "template_id",
        "order_id",
        "campaign_id",
        "sandbox",
        "error_code",
        "error_message",
        "price",
        "telco",
        "created_at",
        "sent_at",
        "final_at",
        "updated_at",
    ):
        assert key in body
    assert body["created_at"].endswith("Z")


@pytest.mark.parametrize("phone", ["0901888484", "84901888484", "+84 90 188 8484", "090-188-8484"])
def test_phone_forms_are_stored_as_e164(client, auth, phone):
    resp = client.post("/api/messages", json={**GOOD, "phone": phone}, headers=auth)
    assert resp.status_code == 202 and resp.json["phone"] == "+84901888484"


def test_same_request_id_returns_the_existing_message_200(client, auth, engine):
    first = client.post("/api/messages", json={**GOOD, "request_id": "order-1-shipped"}, headers=auth)
    again = client.post(
        "/api/messages", json={**GOOD, "request_id": "order-1-shipped", "phone": "0912345678"}, headers=auth
    )
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json["id"] == first.json["id"] and again.json["phone"] == "+84901888484"
    with Session(engine) as s:
        assert s.query(Message).count() == 1


@pytest.mark.parametrize(
    "body,field",
    [
        ({**GOOD, "phone": "12345"}, "phone"),
        ({**GOOD, "phone": "+14155552671"}, "phone"),
        ({k: v for k, v in GOOD.items() if k != "phone"}, "phone"),
        ({**GOOD, "params": "a,b"}, "params"),
        ({**GOOD, "params": ["a", 1]}, "params[1]"),
        ({**GOOD, "request_id": "x" * 51}, "request_id"),
        ({**GOOD, "order_id": ""}, "order_id"),
        ({k: v for k, v in GOOD.items() if k != "template_id"}, "template_id"),
        ({**GOOD, "sandbox": "yes"}, "sandbox"),
        ({**GOOD, "surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_400_with_the_field_named(client, auth, body, field):
    resp = client.post("/api/messages", json=body, headers=auth)
    assert resp.status_code == 400
    err = resp.json["error"]
    assert err["code"] == "invalid_fields" and field in err["fields"], err


def test_oa_id_required_without_esms_oaid(db_url, engine, tmp_path, auth):
    app = create_app(make_settings(db_url, tmp_path, ESMS_OAID=""), engine=engine)
    resp = app.test_client().post("/api/messages", json=GOOD, headers=auth)
    assert resp.status_code == 400 and "oa_id" in resp.json["error"]["fields"]


def test_not_json_is_400(client, auth):
    resp = client.post("/api/messages", data="phone=1", headers=auth)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dGVzdA==", "Bearer "])
def test_missing_or_wrong_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    for resp in (
        client.post("/api/messages", json=GOOD, headers=headers),
        client.get("/api/messages", headers=headers),
        client.get("/api/stats", headers=headers),
    ):
        assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"


def test_rotated_tokens_both_work(db_url, engine, tmp_path):
    app = create_app(make_settings(db_url, tmp_path, TRACKER_API_TOKENS="old-token, new-token"), engine=engine)
    c = app.test_client()
    for t in ("old-token", "new-token"):
        assert c.get("/api/messages", headers={"Authorization": f"Bearer {t}"}).status_code == 200


def test_body_over_the_limit_is_413(db_url, engine, tmp_path, auth):
    app = create_app(make_settings(db_url, tmp_path, TRACKER_MAX_BODY="2048"), engine=engine)
    resp = app.test_client().post("/api/messages", json={**GOOD, "params": ["x" * 900] * 3}, headers=auth)
    assert resp.status_code == 413 and resp.json["error"]["code"] == "request_entity_too_large"


def test_unknown_api_path_is_json_404(client, auth):
    resp = client.get("/api/nothing", headers=auth)
    assert resp.status_code == 404 and "error" in resp.json


def test_get_message_with_events(client, auth, engine):
    mid = client.post("/api/messages", json=GOOD, headers=auth).json["id"]
    with Session(engine) as s:
        s.add(
            Event(
                message_id=mid,
                kind="send",
                outcome="applied",
                status="accepted",
                data={"attempt": 1},
                raw="{}",
                created_at=utcnow(),
            )
        )
        s.commit()
    body = client.get(f"/api/messages/{mid}", headers=auth).json
    assert body["id"] == mid
    assert [(e["kind"], e["outcome"], e["status"]) for e in body["events"]] == [("send", "applied", "accepted")]
    assert client.get("/api/messages/999999", headers=auth).status_code == 404


@pytest.fixture
def many(engine):
    now = utcnow()
    with Session(engine) as s:
        for i in range(7):
            s.add(
                Message(
                    source="api",
                    status="delivered" if i % 2 else "failed",
                    phone="+84901888484",
                    smsid=f"SM{i}",
                    request_id=f"rq{i}",
                    template_id="T1" if i < 4 else "T2",
                    oa_id=OAID,
                    params=[],
                    order_id="J1" if i < 3 else f"J{i}",
                    campaign_id="C1",
                    sandbox=False,
                    attempts=1,
                    created_at=now - timedelta(minutes=10 - i),
                    updated_at=now,
                    sent_at=now - timedelta(minutes=10 - i),
                    final_at=now - timedelta(minutes=10 - i) + timedelta(seconds=i + 1),
                )
            )
        s.commit()


def test_list_is_newest_first_and_pages_by_cursor(client, auth, many):
    seen, cursor = [], None
    while True:
        resp = client.get(
            "/api/messages", query_string={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=auth
        )
        seen += [m["smsid"] for m in resp.json["items"]]
        cursor = resp.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"SM{i}" for i in reversed(range(7))]


@pytest.mark.parametrize(
    "query,want",
    [
        ({"smsid": "SM3"}, ["SM3"]),
        ({"order_id": "J1"}, ["SM2", "SM1", "SM0"]),
        ({"template_id": "T2", "status": "failed"}, ["SM6", "SM4"]),
        ({"status": "delivered,failed", "limit": 2}, ["SM6", "SM5"]),
        ({"phone": "0901888484", "campaign_id": "C1", "limit": 1}, ["SM6"]),
        ({"phone": "0901888484", "campaign_id": "C2"}, []),
    ],
)
def test_list_filters(client, auth, many, query, want):
    resp = client.get("/api/messages", query_string=query, headers=auth)
    assert [m["smsid"] for m in resp.json["items"]] == want


def test_list_time_range(client, auth, many):
    since = (utcnow() - timedelta(minutes=5, seconds=30)).isoformat()
    resp = client.get("/api/messages", query_string={"since": since}, headers=auth)
    assert [m["smsid"] for m in resp.json["items"]] == ["SM6", "SM5"]


@pytest.mark.parametrize(
    "query,field",
    [
        ({"status": "lost"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"cursor": "abc"}, "cursor"),
        ({"phone": "12"}, "phone"),
    ],
)
def test_list_bad_query_is_400(client, auth, query, field):
    resp = client.get("/api/messages", query_string=query, headers=auth)
    assert resp.status_code == 400 and field in resp.json["error"]["fields"]


def test_journey_in_send_order(client, auth, many):
    body = client.get("/api/journeys/J1", headers=auth).json
    assert body["order_id"] == "J1" and [m["smsid"] for m in body["messages"]] == ["SM0", "SM1", "SM2"]
    assert client.get("/api/journeys/none", headers=auth).status_code == 404


def test_stats_counts_rate_and_percentiles(client, auth, many):
    body = client.get("/api/stats", headers=auth).json
    assert body["total"] == 7 and body["by_status"]["delivered"] == 3 and body["by_status"]["failed"] == 4
    assert body["delivery_rate"] == round(3 / 7, 4)
    ttf = body["time_to_final_seconds"]
    # Durations are 1..7 seconds: the median is 4, p90 is 6.4 by linear interpolation.
    assert ttf["count"] == 7 and ttf["p50"] == pytest.approx(4, abs=0.01) and ttf["p90"] == pytest.approx(6.4, abs=0.01)


def test_openapi_needs_no_token_and_lists_every_path(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/api/messages",
        "/api/messages/{id}",
        "/api/messages/{id}/resend",
        "/api/journeys/{order_id}",
        "/api/stats",
        "/api/openapi.json",
    }
    assert "401" in doc["paths"]["/api/messages"]["post"]["responses"]
    rules = {
        r.rule.replace("<int:message_id>", "{id}").replace("<path:order_id>", "{order_id}")
        for r in client.application.url_map.iter_rules()
        if r.rule.startswith("/api")
    }
    assert rules == set(doc["paths"])


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json["database"] is True


def test_an_old_number_is_converted_and_the_given_form_is_in_the_events(client, auth):
    resp = client.post("/api/messages", json={**GOOD, "phone": "84 168 812 3456"}, headers=auth)
    assert resp.status_code == 202 and resp.json["phone"] == "+84388123456"
    events = client.get(f"/api/messages/{resp.json['id']}", headers=auth).json["events"]
    assert [(e["kind"], e["data"]["phone"]) for e in events] == [("queue", "84 168 812 3456")]
    listed = client.get("/api/messages", query_string={"phone": "01688123456"}, headers=auth).json["items"]
    assert [m["id"] for m in listed] == [resp.json["id"]]
