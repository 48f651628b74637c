"""Every limit answers a clear 4xx, never a 500: bodies, params, field lengths, query values, page sizes."""

from __future__ import annotations

import json

import pytest

from tracker import create_app
from tracker.web.api import MAX_LIMIT
from tracker.schemas import MAX_PARAM_CHARS, MAX_PARAMS

from tests.support import make_settings

GOOD = {"phone": "0901888484", "template_id": "523194", "params": ["a"], "order_id": "DH1"}


def post(client, auth, body) -> tuple[int, dict]:
    resp = client.post("/api/messages", data=json.dumps(body), headers={**auth, "Content-Type": "application/json"})
    return resp.status_code, resp.json


@pytest.mark.parametrize("field,ok,too_long", [
    ("params", ["p"] * MAX_PARAMS, ["p"] * (MAX_PARAMS + 1)),
    ("params", ["x" * MAX_PARAM_CHARS], ["x" * (MAX_PARAM_CHARS + 1)]),
    ("template_id", "t" * 64, "t" * 65),
    ("oa_id", "o" * 64, "o" * 65),
    ("order_id", "d" * 128, "d" * 129),
    ("campaign_id", "c" * 254, "c" * 255),
    ("request_id", "r" * 50, "r" * 51),
    ("phone", "0901888484", "0" * 33),
])
def test_each_field_limit_is_a_400_naming_the_field(client, auth, field, ok, too_long):
    status, _ = post(client, auth, {**GOOD, field: ok})
    assert status == 202
    status, body = post(client, auth, {**GOOD, field: too_long})
    assert status == 400 and body["error"]["code"] == "invalid_fields"
    assert any(name.split("[")[0] == field for name in body["error"]["fields"])


@pytest.mark.parametrize("field,value", [
    ("order_id", "DH\x001"), ("template_id", "\x00"), ("params", ["ok", "a\x00b"]), ("request_id", "r\x00"),
    ("campaign_id", "c\x00"), ("oa_id", "\x00"), ("params", ["\ud800"]), ("phone", "\x00"),
])
def test_nul_and_broken_unicode_are_400_on_every_database(client, auth, field, value):
    status, body = post(client, auth, {**GOOD, field: value})
    assert status == 400 and body["error"]["code"] == "invalid_fields"


@pytest.mark.parametrize("body", [
    "[]", "null", "1", '"x"', "{", '{"phone": ' * 2000, "\ufeff{}", '{"params": [' + "[" * 5000 + "]" * 5000 + "]}",
])
def test_junk_json_is_400(client, auth, body):
    resp = client.post("/api/messages", data=body, headers={**auth, "Content-Type": "application/json"})
    assert resp.status_code == 400


def test_body_over_the_limit_is_413_before_parsing(db_url, engine, tmp_path, auth):
    app = create_app(make_settings(db_url, tmp_path, TRACKER_MAX_BODY="4096"), engine=engine)
    resp = app.test_client().post("/api/messages", data=json.dumps({**GOOD, "params": ["x" * 1000] * 5}),
                                  headers={**auth, "Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json["error"]["code"] == "request_entity_too_large"


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), (f"limit={MAX_LIMIT + 1}", "limit"), ("limit=-1", "limit"), ("limit=%C2%B2", "limit"),
    ("limit=" + "9" * 5000, "limit"), ("cursor=%C2%B2", "cursor"), ("cursor=" + "9" * 5000, "cursor"),
    ("cursor=99999999999999999999", "cursor"), ("cursor=-5", "cursor"),
    ("since=9999-12-31T23:59:59-14:00", "since"), ("until=0001-01-01T00:00:00%2B14:00", "until"),
    ("since=%00", "since"), ("order_id=a%00b", "order_id"), ("smsid=%00", "smsid"), ("status=%00", "status"),
    ("order_id=" + "x" * 1025, "order_id"), ("phone=" + "9" * 2000, "phone"), ("status=sent,bogus", "status"),
])
def test_bad_list_queries_are_400_naming_the_parameter(client, auth, query, field):
    resp = client.get(f"/api/messages?{query}", headers=auth)
    assert resp.status_code == 400, resp.json
    assert field in resp.json["error"]["fields"]


def test_largest_page_is_allowed(client, auth):
    assert client.get(f"/api/messages?limit={MAX_LIMIT}", headers=auth).status_code == 200


@pytest.mark.parametrize("path,status", [
    ("/api/messages/99999999999999999999", 404), ("/api/messages/9223372036854775807", 404),
    ("/api/messages/-1", 404), ("/api/journeys/a%00b", 400), ("/api/journeys/" + "x" * 3000, 404),
    ("/api/stats?since=0001-01-01T00:00:00%2B14:00", 400), ("/api/stats?until=%00", 400),
])
def test_odd_paths_are_4xx(client, auth, path, status):
    resp = client.get(path, headers=auth)
    assert resp.status_code == status and "error" in resp.json


def test_nul_in_a_dashboard_query_is_400_not_500(client):
    assert client.get("/messages?order_id=a%00b").status_code == 400
