"""tracker.dashboard.views: each page as HTML and the same data as JSON for its live updates (overview, its
details, the message list and its filter form, the CSV link, one message, one journey), not-found answers,
sign-in and sign-out."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.dashboard.support import add, ago, csrf
from tests.support import API_TOKEN
from tracker.models import Message

LIVE_KEYS = {"text", "tables", "links", "chart", "active", "stamp"}


def text_of(page: str, key: str) -> str:
    match = re.search(rf'data-text="{re.escape(key)}"[^>]*>([^<]*)<', page)
    assert match, f"no data-text={key}"
    return htmllib.unescape(match.group(1))


def live_url(page: str) -> str:
    match = re.search(r'data-live="([^"]+)"', page)
    assert match, "no live URL"
    return htmllib.unescape(match.group(1))


def shown(value):
    return value["t"] if isinstance(value, dict) else value


def assert_live_json(resp):
    assert resp.status_code == 200 and resp.is_json
    assert set(resp.json) <= LIVE_KEYS and "stamp" in resp.json
    assert re.fullmatch(r"\d\d:\d\d:\d\d", resp.json["stamp"])


@pytest.fixture
def seeded(engine):
    sent = ago(minutes=30)
    add(
        engine,
        3,
        status="delivered",
        price="220",
        sent_at=sent,
        final_at=sent + timedelta(seconds=10),
        created_at=ago(minutes=31),
        order_id="DH-A",
    )
    add(engine, 1, status="failed", error_code="-114", created_at=ago(hours=2), final_at=ago(hours=2), order_id="DH-A")
    add(engine, 1, status="queued", created_at=ago(minutes=1), order_id="DH-B")


def test_overview_html_and_json_say_the_same(client, seeded):
    page = client.get("/?range=7d").get_data(as_text=True)
    url = live_url(page)
    assert url.startswith("/dashboard/data/overview") and "range=7d" in url
    resp = client.get(url)
    assert_live_json(resp)
    data = resp.json
    for key in ("n-total", "n-delivered", "n-failed", "n-queued", "rate", "money"):
        assert text_of(page, key) == shown(data["text"][key]), key
    assert data["text"]["n-total"] == "5" and data["text"]["n-delivered"] == "3"
    assert data["active"] is True  # something is still queued
    assert data["chart"]["bars"]


def test_overview_json_in_vietnamese(reader, seeded):
    data = reader.get("/dashboard/data/overview").json
    assert data["text"]["money"].replace("\xa0", " ") == "660 ₫"
    assert "n-total" in data["text"]  # the keys do not change with the language


def test_overview_details_are_loaded_after_a_long_ranges_page(client, seeded):
    assert client.get("/?range=30d").status_code == 200
    resp = client.get("/dashboard/data/overview/details?range=30d")
    assert_live_json(resp)
    assert {"p50", "p95", "ttf-note"} <= set(resp.json["text"])
    assert "failures" in resp.json["tables"]
    assert resp.json["text"]["p50"] == "10.0s"


def test_overview_with_a_bad_range_still_answers(client, seeded):
    assert client.get("/?range=nonsense").status_code == 200
    assert_live_json(client.get("/dashboard/data/overview?range=nonsense"))


def test_message_list_html_and_json(client, seeded):
    page = client.get("/messages?status=delivered").get_data(as_text=True)
    assert live_url(page).startswith("/dashboard/data/messages") and "status=delivered" in live_url(page)
    assert 'href="/messages.csv?status=delivered"' in page
    resp = client.get(live_url(page))
    assert_live_json(resp)
    assert text_of(page, "shown") == resp.json["text"]["shown"] == "3 shown"
    assert len(resp.json["tables"]["messages"]) == 3
    assert resp.json["active"] is False


def test_an_empty_list(client):
    data = client.get("/dashboard/data/messages").json
    assert data["text"]["shown"] == "No messages match." and data["tables"]["messages"] == []


def test_list_pages_link_older_and_newer(small_pages, engine):
    add(engine, 7, created_at=ago(minutes=5))
    data = small_pages.get("/dashboard/data/messages").json
    assert len(data["tables"]["messages"]) == 5
    assert data["links"]["older"] and data["links"]["newer"] is None
    older = small_pages.get(data["links"]["older"].replace("/messages", "/dashboard/data/messages", 1)).json
    assert len(older["tables"]["messages"]) == 2 and older["links"]["newer"]


def test_the_filter_form_posts_and_keeps_the_phone_out_of_the_url(client, seeded):
    token = csrf(client)
    resp = client.post("/messages", data={"csrf_token": token, "status": "failed", "phone": "0901888484"})
    assert resp.status_code == 303
    target = resp.headers["Location"]
    assert target.startswith("/messages?") and "status=failed" in target
    assert "0901888484" not in target and "84901888484" not in target
    page = client.get(target).get_data(as_text=True)
    assert text_of(page, "shown") == "1 shown"


def test_a_bad_filter_form_is_answered_400_with_the_form(client, seeded):
    token = csrf(client)
    resp = client.post("/messages", data={"csrf_token": token, "phone": "not a phone"})
    assert resp.status_code == 400
    assert "<form" in resp.get_data(as_text=True)


def test_message_page_and_json(client, engine):
    (mid,) = add(engine, status="failed", error_code="-114", order_id="DH-X")
    add(engine, status="delivered", order_id="DH-X")
    page = client.get(f"/messages/{mid}").get_data(as_text=True)
    assert live_url(page) == f"/dashboard/data/messages/{mid}"
    resp = client.get(live_url(page))
    assert_live_json(resp)
    assert "message" not in resp.json  # the row object is for the HTML only
    assert text_of(page, "f-status") == resp.json["text"]["f-status"]["t"] == "failed"
    assert len(resp.json["tables"]["journey"]) == 1
    assert resp.json["active"] is False


def test_unknown_message(client):
    resp = client.get("/messages/999999")
    assert resp.status_code == 404 and "Message not found" in resp.get_data(as_text=True)
    resp = client.get("/dashboard/data/messages/999999")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"


def test_journey_page_and_json(client, seeded):
    page = client.get("/journeys/DH-A").get_data(as_text=True)
    assert live_url(page) == "/dashboard/data/journeys/DH-A"
    resp = client.get(live_url(page))
    assert_live_json(resp)
    assert "messages" not in resp.json
    assert text_of(page, "summary") == resp.json["text"]["summary"] == "4 messages, 4 with a final status, 3 delivered"
    assert len(resp.json["tables"]["members"]) == 4 and resp.json["active"] is False


def test_journey_ids_with_slashes(client, engine):
    add(engine, order_id="DH/2024/7")
    assert client.get("/journeys/DH/2024/7").status_code == 200
    assert client.get("/dashboard/data/journeys/DH/2024/7").json["text"]["summary"].startswith("1 message")


def test_unknown_journey(client):
    resp = client.get("/journeys/NOPE")
    assert resp.status_code == 404 and "Journey not found" in resp.get_data(as_text=True)
    resp = client.get("/dashboard/data/journeys/NOPE")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"


def test_csv_download_is_named_by_local_time(client):
    resp = client.get("/messages.csv")
    assert re.fullmatch(r'attachment; filename="messages-\d{8}-\d{6}\.csv"', resp.headers["Content-Disposition"])


def test_an_open_dashboard_skips_the_sign_in_form(client):
    resp = client.get("/login?next=/messages")
    assert resp.status_code == 302 and resp.headers["Location"] == "/messages"
    assert client.get("/login?next=//evil.example/").headers["Location"] == "/"


def test_logout_goes_back_to_the_sign_in_form(client):
    resp = client.post("/logout", data={"csrf_token": csrf(client)})
    assert resp.status_code == 303 and resp.headers["Location"] == "/login"


# -- the resend button (issue 11): retry_later and template failures, the same code as the API --------


RESEND_BUTTON = "Resend this message"


@pytest.mark.parametrize(
    "status, code, offered",
    [
        ("failed", "-133", True),  # retry_later: the night window
        ("failed", "-144", True),  # retry_later: quota
        ("rejected", "789", True),  # template
        ("failed", "-1121", True),  # template parameter
        ("failed", "-114", False),  # unreachable: sending again ends the same way
        ("rejected", "108", False),  # final
        ("rejected", "101", False),  # account: the breaker holds these, they never end rejected
        ("failed", "zz", False),  # unknown
        ("delivered", None, False),
        ("accepted", None, False),
    ],
)
def test_the_button_is_offered_only_where_a_resend_can_help(client, engine, status, code, offered):
    (mid,) = add(engine, status=status, error_code=code)
    assert (RESEND_BUTTON in client.get(f"/messages/{mid}").get_data(as_text=True)) is offered


def test_resend_from_the_page_queues_a_new_message_and_goes_to_it(client, engine):
    (old,) = add(engine, status="failed", error_code="-133", order_id="J9", params=["Lan", "DH9"])
    token = csrf(client, f"/messages/{old}")
    resp = client.post(f"/messages/{old}/resend", data={"csrf_token": token})
    assert resp.status_code == 303
    new = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert new != old
    page = client.get(f"/messages/{new}").get_data(as_text=True)
    assert f"Message #{old} resent as #{new}." in page and f'href="/messages/{old}">#{old}</a>' in page
    api = client.get(f"/api/messages/{new}", headers={"Authorization": f"Bearer {API_TOKEN}"}).get_json()
    assert (api["resent_from"], api["status"], api["order_id"], api["params"]) == (old, "queued", "J9", ["Lan", "DH9"])
    # The old page now links to the resend and offers no second one; a second POST finds the first.
    old_page = client.get(f"/messages/{old}").get_data(as_text=True)
    assert RESEND_BUTTON not in old_page and f'href="/messages/{new}">#{new}</a>' in old_page
    again = client.post(f"/messages/{old}/resend", data={"csrf_token": token})
    assert again.headers["Location"].endswith(f"/messages/{new}")
    assert f"already resent as #{new}" in client.get(f"/messages/{new}").get_data(as_text=True)


def test_resend_in_vietnamese(reader, engine):
    (old,) = add(engine, status="rejected", error_code="789")
    page = reader.get(f"/messages/{old}").get_data(as_text=True)
    assert "Gửi lại tin này" in page
    resp = reader.post(f"/messages/{old}/resend", data={"csrf_token": csrf(reader, f"/messages/{old}")})
    assert "đã được gửi lại thành" in reader.get(resp.headers["Location"]).get_data(as_text=True)


def test_resend_needs_the_forms_csrf_token(client, engine):
    (old,) = add(engine, status="failed", error_code="-133")
    assert client.post(f"/messages/{old}/resend").status_code == 403
    assert client.post(f"/messages/{old}/resend", data={"csrf_token": "forged"}).status_code == 403
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1  # nothing queued


def test_resend_needs_a_signed_in_reader(locked, engine):
    (old,) = add(engine, status="failed", error_code="-133")
    resp = locked.post(f"/messages/{old}/resend", data={"csrf_token": csrf(locked, "/login")})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1


def test_resend_refusals_are_said_on_the_page(client, engine):
    (delivered,) = add(engine, status="delivered")
    resp = client.post(f"/messages/{delivered}/resend", data={"csrf_token": csrf(client)})
    assert resp.headers["Location"].endswith(f"/messages/{delivered}")
    assert "cannot be resent" in client.get(resp.headers["Location"]).get_data(as_text=True)
    (purged,) = add(engine, status="failed", error_code="-133", phone=None, params=[])
    resp = client.post(f"/messages/{purged}/resend", data={"csrf_token": csrf(client)})
    assert "cannot be resent" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert client.post("/messages/999999/resend", data={"csrf_token": csrf(client)}).status_code == 404
