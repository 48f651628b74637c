"""tracker.dashboard.formats: numbers, money, percentages, times, durations and time input, in both languages.

Vietnamese (the default) and English (British conventions); times on the tracker's clock
(Asia/Ho_Chi_Minh, UTC+7). Run inside a request of an app on SQLite only: nothing here
touches the database.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.support import make_settings
from tracker import create_app
from tracker.dashboard import formats
from tracker.db import make_engine

T = datetime(2024, 6, 5, 16, 30, 12, tzinfo=UTC)  # 23:30:12 in Ho Chi Minh City


@pytest.fixture(scope="module")
def speak(sqlite_url, tmp_path_factory):
    app = create_app(make_settings(sqlite_url, tmp_path_factory.mktemp("formats")), engine=make_engine(sqlite_url))

    @contextmanager
    def in_language(lang: str):
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            yield

    return in_language


@pytest.mark.parametrize(
    "lang, n, shown",
    [
        ("vi", 1234567, "1.234.567"),
        ("en", 1234567, "1,234,567"),
        ("vi", 0, "0"),
        ("en", 12.5, "12.5"),
        ("vi", 12.5, "12,5"),
        ("vi", None, "—"),
        ("en", None, "—"),
    ],
)
def test_number(speak, lang, n, shown):
    with speak(lang):
        assert formats.number(n) == shown


@pytest.mark.parametrize(
    "lang, value, shown",
    [
        ("vi", 1234567, "1.234.567 ₫"),
        ("en", 1234567, "₫1,234,567"),
        ("vi", Decimal("220.00"), "220 ₫"),
        ("en", Decimal("220.00"), "₫220"),
        ("vi", 1.5, "1,5 ₫"),
        ("en", Decimal("0.25"), "₫0.25"),
        ("vi", None, "—"),
    ],
)
def test_money_in_dong_keeps_fractions_and_drops_zero_decimals(speak, lang, value, shown):
    with speak(lang):
        assert formats.money(value).replace("\xa0", " ") == shown


@pytest.mark.parametrize(
    "lang, part, whole, shown",
    [
        ("vi", 4, 7, "57,1%"),
        ("en", 4, 7, "57.1%"),
        ("en", 1, 1, "100.0%"),
        ("en", 0, 3, "0.0%"),
        ("vi", 3, 0, "—"),
    ],
)
def test_percent_has_one_decimal_and_a_dash_for_nothing(speak, lang, part, whole, shown):
    with speak(lang):
        assert formats.percent(part, whole).replace("\xa0", "") == shown


@pytest.mark.parametrize(
    "lang, seconds, shown",
    [
        ("en", 10, "10.0s"),
        ("vi", 10, "10,0 giây"),
        ("en", 0.4, "0.4s"),
        ("en", 184, "3m 4s"),
        ("vi", 184, "3 phút 4 giây"),
        ("en", 3 * 3600 + 60, "3h 1m"),
        ("vi", 3 * 3600 + 60, "3 tiếng 1 phút"),
        ("en", 50 * 3600, "2d 2h"),
        ("vi", 50 * 3600, "2 ngày 2 tiếng"),
        ("en", None, "—"),
    ],
)
def test_duration_in_narrow_units(speak, lang, seconds, shown):
    with speak(lang):
        assert formats.duration(seconds).replace("\xa0", " ") == shown


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_times_are_local_day_first_in_both_languages(speak, lang):
    with speak(lang):
        assert formats.when(T) == "05/06/2024 23:30:12"
        assert formats.when_minutes(T) == "05/06/2024 23:30"
        assert formats.when_short(T) == "05/06 23:30:12"
        assert formats.clock(T) == "23:30:12"
        assert formats.when(None) == "—"
        assert formats.input_hint() == "dd/MM/yyyy HH:mm"
        assert formats.input_value(T) == "05/06/2024 23:30"
        assert formats.input_value(T, seconds=True) == "05/06/2024 23:30:12"
        assert formats.when_function()(T) == formats.when(T)
        assert formats.when_function()(None) == "—"


def test_naive_times_are_read_as_utc(speak):
    with speak("en"):
        assert formats.when(T.replace(tzinfo=None)) == "05/06/2024 23:30:12"
        assert formats.local(T.replace(tzinfo=None)).utcoffset().total_seconds() == 7 * 3600


@pytest.mark.parametrize("name, shown", [("Hm", "23:30"), ("Md", "05/06"), ("MdHm", "05/06 23:30")])
def test_chart_label_skeletons(speak, name, shown):
    with speak("vi"):
        assert formats.skeleton(T, name) == shown


def test_wire_is_local_iso_without_offset_and_reads_back(speak):
    with speak("en"):
        assert formats.wire(T) == "2024-06-05T23:30:12"
        assert formats.parse_local(formats.wire(T)) == T


def test_zone_label(speak):
    with speak("en"):
        assert formats.zone_label(T) == ("Asia/Ho_Chi_Minh", "GMT+07:00")


@pytest.mark.parametrize(
    "raw, utc",
    [
        ("05/06/2024 23:30", datetime(2024, 6, 5, 16, 30, tzinfo=UTC)),
        ("05/06/2024 23:30:12", T),
        ("  05/06/2024 23:30  ", datetime(2024, 6, 5, 16, 30, tzinfo=UTC)),
        ("2024-06-05T23:30", datetime(2024, 6, 5, 16, 30, tzinfo=UTC)),
        ("2024-06-05T16:30:12Z", T),
        ("2024-06-05T18:30:12+02:00", T),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_parse_local_reads_shown_and_iso_times(speak, lang, raw, utc):
    with speak(lang):
        assert formats.parse_local(raw) == utc


@pytest.mark.parametrize("raw", ["yesterday", "31/02/2024 10:00", "2024-13-01", "0001-01-01T00:00"])
def test_parse_local_refuses_what_it_cannot_read(speak, raw):
    with speak("en"), pytest.raises(ValueError):
        formats.parse_local(raw)


def test_outside_a_request_the_defaults_apply():
    assert formats.number(1234567) == "1.234.567"
    assert str(formats.zone()) == "Asia/Ho_Chi_Minh"
