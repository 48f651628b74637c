"""The dashboard's CSV upload with its live progress view, and the overview's status-forwarding panel."""

from __future__ import annotations

import html as htmllib
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.dashboard.support import add, csrf, english, login
from tests.support import OAID, replace_settings
from tracker import create_app
from tracker import status as st
from tracker.db import utcnow
from tracker.models import Message
from tracker.sending import bulk
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker.forwarding import FAILED, PENDING, ForwardDelivery

XSS = "<script>alert(1)</script>"
GOOD = (
    "\ufeffphone,order_id,param1,param2\n"
    "0901888484,DH-1,Nguyễn Văn An,đang giao hàng\n"
    "0901888485,DH-2,Trần Thị Bích,đã giao\n"
).encode()
MIXED = (
    "phone,order_id,param1\n"
    "0901888484,DH-1,Lê Văn Cường\n"  # line 2: fine
    "12345,DH-2,x\n"  # line 3: not a phone
    "0901888486,,y\n"  # line 4: no order id
    "0901888487,DH-4,Phạm Thị Dung\n"
).encode()  # line 5: fine


def upload(client, content: bytes, *, token: str | None = "auto", name: str = "khách hàng.csv", **fields):
    data = {"file": (io.BytesIO(content), name), "template_id": "2056446", "oa_id": OAID, **fields}
    if token == "auto":
        token = csrf(client, "/upload")
    if token:
        data["csrf_token"] = token
    return client.post("/upload", data=data, content_type="multipart/form-data")


def stored(engine) -> list[Message]:
    with Session(engine) as s:
        return list(s.scalars(select(Message).order_by(Message.id)))


def batch_of(resp) -> str:
    match = re.fullmatch(r"/upload/([0-9a-f]{24})", resp.headers["Location"])
    assert match, resp.headers.get("Location")
    return match.group(1)


def test_a_valid_file_is_queued_and_redirects_to_its_progress(client, engine):
    resp = upload(client, GOOD, campaign_id="tết")
    assert resp.status_code == 303
    batch = batch_of(resp)
    assert batch == bulk.batch_id(GOOD)
    msgs = stored(engine)
    assert [(m.source, m.status, m.order_id, m.campaign_id) for m in msgs] == [
        ("csv", "queued", "DH-1", "tết"),
        ("csv", "queued", "DH-2", "tết"),
    ]
    assert msgs[0].params == ["Nguyễn Văn An", "đang giao hàng"] and msgs[1].params[0] == "Trần Thị Bích"
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "khách hàng.csv: 2 messages queued." in html
    assert 'data-text="total">2<' in html and "0 of 2 sent to eSMS" in html
    assert html.count('<rect class="s-queued"') == 1
    assert f'href="/messages?batch={batch}"' in html and f'data-live="/dashboard/data/uploads/{batch}"' in html


def test_the_upload_form_is_linked_and_defaults_to_the_configured_oa(client):
    html = client.get("/upload").get_data(as_text=True)
    assert 'href="/upload" aria-current="page"' in html
    assert f'name="oa_id" value="{OAID}"' in html and 'enctype="multipart/form-data"' in html


def test_bad_rows_are_listed_by_line_and_nothing_is_queued(client, engine):
    resp = upload(client, MIXED)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "2 bad rows; nothing was queued" in html
    lines = re.findall(r'<td class="num">(\d+)</td><td>([a-z_]+)</td>', html)
    assert ("3", "phone") in lines and ("4", "order_id") in lines and not any(n in ("2", "5") for n, _ in lines)
    assert stored(engine) == []


# Template 300001 as the simulator lists it (GetTemplate): order_code (30), amount (type_number, 12),
# due_date (type_date, 10).
AGAINST_TEMPLATE = (
    "phone,order_id,param1,param2,param3\n"
    "0901888484,DH-1,DH-1,150000,05/06/2025\n"  # line 2: fine
    "0901888485,DH-2,DH-2,150.000đ,05/06/2025\n"  # line 3: amount is not a number
    "0901888486,DH-3," + "X" * 31 + ",1,2025-06-05\n"  # line 4: order_code too long, due_date no date
).encode()


