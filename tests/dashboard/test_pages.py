"""/messages/<id> and /journeys/<order_id>, and untrusted callback data shown as text everywhere."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

import pytest

from tests.dashboard.support import add, ago
from tests.support import SECRET
from tracker import tokens

XSS = "<script>alert(1)</script>"


def callback(client, mid: int, smsid: str, send_status: int, **extra) -> dict:
    params = {
        "SMSID": smsid,
        "SendStatus": send_status,
        "SendSuccess": 0,
        "SendFailed": 0,
        "TotalPrice": "0",
        "TotalReceiver": 1,
        "TotalSent": 1,
        "TypeId": 27,
        "telcoid": 1,
        "phonenumber": "0901888484",
        **extra,
    }
    resp = client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{urlencode(params)}")
    assert resp.status_code in (200, 400), resp.json
    return resp.json


@pytest.fixture
def journey(client, engine) -> list[int]:
    """Journey DH-7: a delivered message with every kind of event, and a later failed one."""
    first = add(
        engine,
        status="accepted",
        smsid="A1",
        order_id="DH-7",
        template_id="T-1",
        params=["Nguyễn Thị Hồng", "DH-7"],
        created_at=ago(minutes=20),
        sent_at=ago(minutes=20),
    )[0]
    assert callback(client, first, "A1", 2)["outcome"] == "applied"
    assert callback(client, first, "A1", 5, SendSuccess=1, TotalPrice="220")["outcome"] == "applied"
    assert callback(client, first, "A1", 5, SendSuccess=1, TotalPrice="220")["outcome"] == "duplicate"
    assert callback(client, first, "A1", 7)["outcome"] == "stale"
    assert callback(client, first, "OTHER", 7)["outcome"] == "conflict"
    assert callback(client, first, "A1", 99)["outcome"] == "invalid"
    second = add(
        engine,
        status="accepted",
        smsid="A2",
        order_id="DH-7",
        template_id="T-2",
        created_at=ago(minutes=10),
        sent_at=ago(minutes=10),
    )[0]
    error_info = json.dumps({"error": -114, "message": XSS})
    callback(client, second, "A2", 5, SendFailed=1, error_info=error_info)
    return [first, second]


def test_message_page_shows_every_field(client, journey):
    html = client.get(f"/messages/{journey[0]}").get_data(as_text=True)
    for key in (
        "status",
        "smsid",
        "phone",
        "template_id",
        "oa_id",
        "params",
        "order_id",
        "campaign_id",
        "request_id",
        "sandbox",
        "source",
        "error_code",
        "error_message",
        "price",
        "telco",
        "attempts",
        "created_at",
        "sent_at",
        "final_at",
        "updated_at",
        "time_to_final",
    ):
        assert f'data-text="f-{key}"' in html, key
    assert re.search(r'data-text="f-status" class="badge s-delivered">delivered<', html)
    assert "₫220" in html and "Viettel" in html
    assert "Nguyễn Thị Hồng" in html


def test_message_timeline_lists_each_callback_with_what_it_did(client, journey):
    html = client.get(f"/messages/{journey[0]}").get_data(as_text=True)
    events = re.search(r'data-table="events".*?</table>', html, re.S).group(0)
    outcomes = re.findall(r'class="badge o-([a-z]+)"', events)
    assert outcomes == ["applied", "applied", "duplicate", "stale", "conflict", "invalid"]
    assert "SendStatus=2" in events  # raw data
    assert "&#34;send_status&#34;: 2" in events or '"send_status": 2' in events  # parsed data


def test_message_page_lists_the_rest_of_its_journey(client, journey):
    html = client.get(f"/messages/{journey[0]}").get_data(as_text=True)
    siblings = re.search(r'data-table="journey".*?</table>', html, re.S).group(0)
    assert f'href="/messages/{journey[1]}"' in siblings and f'href="/messages/{journey[0]}"' not in siblings
    assert 'href="/journeys/DH-7"' in html


def test_message_data_endpoint(client, journey):
    data = client.get(f"/dashboard/data/messages/{journey[1]}").json
    assert data["text"]["f-status"] == {"t": "failed", "cls": "badge s-failed"}
    assert data["active"] is False
    assert len(data["tables"]["events"]) == 1


def test_journey_page_is_a_timeline_in_order(client, journey):
    html = client.get("/journeys/DH-7").get_data(as_text=True)
    timeline = re.search(r'data-table="timeline".*?</table>', html, re.S).group(0)
    mentions = [int(i) for i in re.findall(r'href="/messages/(\d+)"', timeline)]
    # Both were stored (20 and 10 minutes ago) before any callback arrived.
    assert mentions == [journey[0], journey[1]] + [journey[0]] * 6 + [journey[1]]
    assert "2 messages, 2 with a final status, 1 delivered" in html
    data = client.get("/dashboard/data/journeys/DH-7").json
    assert len(data["tables"]["timeline"]) == 9 and data["active"] is False


def test_journey_ids_with_slashes_and_vietnamese(client, engine):
    add(engine, order_id="ĐH/2026/001")
    resp = client.get("/journeys/" + quote("ĐH/2026/001"))
    assert resp.status_code == 200 and "ĐH/2026/001" in resp.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/messages/999999", "/journeys/none-such"])
def test_unknown_message_or_journey_is_404(client, path):
    assert client.get(path).status_code == 404
    assert client.get("/dashboard/data" + path).status_code == 404


def test_a_script_in_a_callback_is_shown_as_text_on_every_page(client, engine, journey):
    # Also a raw, undecodable error_info: it lands in the event's raw and parsed data.
    callback(client, journey[0], "A1", 5, SendSuccess=1, error_info=XSS)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = [
        "/",
        "/?range=1h",
        "/messages",
        "/messages?order=DH-7",
        f"/messages/{journey[1]}",
        f"/messages/{journey[0]}",
        "/journeys/DH-7",
    ]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert XSS not in html, path
        assert escaped in html, path
    # The live endpoints hand it over as JSON text, which live.js writes with textContent.
    for path in [
        "/dashboard/data/overview",
        f"/dashboard/data/messages/{journey[1]}",
        "/dashboard/data/journeys/DH-7",
        "/dashboard/data/messages",
    ]:
        assert XSS in json.dumps(client.get(path).json), path
    csv_text = client.get("/messages.csv").get_data().decode("utf-8-sig")
    assert XSS in csv_text
