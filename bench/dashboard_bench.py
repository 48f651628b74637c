"""Seed messages into PostgreSQL and time the dashboard's overview and list against an empty page.

    .venv/bin/python bench/dashboard_bench.py                 # 10,000 then 1,000,000 messages
    .venv/bin/python bench/dashboard_bench.py --smoke         # ~2,000 messages, a few seconds (CI)
    .venv/bin/python bench/dashboard_bench.py --messages 200000 --database-url postgresql://...

The database's public schema is dropped and rebuilt: by default the script uses
its own database, the name of TEST_DATABASE_URL's with ``_bench`` appended
(created when missing), or BENCH_DATABASE_URL when set. Rows are written with
COPY, so the daily_counts triggers fill the counters exactly as in production.
Server time is measured in-process with Flask's test client (no network), as
the median of --repeat requests, next to an empty page measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from tracker import config, create_app  # noqa: E402
from tracker.db import make_engine  # noqa: E402
from tracker.ops import migrate

sys.path.insert(0, str(ROOT / "bench"))
from seed import MESSAGE_COLS  # noqa: E402

TARGET_MS = 300.0
PAGES = {
    "overview (24 h)": "/",
    "overview (7 days)": "/?range=7d",
    "overview (30 days)": "/?range=30d",
    "details (7 days)": "/dashboard/data/overview/details?range=7d",
    "details (30 days)": "/dashboard/data/overview/details?range=30d",
    "overview live JSON": "/dashboard/data/overview",
    "list, first page": "/messages",
    "list, failed only": "/messages?status=failed",
}
KEY_PAGES = ("overview (24 h)", "list, first page")
# The columns bench/seed.py copies, less the id (the database numbers these rows).
COPY_COLUMNS = tuple(c for c in MESSAGE_COLS if c != "id")
TEMPLATES = [f"52319{i}" for i in range(8)]
OAS = ["4097311281936189049", "4097311281936189050"]
CAMPAIGNS = [None] * 5 + [f"KM-{i:02d}" for i in range(20)]
FAILURES = [("-114", "User is inactive or rejected the message"), ("-118", None), ("1001", None), ("send_failed", None)]
REJECTIONS = [("789", "Template not configured"), ("791", None), ("108", None)]


def bench_url(explicit: str | None) -> str:
    if explicit:
        return config.normalize_database_url(explicit)
    if os.environ.get("BENCH_DATABASE_URL"):
        return config.normalize_database_url(os.environ["BENCH_DATABASE_URL"])
    base = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/tracker"
    url = config.normalize_database_url(base)
    head, name = url.rsplit("/", 1)
    return f"{head}/{name.split('?')[0]}_bench"


def ensure_database(url: str) -> None:
    head, name = url.rsplit("/", 1)
    admin = make_engine(f"{head}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def reset(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def rows(n: int, start: datetime, end: datetime, first_id: int, rng: random.Random):
    """``n`` messages spread evenly over [start, end), oldest first, as a shop's traffic would be."""
    step = (end - start) / n
    for i in range(n):
        created = start + step * i
        age = end - created
        r = rng.random()
        sent = created + timedelta(seconds=rng.uniform(0.3, 3))
        final = sent + timedelta(seconds=rng.lognormvariate(3, 1))
        status, code, message, price, final_at = "delivered", None, None, 220, final
        if age < timedelta(minutes=2) and r < 0.5:
            status, final_at, price = rng.choice(["queued", "sending", "accepted", "waiting", "sent"]), None, None
        elif r < 0.06:
            (code, message), status, price = rng.choice(FAILURES), "failed", 0
        elif r < 0.08:
            (code, message), status, price, final_at = rng.choice(REJECTIONS), "rejected", None, sent
        if final_at and final_at > end:
            status, final_at, code, message, price = "sent", None, None, None, None
        seq = first_id + i
        yield (
            "api",
            status,
            f"SIM{seq:09d}" if status not in ("queued", "sending") else None,
            f"rq{seq}",
            f"+8490{seq % 10_000_000:07d}",
            TEMPLATES[seq % len(TEMPLATES)],
            OAS[seq % 7 == 0],
            json.dumps(["Nguyễn Văn An", f"DH{seq // 3}"], ensure_ascii=False),
            f"DH{seq // 3}",
            CAMPAIGNS[seq % len(CAMPAIGNS)],
            False,
            code,
            message,
            price,
            "Viettel" if price else None,
            1,
            created,
            final_at or sent,
            sent if status != "queued" else None,
            final_at,
        )