@pytest.fixture
def listing_app(settings, engine):
    """The app asking the simulator (over HTTP) for the OA's template listing."""
    sim = start_in_thread(SimSettings(seed=4, speed=0.0))
    app = create_app(
        replace_settings(settings, esms_base_url=sim.base_url, esms_status_url=sim.status_url), engine=engine
    )
    app.config["TESTING"] = True
    yield app
    sim.stop()


def row_errors(html: str) -> list[tuple[str, str, str]]:
    table = re.search(r'data-table="row-errors".*?</table>', html, re.S).group(0)
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>(.*?)</td><td>(.*?)</td></tr>', table)
    return [(line, field, htmllib.unescape(problem)) for line, field, problem in rows]


def test_params_that_break_the_template_are_listed_by_line_naming_the_parameter(listing_app, engine):
    client = english(listing_app.test_client())
    resp = upload(client, AGAINST_TEMPLATE, template_id="300001")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert row_errors(html) == [
        ("3", "params[1]", "amount: a number, digits 0-9 only (at most 12)"),
        ("4", "params[0]", "order_code: at most 30 characters, got 31"),
        ("4", "params[2]", "due_date: a date as dd/MM/yyyy"),
    ]
    assert "2 bad rows; nothing was queued" in html
    assert stored(engine) == []
    # Told to skip them, the one good row is queued.
    resp = upload(client, AGAINST_TEMPLATE, template_id="300001", skip_invalid="1")
    assert resp.status_code == 303
    assert [m.params for m in stored(engine)] == [["DH-1", "150000", "05/06/2025"]]


def test_template_errors_in_vietnamese(listing_app, engine):
    client = listing_app.test_client()
    html = upload(client, AGAINST_TEMPLATE, template_id="300001").get_data(as_text=True)
    problems = [p for _line, _field, p in row_errors(html)]
    assert problems[0].startswith("amount: ") and "0-9" in problems[0] and "a number" not in problems[0]
    assert problems[1].startswith("order_code: ") and "31" in problems[1] and "characters" not in problems[1]
    assert "dd/MM/yyyy" in problems[2] and "a date as" not in problems[2]


