"""Counts per local day from the UTC-day counters equal a plain recount, in zones on and off the hour, with DST."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from tests.dashboard.support import add
from tracker import status as st
from tracker.dashboard import localdays

# Berlin and St John's change their clocks in these days (30 March and 9 March 2025).
START = datetime(2025, 3, 6, 5, 17, tzinfo=UTC)
ZONES = ["Asia/Ho_Chi_Minh", "Asia/Kathmandu", "America/St_Johns", "Europe/Berlin", "UTC"]


@pytest.fixture
def scattered(engine) -> list[tuple[datetime, str]]:
    """300 messages at random minutes over four weeks, in random statuses."""
    rnd = random.Random(13)
    made = []
    for _ in range(300):
        at = START + timedelta(minutes=rnd.randrange(28 * 24 * 60))
        status = rnd.choice(st.ALL)
        add(engine, status=status, created_at=at)
        made.append((at, status))
    return made


@pytest.mark.parametrize("zone_name", ZONES)
def test_per_local_day_equals_a_recount(engine, scattered, zone_name):
    zone = ZoneInfo(zone_name)
    rnd = random.Random(zone_name)
    ranges = [(START - timedelta(days=1), START + timedelta(days=30))]  # everything, whole days
    for _ in range(4):  # and ranges that start and end mid-day
        since = START + timedelta(minutes=rnd.randrange(10 * 24 * 60))
        ranges.append((since, since + timedelta(minutes=rnd.randrange(60, 18 * 24 * 60))))
    with Session(engine) as session:
        for since, until in ranges:
            got = localdays.per_local_day(session, since, until, zone)
            want: dict[tuple[object, str], int] = Counter(
                (at.astimezone(zone).date(), status) for at, status in scattered if since <= at < until
            )
            seen = {
                (start.astimezone(zone).date(), s): n for start, per_status in got for s, n in per_status.items() if n
            }
            assert seen == dict(want), (zone_name, since, until)
            starts = [start for start, _ in got]
            assert starts[0] == since and starts == sorted(starts)
            assert all(s.astimezone(zone).time() == time(0) for s in starts[1:])  # local midnights, DST or not


def test_local_midnights_across_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")
    since = datetime(2025, 3, 29, 12, tzinfo=UTC)
    midnights = localdays.local_midnights(since, since + timedelta(days=2), berlin)
    assert midnights == [datetime(2025, 3, 29, 23, tzinfo=UTC), datetime(2025, 3, 30, 22, tzinfo=UTC)]
