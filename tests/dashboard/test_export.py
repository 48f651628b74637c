"""tracker.dashboard.export: the CSV export of a filtered list: streamed in chunks (never all in memory), the
formula guard, ISO times with the tracker's offset, the local-time and code-meaning columns, newest first."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.dashboard.support import add
from tracker.dashboard import export, listing, reasons

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
T = datetime(2024, 6, 5, 16, 30, 12, tzinfo=UTC)  # 23:30:12 local


@pytest.mark.parametrize(
    "value, safe",
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-", "'-"),
        ("=", "'="),
        # Numbers, signed codes and phone numbers stay as they are.
        ("+84901888484", "+84901888484"),
        ("-114", "-114"),
        ("220.00", "220.00"),
        ("-1.5", "-1.5"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("1+1", "1+1"),
        ("a=b", "a=b"),
        ("", ""),
        (None, None),
        (12, 12),
        (True, True),
    ],
)
def test_formula_guard(value, safe):
    assert export._safe(value, HCM) == safe


@pytest.mark.parametrize("value", [T, T.replace(tzinfo=None), T.astimezone(ZoneInfo("Europe/Paris"))])
def test_times_are_iso_on_the_trackers_clock_with_the_offset(value):
    assert export._safe(value, HCM) == "2024-06-05T23:30:12+07:00"


def rows_of(app, engine, lang="en", **filters):
    with app.test_request_context("/messages.csv", headers={"Accept-Language": lang}):
        f = listing.from_args(filters, {})
        chunks = list(export.rows(engine, f))
    return chunks, list(csv.DictReader(io.StringIO("".join(chunks).lstrip("\ufeff"))))


def test_header_bom_and_columns(app, engine):
    chunks, rows = rows_of(app, engine)
    assert chunks[0].startswith("\ufeff" + ",".join(export.COLUMNS) + "\r\n")
    assert rows == []


def test_a_row_has_iso_times_local_time_meaning_and_guarded_text(app, engine):
    (mid,) = add(
        engine,
        status="failed",
        created_at=T,
        error_code="-114",
        error_message='=HYPERLINK("x")',
        campaign_id="@camp",
        price="220",
        phone="+84901888484",
    )
    _, rows = rows_of(app, engine)
    (row,) = rows
    assert row["id"] == str(mid)
    assert row["created_at"] == "2024-06-05T23:30:12+07:00"
    assert row["created_local"] == "05/06/2024 23:30:12"
    assert row["status"] == "failed"  # the API's word, whatever the language
    assert row["phone"] == "+84901888484" and row["error_code"] == "-114"
    assert row["error_message"] == '\'=HYPERLINK("x")' and row["campaign_id"] == "'@camp"
    assert row["price"] in ("220", "220.00", "220.0000")
    assert row["sent_at"] == ""


def test_meaning_and_status_in_vietnamese(app, engine):
    add(engine, status="failed", created_at=T, error_code="-114")
    _, rows = rows_of(app, engine, "vi")
    with app.test_request_context("/", headers={"Accept-Language": "vi"}):
        assert rows[0]["error_meaning"] == reasons.meaning("-114")
    assert rows[0]["error_meaning"].startswith("Người dùng")
    assert rows[0]["status"] == "failed"


def test_newest_first_and_filtered(app, engine):
    old = add(engine, status="delivered", created_at=T)
    new = add(engine, 2, status="delivered", created_at=T)
    add(engine, status="failed", created_at=T)
    _, rows = rows_of(app, engine, status="delivered")
    assert [int(r["id"]) for r in rows] == sorted(old + new, reverse=True)


def test_streams_in_chunks_of_whole_rows(app, engine, monkeypatch):
    monkeypatch.setattr(export, "FLUSH_BYTES", 500)
    add(engine, 30, created_at=T)
    chunks, rows = rows_of(app, engine)
    assert len(rows) == 30
    assert len(chunks) > 3
    for chunk in chunks[:-1]:
        assert len(chunk) >= 500 and chunk.endswith("\r\n")
    assert all(len(c) < 500 + 1000 for c in chunks)


def test_one_chunk_when_small(app, engine):
    add(engine, 3, created_at=T)
    chunks, rows = rows_of(app, engine)
    assert len(chunks) == 1 and len(rows) == 3


def test_rows_is_lazy(app, engine):
    with app.test_request_context("/"):
        gen = export.rows(engine, listing.Filters())
        assert iter(gen) is gen  # a generator: nothing is read before the first chunk is asked for


def test_the_download_is_streamed(client, engine):
    add(engine, 2, created_at=T)
    resp = client.get("/messages.csv")
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="messages-')
    body = resp.get_data(as_text=True)
    assert body.startswith("\ufeffid,created_at,created_local,")
    # created_at and updated_at of both rows; created_local once per row.
    assert body.count("2024-06-05T23:30:12+07:00") == 4
    assert body.count(",05/06/2024 23:30:12,") == 2
