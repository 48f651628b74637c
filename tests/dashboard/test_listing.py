"""/messages: every filter, phone search without the number in a URL, keyset pages, CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard.support import add, ago, csrf, english, local_input
from tracker.dashboard import export, listing
from tracker.dashboard.present import GROUPS

ROW_ID = re.compile(r'<a href="/messages/(\d+)">#\d+</a>')


def ids_on(html: str) -> list[int]:
    return [int(i) for i in ROW_ID.findall(html)]


def search(client, **form):
    return client.post("/messages", data={"csrf_token": csrf(client), **form})


@pytest.fixture
def variety(engine) -> dict[str, list[int]]:
    return {
        "plain": add(engine, 2, created_at=ago(hours=3)),
        "failed": add(engine, 1, status="failed", error_code="-114", created_at=ago(hours=2)),
        "sent": add(engine, 1, status="sent", smsid="SMS-777", created_at=ago(hours=2)),
        "tmpl": add(engine, 1, template_id="T-9", created_at=ago(hours=1)),
        "oa": add(engine, 1, oa_id="OA-9", created_at=ago(hours=1)),
        "camp": add(engine, 1, campaign_id="C-9", created_at=ago(minutes=30)),
        "order": add(engine, 2, order_id="DH-42", created_at=ago(minutes=20)),
        "phone": add(engine, 1, phone="+84987654321", created_at=ago(minutes=10)),
        "old": add(engine, 1, created_at=ago(days=3)),
    }


BATCH = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    "args, saved, conditions, nothing",
    [
        ({}, {}, (), False),
        (
            {"template": "T-9", "oa": "OA-9", "campaign": "C-9", "order": "DH-42", "smsid": "S", "code": "-114"},
            {},
            (
                ("template_id", "=", "T-9"),
                ("oa_id", "=", "OA-9"),
                ("campaign_id", "=", "C-9"),
                ("order_id", "=", "DH-42"),
                ("smsid", "=", "S"),
                ("error_code", "=", "-114"),
            ),
            False,
        ),
        ({"status": "failed"}, {}, (("status", "in", ("failed",)),), False),
        ({"status": "in_flight"}, {}, (("status", "in", GROUPS["in_flight"]),), False),
        ({"status": "lost", "batch": "%"}, {}, (), False),  # refused values filter nothing
        ({"batch": BATCH}, {}, (("request_id", "startswith", f"csv-{BATCH}-"),), False),
        # A time without a zone is local (Asia/Ho_Chi_Minh, UTC+7); one with an offset is taken as given.
        (
            {"since": "2024-11-05T03:04:05", "until": "2024-11-06T00:00Z"},
            {},
            (
                ("created_at", ">=", datetime(2024, 11, 4, 20, 4, 5, tzinfo=UTC)),
                ("created_at", "<", datetime(2024, 11, 6, tzinfo=UTC)),
            ),
            False,
        ),
        ({"pq": "tok"}, {"tok": "+84987654321"}, (("phone", "=", "+84987654321"),), False),
        # An expired phone search matches nothing rather than every phone.
        ({"pq": "gone", "status": "failed"}, {}, (("status", "in", ("failed",)),), True),
    ],
)
def test_query_arguments_become_the_shared_message_filter(args, saved, conditions, nothing):
    q = listing.message_filter(listing.from_args(args, saved))
    assert (q.conditions, q.nothing) == (conditions, nothing)


def test_list_is_newest_first_and_links_each_row(client, variety):
    html = client.get("/messages").get_data(as_text=True)
    ids = ids_on(html)
    assert ids == sorted(ids, reverse=True) and len(ids) == 11
    assert all(f'href="/messages/{i}"' in html for i in ids)
    assert 'href="/journeys/DH-42"' in html


@pytest.mark.parametrize(
    "query, group",
    [
        ("status=failed", "failed"),
        ("template=T-9", "tmpl"),
        ("oa=OA-9", "oa"),
        ("campaign=C-9", "camp"),
        ("order=DH-42", "order"),
        ("smsid=SMS-777", "sent"),
        ("code=-114", "failed"),
    ],
)
def test_each_filter(client, variety, query, group):
    html = client.get(f"/messages?{query}").get_data(as_text=True)
    assert sorted(ids_on(html)) == sorted(variety[group])


def test_status_group_and_time_range_filters(client, variety):
    html = client.get("/messages?status=in_flight").get_data(as_text=True)
    assert ids_on(html) == variety["sent"]
    since, until = ago(hours=2, minutes=30), ago(minutes=45)
    html = client.get(f"/messages?since={local_input(since)}&until={local_input(until)}").get_data(as_text=True)
    assert sorted(ids_on(html)) == sorted(variety["failed"] + variety["sent"] + variety["tmpl"] + variety["oa"])


def test_bad_filter_values_are_reported(client, variety):
    html = client.get("/messages?status=lost&since=tomorrow").get_data(as_text=True)
    assert "Unknown status" in html and "start time could not be read" in html
    assert len(ids_on(html)) == 11


def test_phone_search_is_posted_and_never_put_in_a_url(client, variety):
    resp = search(client, phone="0987 654 321", status="queued")
    assert resp.status_code == 303
    location = resp.headers["Location"]
    assert "987654321" not in location and "phone" not in location
    query = parse_qs(urlsplit(location).query)
    assert query["status"] == ["queued"] and len(query["pq"][0]) >= 20
    html = client.get(location).get_data(as_text=True)
    assert ids_on(html) == variety["phone"]
    # The CSV link and the live endpoint carry the same token, not the number.
    csv_link = re.search(r'href="(/messages\.csv[^"]*)"', html).group(1)
    assert "pq=" in csv_link and "987654321" not in csv_link
    assert "987654321" not in re.search(r'data-live="([^"]*)"', html).group(1)
    # Another form of the same number finds the same messages.
    assert (
        ids_on(client.get(search(client, phone="+84987654321").headers["Location"]).get_data(as_text=True))
        == variety["phone"]
    )


def test_phone_token_without_the_session_matches_nothing(client, app, variety):
    location = search(client, phone="0987654321").headers["Location"]
    stranger = english(app.test_client())
    html = stranger.get(location).get_data(as_text=True)
    assert ids_on(html) == [] and "phone search has expired" in html


def test_invalid_phone_is_a_400_with_the_reason(client, variety):
    resp = search(client, phone="12345")
    assert resp.status_code == 400
    assert "Phone: " in resp.get_data(as_text=True)


def test_empty_list(client):
    html = client.get("/messages").get_data(as_text=True)
    assert ids_on(html) == [] and "No messages match." in html
    assert re.search(r'data-link="older"[^>]*hidden', html) and re.search(r'data-link="newer"[^>]*hidden', html)


def test_exactly_one_page_has_no_older_link(small_pages, engine):
    ids = add(engine, 5)
    html = small_pages.get("/messages").get_data(as_text=True)
    assert ids_on(html) == ids[::-1]
    assert re.search(r'data-link="older"[^>]*hidden', html)
    assert "« Newest" not in html


def test_pages_walk_to_the_last_one_and_back(small_pages, engine):
    ids = add(engine, 12)[::-1]  # newest first
    seen, url = [], "/messages"
    for _ in range(3):
        html = small_pages.get(url).get_data(as_text=True)
        seen.append(ids_on(html))
        older = re.search(r'<a data-link="older" href="([^"]*)"(\s*hidden)?', html)
        url = older.group(1).replace("&amp;", "&")
        last = bool(older.group(2))
    assert seen == [ids[:5], ids[5:10], ids[10:]]
    assert last  # the last page offers no older page
    newer = re.search(r'<a data-link="newer" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert ids_on(small_pages.get(newer).get_data(as_text=True)) == ids[5:10]
    assert "« Newest" in html


def test_a_cursor_past_the_end_shows_an_empty_page_with_a_way_back(small_pages, engine):
    add(engine, 3)
    html = small_pages.get("/messages?before=1").get_data(as_text=True)
    assert ids_on(html) == [] and "« Newest" in html


def test_list_data_endpoint_follows_filters(client, variety):
    data = client.get("/dashboard/data/messages?status=failed").json
    assert [row[0]["t"] for row in data["tables"]["messages"]] == [f"#{i}" for i in variety["failed"]]
    assert data["links"] == {"older": None, "newer": None}


def read_csv(resp) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))


def test_csv_export_streams_the_filtered_list(client, variety):
    resp = client.get("/messages.csv?status=failed")
    assert resp.is_streamed
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = read_csv(resp)
    assert [int(r["id"]) for r in rows] == variety["failed"]
    assert rows[0]["error_code"] == "-114" and rows[0]["error_meaning"].startswith("User is inactive")
    assert rows[0]["phone"] == "+84901888484"


def test_csv_export_in_chunks_with_vietnamese_and_formula_guard(client, engine, monkeypatch):
    monkeypatch.setattr(export, "FLUSH_BYTES", 2048)
    add(engine, 300, error_message='=HYPERLINK("x")', campaign_id="Khuyến mãi tháng 11")
    resp = client.get("/messages.csv", buffered=False)
    chunks = list(resp.response)
    assert len(chunks) > 10  # written out as it was read, not built whole
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(rows) == 300
    assert rows[0]["campaign_id"] == "Khuyến mãi tháng 11"
    assert rows[0]["error_message"].startswith("'=")
    assert int(rows[0]["id"]) > int(rows[-1]["id"])


def test_csv_with_a_phone_token(client, variety):
    location = search(client, phone="0987654321").headers["Location"]
    query = urlsplit(location).query
    rows = read_csv(client.get(f"/messages.csv?{query}"))
    assert [int(r["id"]) for r in rows] == variety["phone"]