def seed(url: str, n: int, start: datetime, end: datetime, first_id: int) -> float:
    """COPY ``n`` messages in; returns seconds taken (the counter triggers run inside it)."""
    began = time.perf_counter()
    with psycopg.connect(libpq(url)) as conn:
        with conn.cursor() as cur:
            with cur.copy(f"COPY messages ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
                for row in rows(n, start, end, first_id, random.Random(first_id)):
                    copy.write_row(row)
        conn.commit()
    elapsed = time.perf_counter() - began
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE messages")
        conn.execute("VACUUM ANALYZE daily_counts")
    return elapsed


def measure(client, path: str, repeat: int) -> list[float]:
    for _ in range(2):  # warm caches and prepared plans, as a running server would be
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        resp = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert resp.status_code == 200, path
    return times


def make_app(url: str):
    instance = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    settings = config.load(
        {
            "DATABASE_URL": url,
            "TRACKER_SIMULATOR": "1",
            "TRACKER_SECRET_KEY": "bench-secret-key-0123456789abcdef-dashboard",
            "TRACKER_INSTANCE_DIR": str(instance),
        }
    )
    app = create_app(settings)
    app.add_url_rule("/bench-empty", "bench_empty", lambda: "")
    return app


def run_pages(app, repeat: int, label: str) -> dict[str, float]:
    client = app.test_client()
    empty = statistics.median(measure(client, "/bench-empty", repeat))
    print(f"\n== {label}: median server time of {repeat} requests (empty page: {empty:.2f} ms)")
    print(f"{'page':<22} {'median':>9} {'max':>9} {'x empty':>9}")
    medians = {}
    for name, path in PAGES.items():
        times = measure(client, path, repeat)
        med = statistics.median(times)
        medians[name] = med
        print(f"{name:<22} {med:>7.1f}ms {max(times):>7.1f}ms {med / empty:>9.1f}")
    return medians


def csv_export(app, since: datetime, until: datetime) -> None:
    """Stream a CSV export and report its size, time and the peak Python memory it took."""
    client = app.test_client()
    path = f"/messages.csv?since={since:%Y-%m-%dT%H:%M:%S}&until={until:%Y-%m-%dT%H:%M:%S}"
    tracemalloc.start()
    began = time.perf_counter()
    resp = client.get(path, buffered=False)
    lines = size = 0
    for chunk in resp.response:
        size += len(chunk)
        lines += chunk.count(b"\n" if isinstance(chunk, bytes) else "\n")
    elapsed = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    resp.close()
    print(
        f"\n== CSV export: {lines - 1:,} rows, {size / 1e6:.1f} MB in {elapsed:.1f} s, "
        f"peak Python memory {peak / 1e6:.1f} MB (streamed)"
    )


def explain(url: str) -> None:
    now = datetime.now(UTC)
    since = now - timedelta(hours=24)
    queries: dict[str, tuple[str, dict[str, Any]]] = {
        "counters for the range's days": (
            "SELECT day, status, sum(n), sum(price) FROM daily_counts WHERE day >= %(d0)s AND day <= %(d1)s "
            "GROUP BY day, status",
            {"d0": since.date(), "d1": now.date()},
        ),
        "a partial day, counted from the rows": (
            "SELECT status, count(*), sum(price) FROM messages WHERE status IN ('queued','sending','accepted',"
            "'pending_approval','waiting','sent','delivered','failed','rejected') AND created_at >= %(a)s "
            "AND created_at < %(b)s GROUP BY status",
            {"a": since, "b": datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)},
        ),
        "breakdowns (template, OA, campaign)": (
            "SELECT template_id, oa_id, campaign_id, status, count(*), sum(price) FROM messages "
            "WHERE created_at >= %(a)s AND created_at < %(b)s GROUP BY 1, 2, 3, 4",
            {"a": since, "b": now},
        ),
        "list, first page": ("SELECT * FROM messages ORDER BY id DESC LIMIT 51", {}),
        "list, failed only": ("SELECT * FROM messages WHERE status IN ('failed') ORDER BY id DESC LIMIT 51", {}),
    }
    with psycopg.connect(libpq(url)) as conn:
        for name, (sql, params) in queries.items():
            print(f"\n-- EXPLAIN ANALYZE: {name}")
            for (line,) in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params):
                print("   " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000, help="final number of messages")
    parser.add_argument("--small", type=int, default=10_000, help="first measurement at this many")
    parser.add_argument("--days", type=int, default=30, help="the messages span this many days up to now")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (median reported)")
    parser.add_argument("--database-url", help="PostgreSQL database to wipe and use")
    parser.add_argument("--smoke", action="store_true", help="~2,000 messages, a few seconds")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.messages, args.small, args.repeat = 2_000, 500, 5
    url = bench_url(args.database_url)
    if not url.startswith("postgresql"):
        print("the bench needs PostgreSQL (--database-url or TEST_DATABASE_URL)", file=sys.stderr)
        return 2
    ensure_database(url)
    reset(url)
    print(f"database {url.rsplit('@', 1)[-1]}; {args.messages:,} messages over {args.days} days")

    end = datetime.now(UTC)
    start = end - timedelta(days=args.days)
    # Both stages cover the whole span, so the small run is the same traffic, thinner.
    small = min(args.small, args.messages)
    took = seed(url, small, start, end, first_id=1)
    print(f"seeded {small:,} messages in {took:.1f} s ({small / took:,.0f}/s)")
    app = make_app(url)
    results = {small: run_pages(app, args.repeat, f"{small:,} messages")}
    rest = args.messages - small
    if rest > 0:
        took = seed(url, rest, start, datetime.now(UTC), first_id=small + 1)
        print(f"\nseeded {rest:,} more messages in {took:.1f} s ({rest / took:,.0f}/s)")
        results[args.messages] = run_pages(app, args.repeat, f"{args.messages:,} messages")
    csv_export(app, end - timedelta(days=3), end)
    if not args.no_explain:
        explain(url)
    largest = results[max(results)]
    slow = {k: v for k, v in largest.items() if k in KEY_PAGES and v > TARGET_MS}
    print(
        f"\ntarget: {', '.join(KEY_PAGES)} under {TARGET_MS:.0f} ms at {max(results):,} messages: "
        f"{'MISSED ' + str(slow) if slow else 'met'}"
    )
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