def test_skip_invalid_queues_only_the_good_rows(client, engine):
    resp = upload(client, MIXED, skip_invalid="1")
    assert resp.status_code == 303
    assert [m.order_id for m in stored(engine)] == ["DH-1", "DH-4"]
    assert stored(engine)[1].params == ["Phạm Thị Dung"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "2 messages queued, 2 bad rows skipped." in html


def test_uploading_the_same_file_again_queues_nothing_new(client, engine):
    first = upload(client, GOOD)
    again = upload(client, GOOD)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert len(stored(engine)) == 2
    html = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "was uploaded before: nothing new was queued (2 messages were already queued)." in html


def test_unreadable_files_and_missing_fields_are_refused(client, engine):
    assert "not UTF-8" in upload(client, "phone,order_id\n09,Đ\n".encode("cp1258")).get_data(as_text=True)
    assert "template id is required" in upload(client, GOOD, template_id="").get_data(as_text=True)
    assert "unknown column" in upload(client, b"phone,order_id,colour\n").get_data(as_text=True)
    assert stored(engine) == []


def test_a_post_without_the_csrf_token_is_refused(client, engine):
    client.get("/upload")  # a session exists, just no token in the form
    assert upload(client, GOOD, token=None).status_code == 403
    assert upload(client, GOOD, token="forged").status_code == 403
    assert stored(engine) == []


def test_upload_pages_need_a_sign_in(locked, engine):
    resp = locked.get("/upload")
    assert resp.status_code == 302 and "/login?next=/upload" in resp.headers["Location"]
    assert locked.get(f"/upload/{'a' * 24}").status_code == 302
    assert locked.get(f"/dashboard/data/uploads/{'a' * 24}").status_code == 401
    assert upload(locked, GOOD, token=None).status_code == 403
    login(locked)
    assert upload(locked, GOOD).status_code == 303 and len(stored(engine)) == 2


def test_progress_json_follows_the_messages(client, engine):
    batch = batch_of(upload(client, GOOD))
    before = client.get(f"/dashboard/data/uploads/{batch}").json
    assert before["active"] is True and before["text"]["sent"].startswith("0 of 2")
    assert [row[0]["t"] for row in before["tables"]["statuses"]] == ["queued"]
    with engine.begin() as conn:
        conn.execute(update(Message).where(Message.order_id == "DH-1").values(status=st.DELIVERED, final_at=utcnow()))
    after = client.get(f"/dashboard/data/uploads/{batch}").json
    assert after["text"]["sent"].startswith("1 of 2") and after["text"]["final"] == "1 with a final status, 1 delivered"
    assert {row[0]["t"]: row[1]["t"] for row in after["tables"]["statuses"]} == {"delivered": "1", "queued": "1"}
    assert [seg["cls"] for seg in after["bar"]] == ["s-delivered", "s-queued"]
    assert sum(seg["w"] for seg in after["bar"]) == pytest.approx(1000)


def test_unknown_uploads_and_the_batch_filter(client, engine):
    assert client.get(f"/upload/{'0' * 24}").status_code == 404
    assert client.get("/upload/not-a-batch%25").status_code == 404
    assert client.get("/dashboard/data/uploads/x%25").status_code == 404
    batch = batch_of(upload(client, GOOD))
    add(engine, order_id="OTHER")
    html = client.get(f"/messages?batch={batch}").get_data(as_text=True)
    assert "DH-1" in html and "DH-2" in html and "OTHER" not in html
    assert "Unknown upload id." in client.get("/messages?batch=%25").get_data(as_text=True)


def test_a_file_over_the_size_limit_gets_a_friendly_page(app, engine):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    client = english(app.test_client())
    resp = upload(client, GOOD + b"0901888484,DH-9,x,y\n" * 400)
    assert resp.status_code == 413
    html = resp.get_data(as_text=True)
    assert "File too large" in html and "limited to 4 KiB" in html
    assert stored(engine) == []


# -- forwarding panel ------------------------------------------------------------------------------


@pytest.fixture
def forwarding_app(settings, engine):
    app = create_app(replace_settings(settings, forward_url="http://127.0.0.1:9/hook"), engine=engine)
    app.config["TESTING"] = True
    return app


def outbox(engine, *states: str, error: str | None = None) -> None:
    mid = add(engine, status=st.DELIVERED)[0]
    now = utcnow()
    with Session(engine) as s:
        for i, state in enumerate(states):
            s.add(
                ForwardDelivery(
                    message_id=mid,
                    status=st.DELIVERED,
                    changed_at=now - timedelta(minutes=5 - i),
                    state=state,
                    attempts=3 if state == FAILED else 1,
                    next_at=now,
                    last_error=error,
                )
            )
        s.commit()


def count(engine, state: str) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(ForwardDelivery).where(ForwardDelivery.state == state))


def test_forwarding_panel_shows_counts_and_the_last_error_as_text(forwarding_app, engine):
    outbox(engine, PENDING, FAILED, FAILED, error=f"HTTP 500 {XSS}")
    client = english(forwarding_app.test_client())
    html = client.get("/").get_data(as_text=True)
    assert "Status forwarding" in html
    assert 'data-text="fwd-pending">1<' in html and 'data-text="fwd-failed" class="err">2<' in html
    assert re.search(r'data-text="fwd-oldest">5m \d+s ago<', html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html
    live = client.get("/dashboard/data/overview").json["text"]
    assert live["fwd-pending"] == "1" and live["fwd-error"] == f"HTTP 500 {XSS}"


def test_forwarding_panel_is_hidden_when_forwarding_is_off(client, engine):
    outbox(engine, FAILED, error="HTTP 500")
    assert "Status forwarding" not in client.get("/").get_data(as_text=True)
    assert not any(k.startswith("fwd-") for k in client.get("/dashboard/data/overview").json["text"])
    assert client.post("/forwarding/retry", data={"csrf_token": csrf(client, "/upload")}).status_code == 404
    assert count(engine, FAILED) == 1


def test_retry_button_puts_failed_deliveries_back(forwarding_app, engine):
    outbox(engine, FAILED, FAILED, PENDING, error="HTTP 500")
    client = english(forwarding_app.test_client())
    assert client.post("/forwarding/retry", data={}).status_code == 403
    assert count(engine, FAILED) == 2
    resp = client.post("/forwarding/retry", data={"csrf_token": csrf(client, "/")})
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    assert count(engine, FAILED) == 0 and count(engine, PENDING) == 3
    html = client.get("/").get_data(as_text=True)
    assert "2 failed deliveries put back in the queue." in html
    assert 'data-text="fwd-failed">0<' in html
