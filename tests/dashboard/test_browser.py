"""The dashboard in headless Chromium: sign in, watch a message go from queued to delivered live, screenshots.

The main flow runs once in Vietnamese and once in English; the screenshots of both
(``overview-vi.png``, ``overview-en.png``...) are kept as CI artifacts.
"""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import requests
from werkzeug.serving import make_server

from tests.dashboard.support import PASSWORD, add
from tests.support import API_TOKEN, ROOT, SECRET, make_settings, replace_settings
from tracker import create_app, tokens
from tracker.ops import migrate

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WAIT_MS = 15_000


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None
    if not path:
        problem = "Chromium is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright for Python is missing, so Chromium cannot be driven (pip install playwright)"
    if problem:
        if os.environ.get("TRACKER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TRACKER_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)
    return path


@pytest.fixture
def shots() -> Path:
    folder = Path(os.environ.get("TRACKER_SCREENSHOTS") or ROOT / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def server(tmp_path):
    """A real tracker web server on a free port, over a fresh SQLite database."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    migrate.upgrade(url)
    settings = make_settings(url, tmp_path / "instance", TRACKER_DASHBOARD_PASSWORD=PASSWORD)
    app = create_app(replace_settings(settings, dashboard_poll_ms=400))
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser():
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def send(base: str, order_id: str, name: str) -> int:
    resp = requests.post(
        f"{base}/api/messages",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
        json={
            "phone": "0901888484",
            "template_id": "523194",
            "order_id": order_id,
            "params": [name, order_id, "đang giao hàng"],
        },
    )
    assert resp.status_code == 202, resp.text
    return resp.json()["id"]


def report(base: str, mid: int, send_status: int, success: int = 0) -> None:
    """eSMS calling the message's own CallbackUrl, over HTTP."""
    query = urlencode(
        {
            "SMSID": f"SIM-{mid}",
            "SendStatus": send_status,
            "SendSuccess": success,
            "SendFailed": 0,
            "TotalPrice": "220" if success else "0",
            "TotalReceiver": 1,
            "TotalSent": 1,
            "TypeId": 27,
            "telcoid": 2,
            "phonenumber": "0901888484",
        }
    )
    resp = requests.get(f"{base}/webhooks/esms/{tokens.make(SECRET, mid)}?{query}", timeout=10)
    assert resp.status_code == 200 and resp.json()["outcome"] == "applied", resp.text


def wait_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([sel, want]) => { const el = document.querySelector(sel); return el && el.textContent.trim() === want; }",
        arg=[selector, text],
        timeout=WAIT_MS,
    )


# What the main flow reads on the pages, in each language (Accept-Language or the switch chose it).
WORDS = {
    "vi": {
        "messages": "Tin nhắn",
        "rate": "33,3%",
        "queued": "Trong hàng đợi",
        "waiting": "Đang chờ",
        "delivered": "Đã nhận",
        "live": "Trực tiếp · cập nhật lúc ",
        "today": "Hôm nay",
        "journey": "2 tin nhắn, 2 tin đã có trạng thái cuối, 2 tin đã nhận",
    },
    "en": {
        "messages": "Messages",
        "rate": "33.3%",
        "queued": "queued",
        "waiting": "waiting",
        "delivered": "delivered",
        "live": "Live · updated ",
        "today": "Today",
        "journey": "2 messages, 2 with a final status, 2 delivered",
    },
}
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: date, hh: int, mm: int) -> datetime:
    """A wall-clock time in Ho Chi Minh City (the default TRACKER_TIMEZONE), as UTC."""
    return datetime.combine(day, time(hh, mm), tzinfo=HCM).astimezone(UTC)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_live_dashboard_in_chromium(server, browser, shots, lang, tmp_path, monkeypatch):
    """The main flow once in each language: Vietnamese by default, English by one click on the sign-in form."""
    words = WORDS[lang]
    from tracker.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    # Two messages that ended badly earlier, so the overview has failure reasons to explain.
    add(engine, status="failed", error_code="-114", order_id="DH-2026-000", final_at=datetime.now(UTC))
    add(engine, status="rejected", error_code="789", order_id="DH-2025-999", final_at=datetime.now(UTC))
    first = send(server, "DH-2026-001", "Nguyễn Văn An")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    navigations: list[str] = []
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)

    # Sign in: the overview sends us to the login form and back.
    page.goto(f"{server}/")
    assert "/login" in page.url
    if lang == "en":
        page.click("nav.lang >> text=English")
        page.wait_for_url(f"{server}/login?next=/")
    assert page.get_attribute("html", "lang") == lang
    page.screenshot(path=str(shots / f"login-{lang}.png"), full_page=True)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    assert page.get_attribute("html", "lang") == lang  # the choice survived signing in
    wait_text(page, "[data-text=n-queued]", "1")
    assert page.locator("svg.chart rect.s-queued").count() == 1

    # The message moves on while the page stays open: numbers and chart change in place.
    page.evaluate("() => { window.__stillHere = 'yes'; }")
    before = len(navigations)
    report(server, first, 2)
    wait_text(page, "[data-text=n-in_flight]", "1")
    wait_text(page, "[data-text=n-queued]", "0")
    report(server, first, 5, success=1)
    wait_text(page, "[data-text=n-delivered]", "1")
    wait_text(page, "[data-text=rate]", words["rate"])
    assert page.locator("svg.chart rect.s-delivered").count() == 1
    assert page.evaluate("() => window.__stillHere") == "yes" and len(navigations) == before
    assert page.text_content("[data-live-state]").startswith(words["live"])
    assert page.locator("table[data-table=failures] tbody tr").count() == 2
    page.screenshot(path=str(shots / f"overview-{lang}.png"), full_page=True)

    # The list, then the message itself with its timeline.
    page.click(f"header nav >> text={words['messages']}")
    page.wait_for_url(f"{server}/messages")
    assert page.locator("table[data-table=messages] tbody tr").count() == 3
    page.screenshot(path=str(shots / f"messages-{lang}.png"), full_page=True)
    page.click(f"a[href='/messages/{first}']")
    page.wait_for_url(f"{server}/messages/{first}")
    assert page.text_content("[data-text=f-status]").strip() == words["delivered"]
    assert page.locator("table[data-table=events] .o-applied").count() == 2
    assert "Nguyễn Văn An" in page.text_content("[data-text=f-params]")

    # A second message of the same journey, watched on its own page from queued to delivered.
    second = send(server, "DH-2026-001", "Trần Thị Bích")
    page.goto(f"{server}/messages/{second}")
    wait_text(page, "[data-text=f-status]", words["queued"])
    page.evaluate("() => { window.__stillHere = 'again'; }")
    before = len(navigations)
    report(server, second, 2)
    wait_text(page, "[data-text=f-status]", words["waiting"])
    report(server, second, 5, success=1)
    wait_text(page, "[data-text=f-status]", words["delivered"])
    page.wait_for_function(
        "() => document.querySelectorAll('table[data-table=events] tbody tr').length === 2", timeout=WAIT_MS
    )
    assert page.evaluate("() => window.__stillHere") == "again" and len(navigations) == before
    assert page.get_attribute("[data-text=f-status]", "class") == "badge s-delivered"
    page.screenshot(path=str(shots / f"message-{lang}.png"), full_page=True)

    # The journey, as a timeline.
    page.click("a[href='/journeys/DH-2026-001']")
    page.wait_for_url(f"{server}/journeys/DH-2026-001")
    assert words["journey"] in page.text_content("[data-text=summary]")
    assert page.locator("table[data-table=timeline] tbody tr").count() == 6
    page.screenshot(path=str(shots / f"journey-{lang}.png"), full_page=True)

    # A phone-sized screen.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        locale="vi-VN",
        storage_state=context.storage_state(),
    )
    small = phone.new_page()
    small.goto(f"{server}/")
    wait_text(small, "[data-text=n-delivered]", "2")
    assert small.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    small.screenshot(path=str(shots / f"overview-phone-{lang}.png"), full_page=True)
    phone.close()

    # Local time: with the clock at 23:50 in Ho Chi Minh City, "today" began at local midnight
    # (17:00 UTC the day before), so a message of 23:30 counts and one of 23:30 the day before not.
    from tracker.dashboard import ranges

    day = (datetime.now(UTC).astimezone(HCM) - timedelta(days=2)).date()
    add(engine, status="delivered", created_at=local(day, 23, 30))
    add(engine, status="failed", created_at=local(day, 0, 10))
    add(engine, status="rejected", created_at=local(day - timedelta(days=1), 23, 30))
    engine.dispose()
    monkeypatch.setattr(ranges, "utcnow", lambda: local(day, 23, 50))  # the server runs in this process
    page.goto(f"{server}/")
    page.click(f".ranges >> text={words['today']}")
    page.wait_for_url(f"{server}/?range=today")
    for key, want in (("n-total", "2"), ("n-delivered", "1"), ("n-failed", "1"), ("n-rejected", "0")):
        wait_text(page, f"[data-text={key}]", want)
    since = page.input_value("form.custom-range input[name=since]")
    assert since == f"{day:%d/%m/%Y} 00:00", since  # local midnight, as the page writes dates
    context.close()
    assert not problems, problems


