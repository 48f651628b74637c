"""Every limit answers a clear 4xx, never a 500: bodies, params, field lengths, query values, page sizes."""

from __future__ import annotations

import json
import re
from collections import Counter
from urllib.parse import quote

import pytest

from tests.support import make_settings
from tracker import create_app
from tracker.schemas import MAX_PARAM_CHARS, MAX_PARAMS
from tracker.web.api import MAX_LIMIT

GOOD = {"phone": "0901888484", "template_id": "523194", "params": ["a"], "order_id": "DH1"}


def post(client, auth, body) -> tuple[int, dict]:
    resp = client.post("/api/messages", data=json.dumps(body), headers={**auth, "Content-Type": "application/json"})
    return resp.status_code, resp.json


@pytest.mark.parametrize(
    "field,ok,too_long",
    [
        ("params", ["p"] * MAX_PARAMS, ["p"] * (MAX_PARAMS + 1)),
        ("params", ["x" * MAX_PARAM_CHARS], ["x" * (MAX_PARAM_CHARS + 1)]),
        ("template_id", "t" * 64, "t" * 65),
        ("oa_id", "o" * 64, "o" * 65),
        ("order_id", "d" * 128, "d" * 129),
        ("campaign_id", "c" * 254, "c" * 255),
        ("request_id", "r" * 50, "r" * 51),
        ("phone", "0901888484", "0" * 33),
    ],
)
def test_each_field_limit_is_a_400_naming_the_field(client, auth, field, ok, too_long):
    status, _ = post(client, auth, {**GOOD, field: ok})
    assert status == 202
    status, body = post(client, auth, {**GOOD, field: too_long})
    assert status == 400 and body["error"]["code"] == "invalid_fields"
    assert any(name.split("[")[0] == field for name in body["error"]["fields"])


@pytest.mark.parametrize(
    "field,value",
    [
        ("order_id", "DH\x001"),
        ("template_id", "\x00"),
        ("params", ["ok", "a\x00b"]),
        ("request_id", "r\x00"),
        ("campaign_id", "c\x00"),
        ("oa_id", "\x00"),
        ("params", ["\ud800"]),
        ("phone", "\x00"),
    ],
)
def test_nul_and_broken_unicode_are_400_on_every_database(client, auth, field, value):
    status, body = post(client, auth, {**GOOD, field: value})
    assert status == 400 and body["error"]["code"] == "invalid_fields"


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        "null",
        "1",
        '"x"',
        "{",
        '{"phone": ' * 2000,
        "\ufeff{}",
        '{"params": [' + "[" * 5000 + "]" * 5000 + "]}",
    ],
)
def test_junk_json_is_400(client, auth, body):
    resp = client.post("/api/messages", data=body, headers={**auth, "Content-Type": "application/json"})
    assert resp.status_code == 400


