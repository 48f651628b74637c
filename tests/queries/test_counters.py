"""daily_counts stays equal to a full recount through every write path, on both databases; on
PostgreSQL status changes wait in daily_count_changes until the worker folds them, and reads add them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from tests.support import JOURNEY_FIELDS, SECRET, WEBHOOK_TOKEN, callback_query
from tracker import status as st
from tracker import tokens
from tracker.db import utcnow
from tracker.esms.client import SendResult
from tracker.models import DailyCount, Event, Message, daily_count_changes
from tracker.queries import counters
from tracker.sending import sender


def callback(smsid: str, send_status: int, success: int = 0, failed: int = 0, price: str = "0") -> str:
    return callback_query(smsid, send_status, success, failed, TotalPrice=price, **JOURNEY_FIELDS)


def assert_exact(engine) -> None:
    with Session(engine) as s:
        assert counters.snapshot(s) == counters.recount(s)


def queue_via_api(client, auth, n: int, order: str = "DH") -> list[int]:
    ids = []
    for i in range(n):
        resp = client.post(
            "/api/messages",
            headers=auth,
            json={
                "phone": "0901888484",
                "template_id": "523194",
                "params": ["Nguyễn Văn An", str(i)],
                "order_id": f"{order}{i % 3}",
            },
        )
        assert resp.status_code == 202, resp.json
        ids.append(resp.json["id"])
    return ids


def test_counters_match_a_recount_after_every_write_path(client, engine, settings, auth):
    ids = queue_via_api(client, auth, 12)
    assert_exact(engine)
    with Session(engine) as s:
        assert counters.totals(s, utcnow() - timedelta(hours=1), utcnow() + timedelta(seconds=1))[st.QUEUED].n == 12

    # The worker's batch claim (one multi-row UPDATE) and every kind of send result.
    jobs = sender.claim(engine, settings, limit=12)
    assert len(jobs) == 12
    assert_exact(engine)
    results = [SendResult("accepted", "100", smsid=f"S{j.id}") for j in jobs[:8]]
    results += [
        SendResult("rejected", "789", error_message="template"),
        SendResult("transport", "timeout"),
        SendResult("transport", "connection"),
        SendResult("accepted", "100", smsid=f"S{jobs[11].id}"),
    ]
    for job, result in zip(jobs, results):
        sender.record(engine, settings, job, result)
    assert_exact(engine)

    # Callbacks on each message's own URL: progress, delivery with a price, failure, duplicates, stale.
    for mid in [j.id for j in jobs[:8]]:
        url = f"/webhooks/esms/{tokens.make(SECRET, mid)}"
        assert client.get(f"{url}?{callback(f'S{mid}', 2)}").status_code == 200
        final = callback(f"S{mid}", 5, success=1, price="220") if mid % 2 else callback(f"S{mid}", 5, failed=1)
        assert client.get(f"{url}?{final}").status_code == 200
        assert client.get(f"{url}?{final}").json["outcome"] == "duplicate"
        assert client.get(f"{url}?{callback(f'S{mid}', 7)}").json["outcome"] == "stale"
    assert_exact(engine)

    # The shared URL: a known SMSID, and an unknown one that creates an external message.
    shared = f"/webhooks/esms/{WEBHOOK_TOKEN}"
    assert client.get(f"{shared}?{callback(f'S{jobs[11].id}', 7, price='150')}").status_code == 200
    assert client.get(f"{shared}?{callback('EXT-1', 5, success=1, price='300')}").status_code == 200
    assert_exact(engine)

    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.source == "external")) == 1
        # A price change alone, a move to another day, then deletes.
        s.execute(update(Message).where(Message.id == ids[0]).values(price=Decimal("999.5")))
        s.execute(update(Message).where(Message.id == ids[1]).values(created_at=utcnow() - timedelta(days=3)))
        s.commit()
    assert_exact(engine)
    with Session(engine) as s:
        doomed = ids[2:5]
        s.execute(delete(Event).where(Event.message_id.in_(doomed)))
        s.execute(delete(Message).where(Message.id.in_(doomed)))
        s.commit()
    assert_exact(engine)
    with Session(engine) as s:
        total = sum(t.n for t in counters.snapshot(s).values())
        assert total == s.scalar(select(func.count()).select_from(Message)) == 10


def test_an_update_of_other_columns_leaves_the_counters_as_they_were(engine):
    with Session(engine) as s:
        s.add(Message(source="api", status=st.QUEUED, params=[], created_at=utcnow(), updated_at=utcnow()))
        s.commit()
        live = select(
            counters.DailyCount.day, counters.DailyCount.status, counters.DailyCount.shard, counters.DailyCount.n
        ).where(counters.DailyCount.n != 0)
        before = s.execute(live).all()
        s.execute(update(Message).values(updated_at=utcnow(), attempts=Message.attempts + 1))
        s.commit()
        after = s.execute(live).all()
        assert after == before and [row.n for row in after] == [1]


def test_counters_are_emptied_with_the_table(engine):
    with Session(engine) as s:
        s.add(Message(source="api", status=st.QUEUED, params=[], created_at=utcnow(), updated_at=utcnow()))
        s.commit()
        assert counters.snapshot(s)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE messages CASCADE"))
        else:
            conn.execute(text("DELETE FROM messages"))
    with Session(engine) as s:
        assert counters.snapshot(s) == {}


def test_range_totals_equal_a_direct_count_for_any_range(engine):
    rng = random.Random(7)
    base = datetime(2026, 3, 10, tzinfo=UTC)
    with Session(engine) as s:
        for _ in range(300):
            s.add(
                Message(
                    source="api",
                    status=rng.choice(st.ALL),
                    params=[],
                    price=Decimal(rng.choice(["0", "220", "60.5"])),
                    created_at=base + timedelta(minutes=rng.randrange(5 * 24 * 60)),
                    updated_at=base,
                )
            )
        s.commit()
        ranges = [
            (base, base + timedelta(days=5)),
            (base + timedelta(hours=3), base + timedelta(hours=9)),
            (base + timedelta(hours=1), base + timedelta(days=3, hours=23)),
        ]
        for _ in range(20):
            a = base + timedelta(minutes=rng.randrange(-600, 6 * 24 * 60))
            ranges.append((a, a + timedelta(minutes=rng.randrange(1, 3 * 24 * 60))))
        for since, until in ranges:
            got = counters.totals(s, since, until)
            rows = s.execute(
                select(Message.status, func.count(), func.sum(Message.price))
                .where(Message.created_at >= since, Message.created_at < until)
                .group_by(Message.status)
            ).all()
            want = {status: (n, Decimal(str(p or 0)).quantize(Decimal("0.0001"))) for status, n, p in rows}
            assert {k: (t.n, t.price) for k, t in got.items() if t.n} == want, (since, until)


@pytest.mark.parametrize("hours", [0, 1])
def test_empty_or_inverted_range_counts_nothing(engine, hours):
    now = utcnow()
    with Session(engine) as s:
        s.add(Message(source="api", status=st.QUEUED, params=[], created_at=now, updated_at=now))
        s.commit()
        got = counters.totals(s, now, now - timedelta(hours=hours))
        assert all(t.n == 0 for t in got.values())


def test_range_totals_leave_sandbox_messages_out_and_count_them_apart(engine):
    """Issue 11: the overview's counts and delivery rate are real traffic; sandbox sends, which
    eSMS never delivers, are read apart (the counters themselves still hold every message)."""
    now = utcnow()
    with Session(engine) as s:
        for status, sandbox, price in [
            (st.DELIVERED, False, "220"),
            (st.ACCEPTED, True, None),
            (st.ACCEPTED, True, None),
            (st.REJECTED, True, "0"),
            (st.ACCEPTED, False, None),
        ]:
            s.add(
                Message(
                    source="api",
                    status=status,
                    sandbox=sandbox,
                    params=[],
                    price=price,
                    created_at=now - timedelta(minutes=5),
                    updated_at=now,
                )
            )
        s.commit()
        since, until = now - timedelta(hours=1), now + timedelta(seconds=1)
        real = counters.totals(s, since, until)
        apart = counters.sandbox_totals(s, since, until)
        assert {k: t.n for k, t in real.items() if t.n} == {st.DELIVERED: 1, st.ACCEPTED: 1}
        assert real[st.DELIVERED].price == Decimal("220.0000")
        assert {k: t.n for k, t in apart.items() if t.n} == {st.ACCEPTED: 2, st.REJECTED: 1}
        assert sum(t.n for t in counters.sandbox_totals(s, until, since).values()) == 0
        assert counters.snapshot(s) == counters.recount(s)


# -- PostgreSQL's change log and the worker's fold (issue 14) ----------------------------------


def change_rows(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(daily_count_changes))


def live_counters(s: Session) -> dict[str, int]:
    rows = s.execute(select(DailyCount.status, func.sum(DailyCount.n)).group_by(DailyCount.status)).all()
    return {status: int(n) for status, n in rows if n}


def test_a_status_change_waits_in_the_change_log_until_folded_and_reads_stay_exact(engine):
    postgres = engine.dialect.name == "postgresql"
    with Session(engine) as s:
        s.add(Message(source="api", status=st.QUEUED, params=[], created_at=utcnow(), updated_at=utcnow()))
        s.commit()
        s.execute(update(Message).values(status=st.SENDING))
        s.commit()
        # PostgreSQL logs the change (out of the old counter, into the new); SQLite's triggers
        # write the counters at once.
        assert change_rows(s) == (2 if postgres else 0)
        assert live_counters(s) == ({st.QUEUED: 1} if postgres else {st.SENDING: 1})
        assert counters.snapshot(s) == counters.recount(s)
    assert (counters.fold(engine) > 0) == postgres
    with Session(engine) as s:
        assert change_rows(s) == 0
        assert live_counters(s) == {st.SENDING: 1}
        assert counters.snapshot(s) == counters.recount(s)
        assert counters.totals(s, utcnow() - timedelta(hours=1), utcnow() + timedelta(seconds=1))[st.SENDING].n == 1


def test_folding_while_statuses_change_loses_no_change(engine):
    import threading

    now = utcnow()
    with Session(engine) as s:
        s.add_all(
            Message(source="api", status=st.ACCEPTED, params=[], created_at=now - timedelta(days=i % 3), updated_at=now)
            for i in range(120)
        )
        s.commit()
        ids = s.scalars(select(Message.id)).all()
    done = threading.Event()
    folds: list[int] = []

    def fold_until_done():
        while not done.is_set():
            folds.append(counters.fold(engine))

    folder = threading.Thread(target=fold_until_done)
    folder.start()
    try:
        for status, price in ((st.WAITING, None), (st.SENT, None), (st.DELIVERED, Decimal("220"))):
            for i in range(0, len(ids), 7):
                with engine.begin() as conn:
                    values = {"status": status} if price is None else {"status": status, "price": price}
                    conn.execute(update(Message).where(Message.id.in_(ids[i : i + 7])).values(**values))
    finally:
        done.set()
        folder.join(timeout=30)
    counters.fold(engine)
    with Session(engine) as s:
        assert change_rows(s) == 0
        assert counters.snapshot(s) == counters.recount(s)
        assert live_counters(s) == {st.DELIVERED: 120}
    assert len(folds) > 1