def test_live_updates_pause_while_the_tab_is_hidden(server, browser):
    context = browser.new_context(locale="en-US")  # Accept-Language alone picks English
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    page.wait_for_function("() => Number(document.body.dataset.liveUpdates || 0) >= 2", timeout=WAIT_MS)
    # Pretend the tab went to the background, as a browser does for a hidden tab.
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    frozen = page.evaluate("() => Number(document.body.dataset.liveUpdates)")
    page.wait_for_timeout(1500)
    assert page.evaluate("() => Number(document.body.dataset.liveUpdates)") <= frozen + 1  # at most one in flight
    assert "Paused" in page.text_content("[data-live-state]")
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_function(f"() => Number(document.body.dataset.liveUpdates) > {frozen + 1}", timeout=WAIT_MS)
    context.close()


def test_upload_progress_updates_live(server, browser, shots, tmp_path):
    from sqlalchemy import update

    from tracker.db import make_engine, utcnow
    from tracker.models import Message

    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{server}/login?next=/upload")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/upload")
    csv_text = (
        "phone,order_id,param1,param2\n0901888484,DH-1,Nguyễn Văn An,đang giao hàng\n"
        "0901888485,DH-2,Trần Thị Bích,đã giao\n0901888486,DH-3,Lê Văn Cường,đang giao hàng\n"
    )
    page.set_input_files(
        "input[name=file]", files=[{"name": "đơn hàng.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}]
    )
    page.fill("input[name=template_id]", "2056446")
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url(f"{server}/upload/*")
    wait_text(page, "[data-text=total]", "3")
    assert "đơn hàng.csv: 3 messages queued." in page.text_content(".notice")

    # The worker is not running here: mark one delivered by hand and watch the bar change in place.
    engine = make_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    with engine.begin() as conn:
        conn.execute(update(Message).where(Message.order_id == "DH-1").values(status="delivered", final_at=utcnow()))
    engine.dispose()
    wait_text(page, "[data-text=final]", "1 with a final status, 1 delivered")
    assert page.locator("svg[data-bar] rect.s-delivered").count() == 1
    page.screenshot(path=str(shots / "upload-progress.png"), full_page=True)
    context.close()
    assert not problems, problems