def test_body_over_the_limit_is_413_before_parsing(db_url, engine, tmp_path, auth):
    app = create_app(make_settings(db_url, tmp_path, TRACKER_MAX_BODY="4096"), engine=engine)
    resp = app.test_client().post(
        "/api/messages",
        data=json.dumps({**GOOD, "params": ["x" * 1000] * 5}),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert resp.status_code == 413 and resp.json["error"]["code"] == "request_entity_too_large"


@pytest.mark.parametrize(
    "query,field",
    [
        ("limit=0", "limit"),
        (f"limit={MAX_LIMIT + 1}", "limit"),
        ("limit=-1", "limit"),
        ("limit=%C2%B2", "limit"),
        ("limit=" + "9" * 5000, "limit"),
        ("cursor=%C2%B2", "cursor"),
        ("cursor=" + "9" * 5000, "cursor"),
        ("cursor=99999999999999999999", "cursor"),
        ("cursor=-5", "cursor"),
        ("since=9999-12-31T23:59:59-14:00", "since"),
        ("until=0001-01-01T00:00:00%2B14:00", "until"),
        ("since=%00", "since"),
        ("order_id=a%00b", "order_id"),
        ("smsid=%00", "smsid"),
        ("status=%00", "status"),
        ("order_id=" + "x" * 1025, "order_id"),
        ("phone=" + "9" * 2000, "phone"),
        ("status=sent,bogus", "status"),
    ],
)
def test_bad_list_queries_are_400_naming_the_parameter(client, auth, query, field):
    resp = client.get(f"/api/messages?{query}", headers=auth)
    assert resp.status_code == 400, resp.json
    assert field in resp.json["error"]["fields"]


def test_largest_page_is_allowed(client, auth):
    assert client.get(f"/api/messages?limit={MAX_LIMIT}", headers=auth).status_code == 200


@pytest.mark.parametrize(
    "path,status",
    [
        ("/api/messages/99999999999999999999", 404),
        ("/api/messages/9223372036854775807", 404),
        ("/api/messages/-1", 404),
        ("/api/journeys/a%00b", 400),
        ("/api/journeys/" + "x" * 3000, 404),
        ("/api/stats?since=0001-01-01T00:00:00%2B14:00", 400),
        ("/api/stats?until=%00", 400),
    ],
)
def test_odd_paths_are_4xx(client, auth, path, status):
    resp = client.get(path, headers=auth)
    assert resp.status_code == status and "error" in resp.json


def test_nul_in_a_dashboard_query_is_400_not_500(client):
    assert client.get("/messages?order_id=a%00b").status_code == 400


# -- issue 12, attack 5: hostile values in every path and query parameter of every route --------

# Non-ASCII digits ('²' made int() raise, '١' is a digit \d matches), integers past any column,
# control characters, overlong and odd text.
HOSTILE = [
    "²",
    "١٢٣",
    "٣.AAAAAAAAAAAAAAAAAAAAAA",
    "²." + "A" * 22,
    "9" * 40,
    str(2**63),
    str(2**64),
    "-1",
    "\x01",
    "\t",
    "\r\n",
    "\x7f",
    "\u202e",
    "\U0001f4a5",
    "x" * 3000,
    " ",
    "..",
    "0x10",
    "1e400",
    "NaN",
    "%zz",
]
# Every name a view reads from the query string (the API, the dashboard, the webhook, sign-in).
QUERY_NAMES = [
    "next",
    "range",
    "since",
    "until",
    "status",
    "template",
    "oa",
    "campaign",
    "order",
    "smsid",
    "code",
    "batch",
    "pq",
    "before",
    "after",
    "cursor",
    "limit",
    "phone",
    "order_id",
    "campaign_id",
    "template_id",
    "oa_id",
    "SMSID",
    "SendStatus",
    "skip_invalid",
]
# The values also tried one parameter at a time.
ALONE = ("²", "١٢٣", "9" * 40, "\r\n")
_ARG = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")


def _paths(app, value: str) -> list[str]:
    """Every rule of the app's url_map with each of its parameters set to ``value`` (URL-quoted)."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = _ARG.sub(lambda m: quote(value, safe="/" if m.group(1) == "path" else ""), rule.rule)
        out.append((rule, path))
    return out


def test_every_route_and_parameter_survives_hostile_values(client, auth):
    """Enumerates app.url_map (new routes are covered without listing them here)."""
    app, seen = client.application, Counter()
    for value in HOSTILE:
        for rule, path in _paths(app, value):
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            for method in methods:
                resp = client.open(path, method=method, headers=auth)
                resp.get_data()
                resp.close()  # a streamed answer (the CSV) must be finished before the next request
                seen[resp.status_code] += 1
                assert resp.status_code < 500, (method, path, resp.get_data(as_text=True)[:300])
            # Every known query parameter at once, then each alone (one refused name must not hide another).
            both = [{name: value for name in QUERY_NAMES}] + [{name: value} for name in QUERY_NAMES]
            for query in both if value in ALONE else both[:1]:
                resp = client.get(path, query_string=query, headers=auth)
                resp.get_data()
                resp.close()
                seen[resp.status_code] += 1
                assert resp.status_code < 500, ("GET", path, query, resp.get_data(as_text=True)[:300])
    print(f"hostile route values: {sum(seen.values())} requests, statuses {dict(sorted(seen.items()))}")
    assert sum(seen.values()) > 1000


@pytest.mark.parametrize(
    "path",
    [
        "/messages/99999999999999999999",
        "/dashboard/data/messages/99999999999999999999",
        f"/messages/{2**63}",
        "/webhooks/esms/%C2%B2.AAAAAAAAAAAAAAAAAAAAAA",
        "/messages/%D9%A1",
        "/api/messages/%D9%A1",
    ],
)
def test_huge_and_non_ascii_ids_are_404(client, auth, path):
    assert client.get(path, headers=auth).status_code == 404
