"""tracker.dashboard.ranges: the overview's ranges on the tracker's clock (UTC+7): presets, "today" from local
midnight, custom ranges typed in local time, their labels and links, and bad input falling back to 24 hours."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import make_settings
from tracker import create_app
from tracker.dashboard import ranges
from tracker.db import make_engine

NOW = datetime(2024, 6, 5, 16, 30, tzinfo=UTC)  # 23:30 on 5 June in Ho Chi Minh City
TICK = timedelta(microseconds=1)


@pytest.fixture(scope="module")
def speak(sqlite_url, tmp_path_factory):
    app = create_app(make_settings(sqlite_url, tmp_path_factory.mktemp("ranges")), engine=make_engine(sqlite_url))

    @contextmanager
    def in_language(lang: str):
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            yield

    return in_language


@pytest.mark.parametrize(
    "now, midnight",
    [
        # 23:30 local on 5 June: the local day began at 17:00 UTC on 4 June.
        (NOW, datetime(2024, 6, 4, 17, 0, tzinfo=UTC)),
        # 16:59 UTC is still 23:59 on the same local day; 17:00 UTC is the next one.
        (datetime(2024, 6, 5, 16, 59, tzinfo=UTC), datetime(2024, 6, 4, 17, 0, tzinfo=UTC)),
        (datetime(2024, 6, 5, 17, 0, tzinfo=UTC), datetime(2024, 6, 5, 17, 0, tzinfo=UTC)),
        # 02:00 UTC is 09:00 local: the same calendar day in both.
        (datetime(2024, 6, 5, 2, 0, tzinfo=UTC), datetime(2024, 6, 4, 17, 0, tzinfo=UTC)),
    ],
)
def test_local_midnight(now, midnight):
    assert ranges.local_midnight(now) == midnight


@pytest.mark.parametrize(
    "key, span",
    [("1h", timedelta(hours=1)), ("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30))],
)
def test_presets_end_just_after_now(speak, key, span):
    with speak("en"):
        rng = ranges.from_args({"range": key}, NOW)
    assert (rng.key, rng.since, rng.until, rng.error) == (key, NOW - span, NOW + TICK, None)


def test_today_starts_at_local_midnight(speak):
    with speak("en"):
        rng = ranges.from_args({"range": "today"}, NOW)
    assert rng.since == datetime(2024, 6, 4, 17, 0, tzinfo=UTC)
    assert rng.until == NOW + TICK
    assert rng.since_text == "05/06/2024 00:00" and rng.until_text == "05/06/2024 23:30"


@pytest.mark.parametrize("args", [{}, {"range": ""}])
def test_no_range_is_the_default_24_hours(speak, args):
    with speak("en"):
        rng = ranges.from_args(args, NOW)
    assert rng.key == ranges.DEFAULT == "24h" and rng.error is None and rng.args() == {}


def test_now_defaults_to_the_clock(speak):
    with speak("en"):
        rng = ranges.from_args({"range": "1h"})
    assert timedelta(0) < datetime.now(UTC) - rng.since <= timedelta(hours=1, minutes=1)


@pytest.mark.parametrize(
    "since, until, want_since, want_until",
    [
        (
            "05/06/2024 08:00",
            "05/06/2024 20:00",
            datetime(2024, 6, 5, 1, 0, tzinfo=UTC),
            datetime(2024, 6, 5, 13, 0, tzinfo=UTC),
        ),
        (
            "2024-06-05T08:00",
            "2024-06-05T20:00",
            datetime(2024, 6, 5, 1, 0, tzinfo=UTC),
            datetime(2024, 6, 5, 13, 0, tzinfo=UTC),
        ),
        ("2024-06-05T08:00+00:00", "", datetime(2024, 6, 5, 8, 0, tzinfo=UTC), NOW),
    ],
)
def test_custom_ranges_are_read_as_local_time(speak, since, until, want_since, want_until):
    with speak("en"):
        rng = ranges.from_args({"range": "custom", "since": since, "until": until}, NOW)
    assert (rng.key, rng.since, rng.until, rng.error) == ("custom", want_since, want_until, None)
    assert rng.args() == {"range": "custom", "since": since, "until": until}


def test_custom_label_is_both_ends_in_local_minutes(speak):
    with speak("en"):
        rng = ranges.from_args({"range": "custom", "since": "05/06/2024 08:00", "until": "05/06/2024 20:00"}, NOW)
        assert rng.label == "05/06/2024 08:00 – 05/06/2024 20:00"


@pytest.mark.parametrize(
    "lang, key, label", [("en", "7d", "Last 7 days"), ("en", "today", "Today"), ("vi", "today", "Hôm nay")]
)
def test_preset_labels_in_the_readers_language(speak, lang, key, label):
    with speak(lang):
        assert ranges.from_args({"range": key}, NOW).label == label


@pytest.mark.parametrize("key, args", [("7d", {"range": "7d"}), ("today", {"range": "today"}), ("24h", {})])
def test_preset_args_name_the_range_again(speak, key, args):
    with speak("en"):
        assert ranges.from_args({"range": key}, NOW).args() == args


@pytest.mark.parametrize(
    "args, error",
    [
        ({"range": "custom", "since": "soon", "until": ""}, "The custom range's times could not be read."),
        (
            {"range": "custom", "since": "05/06/2024 08:00", "until": "never"},
            "The custom range's times could not be read.",
        ),
        ({"range": "custom", "since": "", "until": "05/06/2024 08:00"}, "A custom range needs a start time."),
        ({"range": "custom"}, "A custom range needs a start time."),
        (
            {"range": "custom", "since": "05/06/2024 08:00", "until": "05/06/2024 08:00"},
            "A custom range must end after it starts.",
        ),
        (
            {"range": "custom", "since": "05/06/2024 09:00", "until": "05/06/2024 08:00"},
            "A custom range must end after it starts.",
        ),
        (
            {"range": "custom", "since": "01/01/2023 00:00", "until": "05/06/2024 08:00"},
            "A custom range may span at most 400 days.",
        ),
        ({"range": "2w"}, "Unknown range; showing the last 24 hours."),
    ],
)
def test_bad_input_falls_back_to_24_hours_with_a_reason(speak, args, error):
    with speak("en"):
        rng = ranges.from_args(args, NOW)
    assert rng.key == "24h" and rng.since == NOW - timedelta(hours=24) and rng.until == NOW + TICK
    assert rng.error == error


def test_errors_in_vietnamese(speak):
    with speak("vi"):
        rng = ranges.from_args({"range": "2w"}, NOW)
    assert rng.error and rng.error != "Unknown range; showing the last 24 hours."


def test_a_custom_range_of_exactly_400_days_is_allowed(speak):
    since = NOW - ranges.MAX_CUSTOM
    with speak("en"):
        rng = ranges.from_args({"range": "custom", "since": since.isoformat(), "until": NOW.isoformat()}, NOW)
    assert rng.key == "custom" and rng.error is None


def test_parse_time_is_the_forms_reading():
    assert ranges.parse_time("") is None
    assert ranges.parse_time("2024-06-05T23:30") == NOW
