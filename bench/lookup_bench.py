"""Lookups at scale: the tracker's read API vs a reference endpoint, with 1,000,000 messages.

    .venv/bin/python bench/lookup_bench.py [--messages 1000000] [--duration 8] [--smoke]

Seeds PostgreSQL with COPY (messages over the last 30 days, two events each; the
database's own triggers, such as daily_counts, fire as they would), then measures, in
one run and under the same gunicorn settings:

- GET /api/messages/<id>          (the message and its events)
- GET /api/messages?smsid=<smsid>
- GET /api/journeys/<order_id>    (four messages)

against bench/minimal_receiver.py (one prepared psycopg SELECT + JSON, on its own copy of
the rows in its own database and schema, under plain gunicorn: it shares nothing of ours),
bench/reference_app.py (bearer check + one psycopg query + JSON on our database) and a bare
no-op Flask endpoint. Prints the query plans PostgreSQL uses for the statements the
tracker actually sends (captured from SQLAlchemy), a table, and `RATIO` lines
(target: ours >= 0.80 of the minimal receiver; the old reference is a second line).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from common import (
    API_TOKEN,
    LoadResult,
    base_env,
    copy_to_minimal,
    gunicorn,
    machine_line,
    measured,
    minimal_server,
    minimal_url,
    pg_url,
    plain_pg,
    print_table,
    ratio_line,
    reset_database,
)
from seed import order_for, seed, smsid_for

LOOKUPS = ("message", "smsid", "journey")


def lookup_paths(kind: str, first: int, n: int, count: int, seed_: int) -> list[str]:
    rng = random.Random(seed_)
    ids = [first + rng.randrange(n) for _ in range(count)]
    if kind == "message":
        return [f"/api/messages/{i}" for i in ids]
    if kind == "smsid":
        return [f"/api/messages?smsid={smsid_for(i)}" for i in ids]
    return [f"/api/journeys/{order_for(i)}" for i in ids]


def explain(url: str, first: int, n: int, env: dict[str, str]) -> list[str]:
    """EXPLAIN ANALYZE of every statement the tracker sends for each lookup (and its scrape-time gauges)."""
    import os

    import psycopg
    from sqlalchemy import event

    old = dict(os.environ)
    os.environ.update(env)
    try:
        from tracker import create_app

        app = create_app()
    finally:
        os.environ.clear()
        os.environ.update(old)
    engine = app.extensions["engine"]
    captured: list[tuple[str, object]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    from tracker import driver

    # The read API sends most of its statements to psycopg directly.
    driver.observers.append(lambda sql, params: captured.append((sql, params)))

    client = app.test_client()
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    mid = first + n // 2
    out: list[str] = []
    probes = [
        ("GET /api/messages/<id>", f"/api/messages/{mid}"),
        ("GET /api/messages?smsid=", f"/api/messages?smsid={smsid_for(mid)}"),
        ("GET /api/journeys/<order_id>", f"/api/journeys/{order_for(mid)}"),
        ("GET /metrics (queue depth, reconcile lag)", "/metrics"),
    ]
    with psycopg.connect(plain_pg(url)) as pg:
        for label, path in probes:
            captured.clear()
            resp = client.get(path, headers=auth)
            assert resp.status_code == 200, (path, resp.status_code, resp.data[:300])
            for statement, params in captured:
                if statement.strip().upper().startswith("SELECT 1"):
                    continue
                out.append(f"EXPLAIN {label}:")
                out.append("  " + " ".join(statement.split())[:300])
                plan = pg.execute(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + statement, params
                ).fetchall()
                out += ["    " + row[0] for row in plan]
            pg.rollback()
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--database-url",
        help="PostgreSQL (default: BENCH_DATABASE_URL, TEST_DATABASE_URL, or tracker_bench on 127.0.0.1)",
    )
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--repeat", type=int, default=2, help="measured runs of each server (best kept)")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database of the previous run if it has the same number of messages",
    )
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument("--smoke", action="store_true", help="seconds, not minutes: proves the bench still runs")
    args = p.parse_args(argv)
    if args.smoke:
        args.messages, args.duration, args.repeat, args.concurrency = 2000, 1.0, 1, 4
    url = pg_url(args.database_url)

    print(machine_line())
    lines: list[str] = []
    first = 1
    if args.reuse and _count(url) == args.messages:
        lines.append(f"reusing the {args.messages} messages already seeded")
    else:
        reset_database(url)
        t0 = time.perf_counter()
        # Oldest first, over the last 30 days: ids grow with time, as they do in production.
        first, took = seed(url, args.messages, spread=timedelta(days=30), events=True)
        lines.append(
            f"seeded {args.messages} messages + {2 * args.messages} events with COPY in {took:.1f} s "
            f"(with ANALYZE: {time.perf_counter() - t0:.1f} s)"
        )
        first = 1
    if not (args.reuse and _count(minimal_url(url), "msg") == args.messages):
        t0 = time.perf_counter()
        copied = copy_to_minimal(url, minimal_url(url), events=True)
        lines.append(
            f"copied {copied} messages and their events to the minimal receiver's own database "
            f"in {time.perf_counter() - t0:.1f} s"
        )

    results: list[LoadResult] = []
    with tempfile.TemporaryDirectory(prefix="lookup-bench-") as tmp_:
        tmp = Path(tmp_)
        env = base_env(url, tmp, TRACKER_LOG_LEVEL="INFO")
        plans = explain(url, first, args.messages, env)
        ours = gunicorn("ours", "wsgi:app", env, tmp)
        ref = gunicorn("reference", "bench.reference_app:app", env, tmp)
        minimal = minimal_server("minimal", minimal_url(url), tmp)
        servers = (ours, ref, minimal)
        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        count = max(2000, int(args.duration * 3000))
        try:
            for s in servers:
                s.start()
            for s in servers:  # warm both: connections, prepared statements, the page cache
                for kind in LOOKUPS:
                    measured(
                        "warm-up",
                        s,
                        None,
                        lookup_paths(kind, first, args.messages, 500, 0),
                        args.concurrency,
                        1,
                        auth,
                        args.loadgen,
                    )
            c = args.concurrency
            results.append(measured("noop (bare Flask)", ref, None, ["/noop"], c, args.duration, tool=args.loadgen))
            for kind in LOOKUPS:
                for rep in range(args.repeat):
                    paths = lookup_paths(kind, first, args.messages, count, seed_=rep + 1)
                    results.append(
                        measured(
                            f"minimal {kind}", minimal, minimal_url(url), paths, c, args.duration, auth, args.loadgen
                        )
                    )
                    results.append(measured(f"reference {kind}", ref, url, paths, c, args.duration, auth, args.loadgen))
                    results.append(measured(f"ours {kind}", ours, url, paths, c, args.duration, auth, args.loadgen))
            rss = {s.name: s.worker_rss_mb() for s in servers}
        finally:
            for s in servers:
                s.stop()

    best: dict[str, LoadResult] = {}
    for r in results:
        if r.label not in best or r.rps > best[r.label].rps:
            best[r.label] = r
    print()
    print("\n".join(plans))
    print()
    print_table(list(best.values()))
    print()
    print("\n".join(lines))
    for name, values in rss.items():
        lines_ = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name}: gunicorn worker RSS after the runs: {lines_} MB")
    noop = best["noop (bare Flask)"]
    for kind in LOOKUPS:
        print(ratio_line(f"lookup {kind} ours/minimal", best[f"ours {kind}"], best[f"minimal {kind}"], 0.80))
        print(ratio_line(f"lookup {kind} ours/reference", best[f"ours {kind}"], best[f"reference {kind}"], None))
        print(ratio_line(f"lookup {kind} minimal/noop", best[f"minimal {kind}"], noop, None))
    errors = sum(r.errors for r in results)
    print(f"ERRORS lookups: {errors} non-2xx or failed requests in all runs")
    return 0


def _count(url: str, table: str = "messages") -> int:
    import psycopg

    try:
        with psycopg.connect(plain_pg(url)) as c:
            return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except Exception:
        return -1


if __name__ == "__main__":
    sys.exit(main())
