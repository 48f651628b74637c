"""tracker.queries.stats: totals, delivery rate and time-to-final percentiles, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.db import utcnow
from tracker.queries import stats

T0 = utcnow().replace(microsecond=0) - timedelta(hours=2)
SPAN = (T0, T0 + timedelta(hours=1))


@pytest.mark.parametrize(
    "values, p, expected",
    [
        ([], 0.5, None),
        ([7.0], 0.5, 7.0),
        ([7.0], 0.99, 7.0),
        ([1.0, 2.0, 3.0], 0.0, 1.0),
        ([1.0, 2.0, 3.0], 1.0, 3.0),
        ([1.0, 2.0, 3.0], 0.5, 2.0),
        # Between two ranks the value is interpolated (nearest rank would give 2 or 3).
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0.9, 3.7),
        ([0.0, 10.0], 0.95, 9.5),
        ([10.0, 20.0, 30.0, 40.0, 100.0], 0.99, 97.6),
    ],
)
def test_percentile_cont(values, p, expected):
    got = stats.percentile_cont(values, p)
    assert got == (None if expected is None else pytest.approx(expected))


def final_message(make_message, seconds: float, *, created: datetime = T0, sent: bool = True, **fields) -> int:
    """A message that took ``seconds`` from acceptance (or, unsent, from creation) to its final status."""
    start = created + timedelta(minutes=1)
    return make_message(
        status=fields.pop("status", st.DELIVERED),
        created_at=created,
        sent_at=start if sent else None,
        final_at=(start if sent else created) + timedelta(seconds=seconds),
        **fields,
    )


def ttf(engine, since: datetime = SPAN[0], until: datetime = SPAN[1]) -> dict:
    with Session(engine) as s:
        return stats.time_to_final(s, since, until)


def test_time_to_final_percentiles_agree_on_both_databases(engine, make_message):
    for seconds in (40, 10, 100, 30, 20):
        final_message(make_message, seconds)
    out = ttf(engine)
    assert out["count"] == 5
    assert out == {
        "count": 5,
        "p50": pytest.approx(30.0, abs=1e-3),
        "p90": pytest.approx(76.0, abs=1e-3),
        "p95": pytest.approx(88.0, abs=1e-3),
        "p99": pytest.approx(97.6, abs=1e-3),
    }


def test_time_to_final_counts_from_creation_when_never_sent(engine, make_message):
    final_message(make_message, 12, sent=False, status=st.REJECTED)
    out = ttf(engine)
    assert out["count"] == 1 and out["p50"] == pytest.approx(12.0, abs=1e-3)


def test_time_to_final_only_counts_final_messages_created_in_the_range(engine, make_message):
    final_message(make_message, 5)
    final_message(make_message, 500, created=SPAN[0] - timedelta(seconds=1))  # before the range
    final_message(make_message, 500, created=SPAN[1])  # the end is exclusive
    final_message(make_message, 500, created=SPAN[1] - timedelta(minutes=30))  # in range, counts
    make_message(status=st.ACCEPTED, created_at=T0)  # not final yet
    out = ttf(engine)
    assert out["count"] == 2 and out["p50"] == pytest.approx(252.5, abs=1e-3)


def test_time_to_final_rounds_to_milliseconds(engine, make_message):
    final_message(make_message, 1.2344)
    out = ttf(engine)
    assert out["p50"] == 1.234 and out["p99"] == 1.234


def test_time_to_final_of_nothing(engine, make_message):
    make_message(status=st.SENT, created_at=T0)
    assert ttf(engine) == {"count": 0, "p50": None, "p90": None, "p95": None, "p99": None}


def summary(engine, since=SPAN[0], until=SPAN[1]) -> dict:
    with Session(engine) as s:
        return stats.summary(s, since, until)


def test_summary_counts_every_status_and_the_delivery_rate(engine, make_message):
    for status, n in ((st.DELIVERED, 2), (st.FAILED, 1), (st.QUEUED, 2), (st.SENT, 1), (st.ACCEPTED, 1)):
        for _ in range(n):
            if status in st.FINAL:
                final_message(make_message, 10, status=status)
            else:
                make_message(status=status, created_at=T0)
    out = summary(engine)
    assert out["by_status"] == {
        **{s: 0 for s in st.ALL},
        st.DELIVERED: 2,
        st.FAILED: 1,
        st.QUEUED: 2,
        st.SENT: 1,
        st.ACCEPTED: 1,
    }
    assert list(out["by_status"]) == list(st.ALL)
    assert (out["total"], out["final"]) == (7, 3)
    assert out["in_flight"] == 4  # everything not final, queued included
    assert out["delivery_rate"] == 0.6667  # two of three, to four places
    assert out["time_to_final_seconds"]["count"] == 3


def test_summary_without_final_messages_has_no_rate(engine, make_message):
    make_message(status=st.QUEUED, created_at=T0)
    out = summary(engine)
    assert out["delivery_rate"] is None and out["final"] == 0 and out["total"] == 1


def test_summary_range_includes_its_start_and_excludes_its_end(engine, make_message):
    make_message(status=st.QUEUED, created_at=SPAN[0])
    make_message(status=st.QUEUED, created_at=SPAN[1])
    make_message(status=st.QUEUED, created_at=SPAN[0] - timedelta(microseconds=1))
    assert summary(engine)["total"] == 1


def test_summary_times_are_iso_utc(engine):
    out = summary(engine)
    assert out["since"] == SPAN[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert out["until"] == SPAN[1].strftime("%Y-%m-%dT%H:%M:%SZ")


def test_summary_defaults_to_the_last_24_hours(engine, make_message):
    make_message(status=st.QUEUED, created_at=utcnow() - timedelta(hours=23))
    make_message(status=st.QUEUED, created_at=utcnow() - timedelta(hours=25))
    before = utcnow()
    with Session(engine) as s:
        out = stats.summary(s)
    since, until = (datetime.fromisoformat(out[k].replace("Z", "+00:00")) for k in ("since", "until"))
    assert until - since == stats.DEFAULT_RANGE == timedelta(hours=24)
    assert before <= until <= utcnow()
    assert out["total"] == 1


def test_summary_since_alone_runs_to_now(engine, make_message):
    make_message(status=st.QUEUED, created_at=utcnow() - timedelta(days=3))
    with Session(engine) as s:
        out = stats.summary(s, since=utcnow() - timedelta(days=4))
    assert out["total"] == 1


def test_sandbox_messages_are_counted_apart_and_left_out_of_the_delivery_rate(engine, make_message):
    """Issue 11: eSMS never delivers a sandbox send (moi-truong-test-sandbox.md), so it stays
    accepted; counted with real traffic it would pull the delivery rate down."""
    final_message(make_message, 10)
    final_message(make_message, 20, status=st.FAILED)
    for _ in range(3):
        make_message(status=st.ACCEPTED, created_at=T0, sandbox=True)
    final_message(make_message, 900, status=st.REJECTED, sandbox=True)
    out = summary(engine)
    assert (out["total"], out["final"], out["in_flight"], out["delivery_rate"]) == (2, 2, 0, 0.5)
    assert out["by_status"][st.ACCEPTED] == 0
    assert out["sandbox"]["total"] == 4
    assert (out["sandbox"]["by_status"][st.ACCEPTED], out["sandbox"]["by_status"][st.REJECTED]) == (3, 1)
    assert out["time_to_final_seconds"]["count"] == 2


def test_summary_counts_the_delivered_messages_known_to_have_reached_the_phone(engine, make_message):
    final_message(make_message, 10, delivered_to_phone_at=T0 + timedelta(minutes=2))
    final_message(make_message, 10)
    final_message(make_message, 10, sandbox=True, delivered_to_phone_at=T0 + timedelta(minutes=2))
    out = summary(engine)
    assert (out["by_status"][st.DELIVERED], out["delivered_to_phone"]) == (2, 1)
