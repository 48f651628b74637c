"""Issue 11's dashboard parts in headless Chromium: the pause banner on every page, the low-balance
warning and the quotas on the overview, failures grouped by class, and the resend button.

The account readings and the pause come from the simulator over HTTP (GetBalance_json and
ZNS/GetQuota read by the worker's duty; an account error window met by a real sender worker).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from tests.dashboard.support import PASSWORD, add, send_until_paused
from tests.dashboard.test_browser import WAIT_MS, browser, server, shots  # noqa: F401 (fixtures)
from tests.simulator.support import quiet_settings
from tests.support import OAID, make_settings, replace_settings
from tracker.db import make_engine
from tracker.esms.client import make_client
from tracker.sending import sender
from tracker.simulator import start_in_thread
from tracker.worker.readings import Readings

pytestmark = pytest.mark.browser


@pytest.fixture
def sim():
    running = start_in_thread(quiet_settings(drop_callback_rate=1.0, balance=45_000.0, daily_quota=2000))
    yield running
    running.stop()


def prepare(tmp_path, sim, monkeypatch) -> tuple[object, int]:
    """Readings with a low balance, failures of several classes, and an account pause (101)."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    cfg = replace_settings(
        make_settings(url, tmp_path / "worker"),
        esms_base_url=sim.base_url,
        esms_status_url=sim.status_url,
        pause_probe_base=30.0,
        pause_probe_cap=60.0,
    )
    assert Readings(engine, cfg, make_client(cfg)).run_once() == 2
    now = datetime.now(UTC)
    (night,) = add(engine, status="failed", error_code="-133", order_id="DH-N1", final_at=now)
    add(engine, status="rejected", error_code="789", order_id="DH-T1", final_at=now)
    add(engine, 2, status="failed", error_code="-114", order_id="DH-U1", final_at=now)
    requests.post(f"{sim.url}/_sim/windows", json={"code": "101", "seconds": 120}, timeout=5)
    add(engine, status="queued", order_id="DH-Q1", due_at=now, request_id="held-1")
    monkeypatch.setattr(sender, "_last_accepted", -sender.WARM_SECONDS)
    send_until_paused(engine, cfg)
    return engine, night


def test_banner_warning_classes_and_resend_in_chromium(server, browser, shots, sim, tmp_path, monkeypatch):  # noqa: F811
    _engine, night = prepare(tmp_path, sim, monkeypatch)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{server}/")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")

    # The banner, in Vietnamese, on the overview ...
    banner = page.locator(".banner.paused")
    assert banner.is_visible()
    text = banner.inner_text()
    assert text.startswith("Tạm dừng gửi tin cho toàn bộ tài khoản eSMS từ ") and "101" in text
    assert "Sai ApiKey hoặc SecretKey" in text and "lần thử tiếp theo lúc" in text
    # ... the low-balance warning and the balance in đồng, with the quota per OA ...
    warning = page.locator("[data-text=acct-warning]")
    assert warning.is_visible() and warning.inner_text().startswith("Số dư eSMS thấp: 45.000")
    assert page.locator("[data-text=acct-balance]").inner_text().replace("\xa0", " ") == "45.000 ₫"
    quota_row = page.locator("table[data-table=quotas] tbody tr").first.inner_text()
    assert OAID in quota_row and "2.000" in quota_row
    # ... and the failures by class, counted, with what to do.
    classes = page.locator("table[data-table=failure-classes] tbody tr")
    rows = [classes.nth(i).inner_text() for i in range(classes.count())]
    assert rows[0].startswith("không liên lạc được\t2\t50,0%")
    assert any(r.startswith("gửi lại sau\t1") and "gửi lại sau" in r for r in rows)
    assert any(r.startswith("mẫu tin\t1") and "Sửa mẫu tin hoặc tham số" in r for r in rows)
    page.screenshot(path=str(shots / "overview-account-vi.png"), full_page=True)

    # The live update keeps them (the page's own JSON, in place).
    page.wait_for_function(
        "() => document.querySelector('[data-live-state]').textContent.includes('cập nhật lúc')", timeout=WAIT_MS
    )
    assert warning.is_visible() and page.locator("[data-text=acct-balance]").inner_text().startswith("45.000")

    # Every other page shows the banner too; the failed -133 message offers a resend.
    page.goto(f"{server}/messages/{night}")
    assert page.locator(".banner.paused").is_visible()
    assert "gửi lại sau" in page.locator("[data-text=f-error_class]").inner_text()
    assert "06:00" in page.locator("[data-text=f-error_advice]").inner_text()
    page.screenshot(path=str(shots / "message-resend-vi.png"), full_page=True)
    page.click("form.resend button[type=submit]")
    page.wait_for_url(lambda u: u.rstrip("/").split("/")[-1] != str(night) and "/messages/" in u, timeout=WAIT_MS)
    new = int(page.url.rstrip("/").split("/")[-1])
    assert new != night
    notice = page.locator("p.notice").inner_text()
    assert notice == f"Tin #{night} đã được gửi lại thành tin #{new}."
    assert page.locator(f"section.head a[href='/messages/{night}']").inner_text() == f"#{night}"  # "Gửi lại của tin"
    assert page.locator(".banner.paused").is_visible()
    for path in ("/messages", "/upload", "/journeys/DH-N1"):
        page.goto(f"{server}{path}")
        assert page.locator(".banner.paused").is_visible(), path

    # In English through the language switch.
    page.click("nav.lang >> text=English")
    page.wait_for_load_state()
    assert page.locator(".banner.paused").inner_text().startswith("Sending is paused for the whole eSMS account")
    page.goto(f"{server}/")
    assert page.locator("[data-text=acct-warning]").inner_text().startswith("Low eSMS balance: ₫45,000")
    assert problems == []
    context.close()


def test_no_warning_and_no_banner_when_all_is_well(server, browser, sim, tmp_path):  # noqa: F811
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    cfg = replace_settings(make_settings(url, tmp_path / "w"), esms_base_url=sim.base_url, esms_status_url=sim.url)
    sim.fake.settings.balance = 5_000_000.0
    Readings(make_engine(url), cfg, make_client(cfg)).run_once()
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.goto(f"{server}/")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    assert page.locator(".banner.paused").count() == 0
    assert not page.locator("p.account-warning").is_visible()  # hidden while its text is empty
    assert page.locator("[data-text=acct-balance]").inner_text().replace("\xa0", " ") == "5.000.000 ₫"
    context.close()
