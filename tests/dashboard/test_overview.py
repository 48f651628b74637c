"""Dashboard overview: counts, rate, times, money, chart, failure reasons, breakdowns, ranges, headers.

In English (``client`` from dashboard_support sends Accept-Language: en); the Vietnamese
default is tested in test_dashboard_i18n.py.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest

from tests.dashboard.support import add, ago, local_input, login
from tracker.dashboard import formats, ranges
from tracker.db import utcnow

PAGES = ("/", "/messages", "/login")


def text_of(html: str, key: str) -> str:
    match = re.search(rf'data-text="{re.escape(key)}"[^>]*>([^<]*)<', html)
    assert match, f"no data-text={key}"
    return match.group(1)


@pytest.fixture
def seeded(engine):
    """Ten messages in the last 24 hours (plus some older ones outside the default range)."""
    sent = ago(minutes=30)
    add(
        engine,
        4,
        status="delivered",
        price="220",
        template_id="T-A",
        campaign_id="C-1",
        sent_at=sent,
        final_at=sent + timedelta(seconds=10),
        created_at=ago(minutes=31),
    )
    add(
        engine,
        2,
        status="failed",
        error_code="-114",
        error_message="User rejected",
        template_id="T-B",
        sent_at=sent,
        final_at=sent + timedelta(seconds=50),
        created_at=ago(hours=2),
    )
    add(
        engine,
        1,
        status="rejected",
        error_code="789",
        template_id="T-B",
        oa_id="OA-2",
        final_at=ago(hours=5),
        created_at=ago(hours=5),
    )
    add(engine, 2, status="sent", template_id="T-A", created_at=ago(minutes=5))
    add(engine, 1, status="queued", created_at=ago(minutes=1))
    add(engine, 5, status="delivered", price="60", created_at=ago(days=8), final_at=ago(days=8))


def test_overview_shows_the_numbers_for_the_last_24_hours(client, seeded):
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert text_of(html, "n-total") == "10"
    assert text_of(html, "n-delivered") == "4"
    assert text_of(html, "n-failed") == "2"
    assert text_of(html, "n-rejected") == "1"
    assert text_of(html, "n-in_flight") == "2"
    assert text_of(html, "n-queued") == "1"
    assert text_of(html, "s-sent") == "2"
    assert text_of(html, "rate") == "57.1%"  # 4 delivered of 7 final
    assert text_of(html, "money") == "₫880"
    assert text_of(html, "p50") == "10.0s"
    assert text_of(html, "p95").endswith("s")
    assert text_of(html, "range") == "Last 24 hours"


def test_overview_chart_is_an_svg_stacked_by_status(client, seeded):
    html = client.get("/").get_data(as_text=True)
    svg = re.search(r"<svg class=\"chart\".*?</svg>", html, re.S).group(0)
    classes = set(re.findall(r'<rect class="(s-[a-z_]+)"', svg))
    assert classes == {"s-delivered", "s-failed", "s-rejected", "s-in_flight", "s-queued"}
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    assert sum(int(re.search(r": (\d+) of", t).group(1)) for t in titles) == 10


def test_overview_lists_failure_reasons_in_words_and_breakdowns(client, seeded):
    html = client.get("/").get_data(as_text=True)
    failures = re.search(r'data-table="failures".*?</table>', html, re.S).group(0)
    assert "-114" in failures and "User is inactive" in failures and "User rejected" in failures
    assert "789" in failures and "Template not configured for this OAID" in failures
    assert failures.index("-114") < failures.index("789")  # most frequent first
    by_template = re.search(r'data-table="by-template".*?</table>', html, re.S).group(0)
    assert by_template.index("T-A") < by_template.index("T-B")
    assert "/messages?template=T-A" in by_template
    assert "OA-2" in re.search(r'data-table="by-oa".*?</table>', html, re.S).group(0)
    assert "C-1" in re.search(r'data-table="by-campaign".*?</table>', html, re.S).group(0)


@pytest.mark.parametrize(
    "query, total",
    [
        ("range=1h", 7),
        ("range=24h", 10),
        ("range=7d", 10),
        ("range=30d", 15),
        ("", 10),
    ],
)
def test_overview_ranges(client, seeded, query, total):
    assert text_of(client.get(f"/?{query}").get_data(as_text=True), "n-total") == str(total)


def test_today_counts_from_local_midnight(client, engine):
    now = utcnow()
    midnight = ranges.local_midnight(now)  # in TRACKER_TIMEZONE (Asia/Ho_Chi_Minh), not UTC
    assert midnight.astimezone(formats.zone()).hour == 0
    add(engine, 2, created_at=midnight + (now - midnight) / 2)
    add(engine, 3, created_at=midnight - timedelta(minutes=1))
    html = client.get("/?range=today").get_data(as_text=True)
    assert text_of(html, "n-total") == "2"


def test_custom_range_and_its_errors(client, engine):
    add(engine, 2, created_at=ago(days=3))
    add(engine, 1, created_at=ago(days=1))
    since, until = ago(days=4), ago(days=2)
    # The form's times are local (TRACKER_TIMEZONE), like every time the dashboard shows.
    html = client.get(f"/?range=custom&since={local_input(since)}&until={local_input(until)}").get_data(as_text=True)
    assert text_of(html, "n-total") == "2"
    for bad in (
        "range=custom&since=yesterday",
        "range=custom",
        "range=custom&since=2026-01-02T00:00&until=2026-01-01T00:00",
        "range=decade",
    ):
        html = client.get(f"/?{bad}").get_data(as_text=True)
        assert 'class="error"' in html
        assert text_of(html, "range") == "Last 24 hours"


def test_overview_data_endpoint_is_json_for_live_updates(client, seeded):
    resp = client.get("/dashboard/data/overview?range=1h")
    assert resp.status_code == 200 and resp.is_json
    data = resp.json
    assert data["text"]["n-total"] == "7"
    assert data["active"] is True
    assert {"failures", "by-template", "by-oa", "by-campaign"} <= set(data["tables"])
    assert data["chart"]["bars"]


def test_overview_with_no_messages(client):
    html = client.get("/").get_data(as_text=True)
    assert text_of(html, "n-total") == "0"
    assert text_of(html, "rate") == "—"
    assert "No failed or rejected messages in this range." in html
    assert "data-chart-empty>" in html  # the "no messages yet" note is shown, not hidden


@pytest.mark.parametrize("path", ["/", "/messages", "/dashboard/data/overview"])
def test_security_headers_and_no_inline_script(client, seeded, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    html = resp.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="/static/' in tag
    assert not re.search(r"<[^>]+\son[a-z]+=", html), "inline event handler"
    assert "style=" not in html
    assert "http://" not in html.replace("http://tracker.test", "") and "https://" not in html


def test_open_mode_shows_a_banner(client):
    html = client.get("/").get_data(as_text=True)
    assert 'class="banner"' in html and "Simulator mode" in html and "TRACKER_DASHBOARD_PASSWORD" in html
    assert client.get("/login").status_code == 302  # nothing to sign in to


def test_signed_in_dashboard_has_no_open_banner(locked):
    login(locked)
    html = locked.get("/").get_data(as_text=True)
    assert 'class="banner"' not in html
    assert "Sign out" in html


def test_assets_are_served_by_the_app_and_write_text_only(client):
    js = client.get("/static/live.js")
    assert js.status_code == 200
    source = js.get_data(as_text=True)
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "eval(" not in source
    assert "visibilityState" in source  # pauses in a hidden tab
    css = client.get("/static/dashboard.css")
    assert css.status_code == 200 and "@import" not in css.get_data(as_text=True)
    assert "url(" not in css.get_data(as_text=True)  # no web font or remote image
    assert client.get("/static/favicon.svg").status_code == 200


def test_pages_declare_utf8_and_a_viewport(client):
    html = client.get("/").get_data(as_text=True)
    assert '<meta charset="utf-8">' in html
    assert 'name="viewport"' in html
    assert client.get("/").headers["Content-Type"] == "text/html; charset=utf-8"


def test_chart_scale_and_axis_are_whole_numbers():
    from datetime import datetime

    from tracker.dashboard import chart

    assert [chart.nice_ceiling(v) for v in (0, 1, 3, 7, 11, 250, 1001)] == [1, 1, 5, 10, 20, 500, 2000]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    one = chart.build([(start, {"delivered": 1})], "Hm")
    assert [g["t"] for g in one["grid"]] == ["0", "1"]
    many = chart.build([(start, {"delivered": 6, "failed": 2})] * 48, "Hm")
    assert [g["t"] for g in many["grid"]] == ["0", "5", "10"]
    assert len(many["labels"]) <= chart.MAX_X_LABELS and len(many["bars"]) == 96
    tallest = max(b["y"] + b["h"] for b in many["bars"]) - min(b["y"] for b in many["bars"])
    assert abs(tallest - (chart.HEIGHT - chart.TOP - chart.BOTTOM) * 8 / 10) < 0.1


def test_long_ranges_load_their_details_after_the_page(client, seeded):
    html = client.get("/?range=30d").get_data(as_text=True)
    assert text_of(html, "n-total") == "15" and text_of(html, "p50") == "…"
    assert "Calculating…" in html
    details_url = re.search(r'data-details="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert details_url == "/dashboard/data/overview/details?range=30d"
    data = client.get(details_url).json
    assert data["text"]["p50"] == "5.0s"  # the older messages reached their final status at once
    codes = [row[0]["t"] for row in data["tables"]["failures"]]
    assert codes == ["-114", "789"]
    assert [row[0]["t"] for row in data["tables"]["by-template"]][:2] == ["523194", "T-A"]
    # Short ranges need no second request.
    assert "data-details" not in client.get("/").get_data(as_text=True)
