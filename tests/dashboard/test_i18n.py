"""The dashboard in Vietnamese and English, on the tracker's clock (issue 13).

Vietnamese by default; English from the switch, Accept-Language or TRACKER_LANGUAGE; status
words translated on pages while the API keeps its words; local days, hours, inputs and CSV
times in TRACKER_TIMEZONE; Babel's Vietnamese formats; failure reasons with advice.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from tests.dashboard.support import add, ago, csrf, english, login
from tests.support import make_settings, replace_settings
from tracker import create_app
from tracker.dashboard import overview, ranges
from tracker.db import utcnow
from tracker.esms import codes

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NBSP = "\u00a0"
# English words that must not reach a Vietnamese reader (ids, codes and raw eSMS data aside).
ENGLISH = {
    "the",
    "and",
    "of",
    "to",
    "with",
    "message",
    "messages",
    "status",
    "sent",
    "delivered",
    "failed",
    "rejected",
    "queued",
    "waiting",
    "accepted",
    "sending",
    "overview",
    "upload",
    "sign",
    "password",
    "template",
    "campaign",
    "error",
    "filter",
    "range",
    "today",
    "last",
    "hours",
    "days",
    "live",
    "updates",
    "times",
    "from",
    "yes",
    "none",
    "what",
    "share",
    "code",
    "meaning",
    "rate",
    "spent",
    "journey",
    "timeline",
    "created",
    "final",
    "price",
    "phone",
    "order",
    "newer",
    "older",
    "newest",
    "export",
    "show",
    "median",
    "money",
    "deliveries",
    "applied",
    "duplicate",
    "callback",
    "attempt",
    "query",
    "stored",
    "user",
    "inactive",
    "recipient",
    "side",
    "check",
    "number",
    "ago",
    "pending",
    "more",
}


def text_of(html: str, key: str) -> str:
    match = re.search(rf'data-text="{re.escape(key)}"[^>]*>([^<]*)<', html)
    assert match, f"no data-text={key}"
    return match.group(1)


class _Visible(HTMLParser):
    """What a reader sees: text and the attributes read aloud or shown, not <pre> raw data or <code>."""

    SKIP = {"pre", "code", "script", "style"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "data-empty") and value:
                self.parts.append(value)
            if name.startswith("data-say-") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def english_words(html: str) -> set[str]:
    parser = _Visible()
    parser.feed(html)
    text = " ".join(parser.parts)
    # The language switch names English in English, on purpose.
    text = text.replace("English", "")
    return {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH}


@pytest.fixture
def day_of_work(engine) -> dict[str, int]:
    """A delivered, a failed (-114), a rejected (789) and a waiting message of journey DH-9, 10 minutes ago."""
    at = ago(minutes=10)
    return {
        "delivered": add(
            engine,
            status="delivered",
            order_id="DH-9",
            smsid="S1",
            price="1234567",
            created_at=at,
            sent_at=at,
            final_at=at + timedelta(seconds=10),
        )[0],
        "failed": add(
            engine,
            status="failed",
            error_code="-114",
            order_id="DH-9",
            created_at=at,
            sent_at=at,
            final_at=at + timedelta(seconds=30),
        )[0],
        "rejected": add(engine, status="rejected", error_code="789", order_id="DH-9", created_at=at, final_at=at)[0],
        "waiting": add(engine, status="waiting", order_id="DH-9", created_at=at, sent_at=at)[0],
    }


def test_vietnamese_is_the_default_on_every_page(reader, day_of_work):
    pages = [
        "/",
        "/?range=7d",
        "/messages",
        f"/messages/{day_of_work['failed']}",
        "/journeys/DH-9",
        "/upload",
        "/messages/999999",
    ]
    for path in pages:
        html = reader.get(path).get_data(as_text=True)
        assert '<html lang="vi">' in html, path
        assert "Tổng quan" in html and "Tải lên" in html, path
        assert 'hreflang="en"' in html and 'hreflang="vi" lang="vi" aria-current="true"' in html, path
        assert not english_words(html), (path, english_words(html))
    # The live data speaks the same language.
    for path in [
        "/dashboard/data/overview",
        "/dashboard/data/overview/details?range=7d",
        "/dashboard/data/messages",
        f"/dashboard/data/messages/{day_of_work['failed']}",
        "/dashboard/data/journeys/DH-9",
    ]:
        data = reader.get(path).json
        words = [v if isinstance(v, str) else v["t"] for v in data.get("text", {}).values()]
        words += [c["t"] for rows in data.get("tables", {}).values() for row in rows for c in row if not c.get("pre")]
        words += [b["title"] for b in data.get("chart", {}).get("bars", [])]
        assert not english_words(" ".join(f"<p>{w}</p>" for w in words)), path


def test_the_sign_in_page_is_vietnamese_and_switches_to_english(locked):
    locked.environ_base.pop("HTTP_ACCEPT_LANGUAGE")  # a browser that states no preference
    html = locked.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in html and "Mật khẩu" in html and not english_words(html)
    assert "Sai mật khẩu." in login(locked, password="sai").get_data(as_text=True)
    switch = re.search(r'href="(/language/en\?next=[^"]+)"', html).group(1).replace("&amp;", "&")
    assert locked.get(switch).headers["Location"] == "/login"  # back where the switch was clicked
    html = locked.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Password" in html
    # The choice outlives signing in (which starts a fresh session) and signing out.
    assert login(locked).status_code == 303
    assert "Sign out" in locked.get("/").get_data(as_text=True)
    locked.post("/logout", data={"csrf_token": csrf(locked, "/")})
    assert '<html lang="en">' in locked.get("/login").get_data(as_text=True)


def test_language_comes_from_the_switch_then_accept_language_then_the_setting(app, settings, engine):
    browser = app.test_client()
    assert '<html lang="en">' in browser.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="vi">' in browser.get("/", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="vi">' in browser.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    browser.get("/language/vi?next=/messages")
    assert '<html lang="vi">' in browser.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert browser.get("/language/xx?next=//evil.example").headers["Location"] == "/"  # ignored, stays on site
    english_by_default = create_app(replace_settings(settings, language="en"), engine=engine).test_client()
    assert '<html lang="en">' in english_by_default.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in english_by_default.get("/", headers={"Accept-Language": "vi"}).get_data(as_text=True)


def test_status_words_are_translated_on_pages_not_in_the_api(reader, auth, day_of_work):
    mid = day_of_work["delivered"]
    html = reader.get(f"/messages/{mid}").get_data(as_text=True)
    assert re.search(r'data-text="f-status" class="badge s-delivered">Đã nhận<', html)
    assert reader.get(f"/dashboard/data/messages/{mid}").json["text"]["f-status"] == {
        "t": "Đã nhận",
        "cls": "badge s-delivered",
    }
    listed = reader.get("/messages").get_data(as_text=True)
    for word in ("Đã nhận", "Thất bại", "Bị từ chối", "Đang chờ"):
        assert f">{word}</span>" in listed, word
    assert '<option value="failed">Thất bại</option>' in listed
    assert reader.get("/messages?status=failed").status_code == 200  # filters keep the API's words
    body = reader.get(f"/api/messages/{mid}", headers=auth).json
    assert body["status"] == "delivered" and body["created_at"].endswith("Z")  # the contract: words and UTC
    assert english(reader).get(f"/dashboard/data/messages/{mid}").json["text"]["f-status"]["t"] == "delivered"


def test_vietnamese_numbers_money_percentages_and_dates(reader, engine):
    created = datetime(2024, 6, 5, 16, 30, 12, tzinfo=UTC)  # 23:30:12 in Ho Chi Minh City
    mid = add(
        engine,
        status="delivered",
        price="1234567",
        created_at=created,
        sent_at=created,
        final_at=created + timedelta(seconds=10),
    )[0]
    html = reader.get(f"/messages/{mid}").get_data(as_text=True)
    assert text_of(html, "f-price") == f"1.234.567{NBSP}₫"
    assert text_of(html, "f-created_at") == "05/06/2024 23:30:12"
    assert text_of(html, "f-time_to_final") == "10,0 giây"
    add(engine, 2, status="delivered", created_at=ago(minutes=5))
    add(engine, 1, status="failed", error_code="-114", created_at=ago(minutes=5))
    html = reader.get("/").get_data(as_text=True)
    assert text_of(html, "rate") == "66,7%"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", text_of(html, "as-of"))
    english(reader)
    html = reader.get(f"/messages/{mid}").get_data(as_text=True)
    assert text_of(html, "f-price") == "₫1,234,567" and text_of(html, "f-created_at") == "05/06/2024 23:30:12"


def test_failure_reasons_in_both_languages_with_advice(reader, day_of_work):
    failures = re.search(r'data-table="failures".*?</table>', reader.get("/").get_data(as_text=True), re.S).group(0)
    assert "Người dùng không hoạt động, đã từ chối nhận tin" in failures
    assert codes.describe_vi("789") in failures  # eSMS's own Vietnamese (tracker/esms/code_table.py)
    assert "Không thể liên lạc người này qua Zalo" in failures and "Sửa mẫu tin hoặc tham số" in failures
    assert "không liên lạc được" in failures and "mẫu tin" in failures  # the classes, translated
    message = reader.get(f"/messages/{day_of_work['failed']}").get_data(as_text=True)
    assert text_of(message, "f-error_meaning").startswith("-114: Người dùng không hoạt động")
    assert text_of(message, "f-error_advice").startswith("Không thể liên lạc người này qua Zalo")
    assert text_of(message, "f-error_class") == "không liên lạc được"
    english(reader)
    failures = re.search(r'data-table="failures".*?</table>', reader.get("/").get_data(as_text=True), re.S).group(0)
    assert "User is inactive" in failures and "This person cannot be reached by Zalo" in failures


def test_every_known_code_has_a_vietnamese_meaning_and_advice(app):
    from tracker.dashboard import reasons
    from tracker.esms import codes

    known = [*codes.CODE_RESULTS, *codes.ZALO_ERRORS, *codes.OWN_CODES, *codes.CLIENT_CODES, "http_502", "x-1"]
    with app.test_request_context("/"):
        for code in known:
            assert reasons.meaning(code) != codes.describe(code), code
            assert reasons.advice(code), code
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert reasons.meaning("-114") == codes.describe("-114")
        assert reasons.meaning("http_502") == "eSMS answered HTTP 502"


def test_today_is_the_local_day(reader, engine, monkeypatch):
    """A message created at 23:30 in Ho Chi Minh City counts in that day, which began at 17:00 UTC."""
    day = (utcnow().astimezone(HCM) - timedelta(days=2)).date()

    def local(d: date, hh: int, mm: int) -> datetime:
        return datetime.combine(d, time(hh, mm), tzinfo=HCM).astimezone(UTC)

    add(engine, status="delivered", created_at=local(day, 23, 30))
    add(engine, status="failed", created_at=local(day, 0, 10))
    add(engine, status="rejected", created_at=local(day - timedelta(days=1), 23, 30))
    monkeypatch.setattr(ranges, "utcnow", lambda: local(day, 23, 50))
    html = reader.get("/?range=today").get_data(as_text=True)
    assert text_of(html, "range") == "Hôm nay"
    assert [text_of(html, k) for k in ("n-total", "n-delivered", "n-failed", "n-rejected")] == ["2", "1", "1", "0"]
    assert f'name="since" value="{day:%d/%m/%Y} 00:00"' in html  # the form shows local midnight
    monkeypatch.setattr(ranges, "utcnow", lambda: local(day + timedelta(days=1), 0, 10))
    assert text_of(reader.get("/?range=today").get_data(as_text=True), "n-total") == "0"


def test_custom_ranges_and_the_chart_use_local_days(reader, engine):
    day = date(2024, 6, 5)
    at = lambda d, hh, mm: datetime.combine(d, time(hh, mm), tzinfo=HCM).astimezone(UTC)  # noqa: E731
    add(engine, status="delivered", created_at=at(day, 23, 30))  # 16:30 UTC on the 5th
    add(engine, status="failed", created_at=at(day + timedelta(days=1), 0, 30))  # 17:30 UTC on the 5th
    html = reader.get("/?range=custom&since=2024-06-05T00:00&until=2024-06-06T00:00").get_data(as_text=True)
    assert [text_of(html, k) for k in ("n-total", "n-delivered", "n-failed")] == ["1", "1", "0"]
    assert text_of(html, "range") == "05/06/2024 00:00 – 06/06/2024 00:00"
    # Typed the way the form shows times, with or without seconds: the same range.
    typed = reader.get("/?range=custom&since=05/06/2024 00:00&until=05/06/2024 23:59:59").get_data(as_text=True)
    assert [text_of(typed, k) for k in ("n-total", "n-delivered")] == ["1", "1"] and 'class="error"' not in typed
    data = reader.get("/dashboard/data/overview?range=custom&since=2024-06-01T00:00&until=2024-06-08T00:00").json
    titles = [b["title"] for b in data["chart"]["bars"]]
    assert titles == ["05/06 · Đã nhận: 1 trên 1", "06/06 · Thất bại: 1 trên 1"]
    assert [label["t"] for label in data["chart"]["labels"]][0] == "01/06"
    # Hours are the local clock's: the 23:30 message sits in the 23:00 bar.
    data = reader.get("/dashboard/data/overview?range=custom&since=2024-06-05T12:00&until=2024-06-06T06:00").json
    assert [b["title"] for b in data["chart"]["bars"]] == ["23:00 · Đã nhận: 1 trên 1", "00:00 · Thất bại: 1 trên 1"]


def test_chart_hours_follow_a_zone_off_the_whole_hour(db_url, tmp_path, engine):
    app = create_app(make_settings(db_url, tmp_path / "instance", TRACKER_TIMEZONE="Asia/Kathmandu"), engine=engine)
    with app.test_request_context("/"):
        origin = overview._local_floor(datetime(2024, 6, 5, 16, 30, tzinfo=UTC), timedelta(hours=1))
        assert origin.astimezone(ZoneInfo("Asia/Kathmandu")).strftime("%H:%M") == "22:00"  # 22:15 local, floored


def test_list_links_and_date_inputs_are_local(reader, engine):
    add(engine, created_at=ago(minutes=30))
    html = reader.get("/?range=1h").get_data(as_text=True)
    since = re.search(r'name="since" value="([^"]+)"', html).group(1)
    assert since == f"{(utcnow() - timedelta(hours=1)).astimezone(HCM):%d/%m/%Y %H:%M}"
    assert 'placeholder="dd/MM/yyyy HH:mm"' in html and 'type="datetime-local"' not in html
    link = re.search(r'href="(/messages\?since=[^"]+)"', html).group(1).replace("&amp;", "&")
    listed = reader.get(link).get_data(as_text=True)
    assert len(re.findall(r'<a href="/messages/\d+">', listed)) == 1
    shown = re.search(r'name="since" value="([^"]+)"', listed).group(1)  # the list's field, in the same format
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", shown) and shown.startswith(since)


def test_csv_times_are_local_with_their_offset(reader, engine):
    created = datetime(2024, 6, 5, 16, 30, 12, tzinfo=UTC)
    add(engine, status="failed", error_code="-114", created_at=created, final_at=created)
    rows = list(csv.DictReader(io.StringIO(reader.get("/messages.csv").get_data().decode("utf-8-sig"))))
    assert rows[0]["created_at"] == "2024-06-05T23:30:12+07:00"
    assert datetime.fromisoformat(rows[0]["created_at"]) == created  # still the exact instant
    assert rows[0]["created_local"] == "05/06/2024 23:30:12"
    assert rows[0]["status"] == "failed"  # the API's word: spreadsheets filter on it
    assert rows[0]["error_meaning"].startswith("Người dùng không hoạt động")


def test_the_footer_names_the_time_zone(reader, settings, engine):
    assert "Giờ hiển thị theo múi giờ Asia/Ho_Chi_Minh (GMT+07:00)." in reader.get("/").get_data(as_text=True)
    elsewhere = create_app(replace_settings(settings, timezone="America/Sao_Paulo"), engine=engine).test_client()
    html = english(elsewhere).get("/").get_data(as_text=True)
    assert "Times in America/Sao_Paulo (GMT-03:00)." in html


def test_live_script_has_no_words_of_its_own(reader):
    js = reader.get("/static/live.js").get_data(as_text=True)
    strings = re.findall(r'"([^"\\]*)"', js)
    sentences = [s for s in strings if re.search(r"[A-Za-z]+ [A-Za-z]+", s) and s != "use strict"]
    assert not sentences, sentences
    html = reader.get("/").get_data(as_text=True)
    assert 'data-say-updated="Trực tiếp · cập nhật lúc {time}"' in html
    assert re.fullmatch(r"\d\d:\d\d:\d\d", reader.get("/dashboard/data/overview").json["stamp"])


def test_flash_and_error_messages_are_translated(reader, engine, settings):
    assert "Không có tin nhắn #999999." in reader.get("/messages/999999").get_data(as_text=True)
    resp = reader.post("/messages", data={"phone": "0901"})
    assert resp.status_code == 403 and "Biểu mẫu đã hết hạn" in resp.get_data(as_text=True)
    bad = reader.post("/messages", data={"phone": "12345", "csrf_token": csrf(reader)}).get_data(as_text=True)
    assert "Số điện thoại: không phải số di động Việt Nam." in bad or "Số điện thoại: không phải số" in bad
    assert "Không có trạng thái" in reader.get("/messages?status=lost").get_data(as_text=True)
    forwarding = create_app(replace_settings(settings, forward_url="http://127.0.0.1:9/hook"), engine=engine)
    browser = forwarding.test_client()
    browser.post("/forwarding/retry", data={"csrf_token": csrf(browser, "/")})
    assert "Không có lượt chuyển tiếp thất bại nào cần thử lại." in browser.get("/").get_data(as_text=True)


def test_upload_problems_are_translated(reader, engine):
    from tests.dashboard.test_upload import MIXED, upload

    html = upload(reader, MIXED).get_data(as_text=True)
    assert "2 dòng bị lỗi; chưa có tin nào được đưa vào hàng đợi." in html
    rows = re.findall(r'<td class="num">(\d+)</td><td>([a-z_]+)</td><td>([^<]*)</td>', html)
    assert rows and all(not english_words(f"<p>{problem}</p>") for _line, _field, problem in rows), rows
    assert "Không đọc được tệp: thiếu cột &#39;order_id&#39;." in upload(reader, b"phone\n0901888484\n").get_data(
        as_text=True
    )
    english(reader)
    assert "2 bad rows; nothing was queued." in upload(reader, MIXED).get_data(as_text=True)
