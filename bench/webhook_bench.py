"""Webhook throughput: the tracker vs a reference endpoint doing only the essential SQL.

    .venv/bin/python bench/webhook_bench.py [--duration 10] [--concurrency 16,64] [--no-sqlite] [--smoke]

Seeds accepted messages with SMSIDs, starts the tracker as the Procfile does
(``gunicorn -c gunicorn.conf.py wsgi:app``) and ``bench/reference_app.py`` under the
same gunicorn settings, and drives each in turn with wrk (or bench/loadgen.py) in a
separate process. The callbacks follow the realistic mix: every message gets
2 -> 7 -> 5 in the simulator's own wire format (90 % delivered, 10 % failed), and
10 % of the requests are duplicates. Every measured run gets its own fresh messages.
Prints a table, `RATIO` lines against the targets (ours >= 0.70 of the reference,
p99 < 50 ms at c=16), the outcome mix stored, and the workers' RSS.
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from common import (
    BIN,
    ROOT,
    SECRET,
    LoadResult,
    Server,
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
    run_load,
)
from seed import phone_for, seed, smsid_for

from tracker import tokens
from tracker.simulator import plan as planning
from tracker.simulator import wire
from tracker.simulator.settings import SimSettings

# The shared callback URL's token (TRACKER_WEBHOOK_TOKEN), for the "shared URL" runs.
SHARED_TOKEN = "bench-shared-callback-token-0123456789"
GAP = 150  # a message's next callback comes ~3 x GAP requests later (its order is kept)
DUPLICATE_SHARE = 0.10


def callback_paths(first_id: int, n: int, seed_: int, shared: str | None = None) -> list[str]:
    """GET paths for messages first_id..first_id+n-1: 2 -> 7 -> 5 each, interleaved, 10 % duplicates.

    Each message's own callback URL, or with ``shared`` the shared URL (the message found by SMSID).
    """
    rng = random.Random(seed_)
    sim = SimSettings(seed=seed_)
    keyed: list[tuple[int, int, str]] = []
    for k in range(n):
        mid = first_id + k
        ctx = planning.Context(
            smsid=smsid_for(mid),
            request_id=f"req-{mid}",
            phone="0" + phone_for(mid)[3:],
            type_id=27,
            telco_id=2,
            oa_id="4097311281936189049",
            template_id="523194",
            price=220.0,
            partner_id=wire.new_partner_id(rng),
            user_id=wire.new_zalo_user_id(rng),
            echo_request_id=rng.random() < 0.5,
            form=wire.ERROR_INFO_FORMS[k % len(wire.ERROR_INFO_FORMS)],
            accepted_at=datetime.now(UTC),
        )
        outcome = "delivered" if rng.random() < 0.9 else "failed"
        steps = planning.build_steps(rng, sim, ctx, outcome, 0 if outcome == "delivered" else -114)
        base = f"/webhooks/esms/{shared or tokens.make(SECRET, mid)}?"
        for j, step in enumerate(steps):
            keyed.append((k + j * GAP, j, base + step.query))
    keyed.sort()
    paths = [p for _, _, p in keyed]
    # Duplicates: a copy of a callback a little later, as eSMS's retries arrive.
    out: list[str] = []
    pending: list[tuple[int, str]] = []
    for i, p in enumerate(paths):
        out.append(p)
        if rng.random() < DUPLICATE_SHARE / (1 - DUPLICATE_SHARE):
            pending.append((i + rng.randint(1, 40), p))
        while pending and pending[0][0] <= i:
            out.append(pending.pop(0)[1])
    out += [p for _, p in pending]
    return out


def outcomes(url: str, first_id: int, n: int, *, minimal: bool = False) -> dict[str, int]:
    """Events stored for a block of messages, by outcome (the old reference's events carry only the SMSID)."""
    sql = (
        "SELECT e.outcome, count(*) FROM ev e WHERE e.msg_id BETWEEN {p} AND {p} GROUP BY e.outcome"
        if minimal
        else "SELECT e.outcome, count(*) FROM events e JOIN messages m ON m.smsid = e.smsid "
        "WHERE m.id BETWEEN {p} AND {p} AND e.kind = 'callback' GROUP BY e.outcome"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as c:
            rows = c.execute(sql.format(p="?"), (first_id, first_id + n - 1)).fetchall()
    else:
        import psycopg

        with psycopg.connect(plain_pg(url)) as c:
            rows = c.execute(sql.format(p="%s"), (first_id, first_id + n - 1)).fetchall()
    return dict(sorted(rows))


class Worker:
    """The Procfile's `worker` line beside the web servers: the tracker's whole cost, not the web's alone."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log, self.proc = env, log, None

    def __enter__(self) -> Worker:
        self.proc = subprocess.Popen(
            [str(BIN / "tracker"), "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log, "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def bench_database(label: str, url: str, args, tmp: Path) -> tuple[list[LoadResult], list[str]]:
    """Every run on one database; returns the results and the report lines."""
    postgres = not url.startswith("sqlite")
    variants = [("ours", {})]
    if not args.smoke:
        variants += [
            ("ours, metrics off", {"TRACKER_METRICS": "0"}),
            ("ours, request log off", {"TRACKER_LOG_LEVEL": "WARNING"}),
        ]
    # The references: the minimal receiver (its own database and schema; PostgreSQL only),
    # and the old one on the tracker's own database (its UPDATE pays our triggers).
    refs = (["minimal"] if postgres else []) + ["reference"]
    runs: list[tuple[str, int]] = []
    for c in args.concurrency:
        runs += [("noop", c)]
        # Alternated and repeated: the machine is shared, the best of each is kept.
        for _ in range(args.repeat):
            runs += [(r, c) for r in refs] + [("ours", c), ("ours, shared URL", c)]
            if c == args.concurrency[0]:
                runs += [(name, c) for name, _ in variants[1:]]
    per_block = args.messages
    reset_database(url)
    first, took = seed(url, per_block * (len(runs) + 1), status="accepted")
    lines = [f"{label}: seeded {per_block * (len(runs) + 1)} messages in {took:.1f} s"]
    if postgres:
        copied = copy_to_minimal(url, minimal_url(url), events=False)
        lines.append(f"{label}: copied {copied} messages to the minimal receiver's own database")
    blocks = iter(range(first, first + per_block * (len(runs) + 1), per_block))
    warm_block = next(blocks)

    env = base_env(url, tmp, TRACKER_LOG_LEVEL="INFO", TRACKER_WEBHOOK_TOKEN=SHARED_TOKEN)
    servers: dict[str, Server] = {
        "reference": gunicorn(f"{label}-reference", "bench.reference_app:app", env, tmp),
    }
    if postgres:
        servers["minimal"] = minimal_server(f"{label}-minimal", minimal_url(url), tmp)
    for name, extra in variants:
        servers[name] = gunicorn(
            f"{label}-{name.replace(' ', '_').replace(',', '')}", "wsgi:app", {**env, **extra}, tmp
        )
    servers["ours, shared URL"] = servers["ours"]
    results: list[LoadResult] = []
    try:
        for s in {id(s): s for s in servers.values()}.values():
            s.start()
        with Worker(env, tmp / f"{label}-worker.log") as worker:
            warm = callback_paths(warm_block, per_block, seed_=0)
            for name, s in servers.items():
                run_load("warm-up", s.url, warm, 8, 1 if args.smoke else 2, tool=args.loadgen)
            for name, c in runs:
                if name == "noop":
                    r = measured(
                        "noop (bare Flask)", servers["reference"], None, ["/noop"], c, args.duration, tool=args.loadgen
                    )
                else:
                    block = next(blocks)
                    server = servers[name]
                    shared = SHARED_TOKEN if name == "ours, shared URL" else None
                    r = measured(
                        name,
                        server,
                        minimal_url(url) if name == "minimal" else url,
                        callback_paths(block, per_block, seed_=block, shared=shared),
                        c,
                        args.duration,
                        tool=args.loadgen,
                        also=worker.pids if name.startswith("ours") else None,
                    )
                    mix = outcomes(
                        minimal_url(url) if name == "minimal" else url, block, per_block, minimal=name == "minimal"
                    )
                    wrapped = " (paths wrapped: later ones repeat)" if r.requests > per_block * 3.3 else ""
                    lines.append(f"{label} {name} c={c}: outcomes stored {mix}{wrapped}")
                r.label = f"{label} {r.label}"
                results.append(r)
        for name, s in servers.items():
            rss = ", ".join(f"{x:.0f}" for x in s.worker_rss_mb())
            lines.append(f"{label} {name}: gunicorn worker RSS after the runs: {rss} MB")
    finally:
        for s in {id(s): s for s in servers.values()}.values():
            s.stop()
    locked = sum(s.tail(10**7).count("database is locked") for s in {id(s): s for s in servers.values()}.values())
    lines.append(f"{label}: 'database is locked' in the server logs: {locked}")

    every = list(results)
    by: dict[tuple[str, int], LoadResult] = {}
    for r in every:
        key = (r.label.split(" ", 1)[1], r.concurrency)
        if key not in by or r.rps > by[key].rps:
            by[key] = r
    results[:] = sorted(
        by.values(), key=lambda r: (r.concurrency, list(by).index((r.label.split(" ", 1)[1], r.concurrency)))
    )
    for c in args.concurrency:
        noop = by[("noop (bare Flask)", c)]
        for ours_name in ("ours", "ours, shared URL"):
            ours = by[(ours_name, c)]
            for ref_name in refs:
                target = 0.70 if ref_name == "minimal" else None
                lines.append(
                    ratio_line(f"{label} webhook c={c} {ours_name}/{ref_name}", ours, by[(ref_name, c)], target)
                )
            if c == args.concurrency[0]:
                ok = "met" if ours.p99_ms < 50 else "MISSED"
                lines.append(f"P99 {label} webhook c={c} {ours_name}: {ours.p99_ms:.1f} ms (target < 50 ms) {ok}")
        for ref_name in refs:
            lines.append(ratio_line(f"{label} webhook c={c} {ref_name}/noop", by[(ref_name, c)], noop, None))
        if c == args.concurrency[0]:
            for name, _ in variants[1:]:
                lines.append(ratio_line(f"{label} webhook c={c} ours/({name})", by[("ours", c)], by[(name, c)], None))
        errors = sum(r.errors for r in every if r.concurrency == c)
        lines.append(f"ERRORS {label} c={c}: {errors} non-2xx or failed requests in all runs")
    return results, lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--database-url",
        help="PostgreSQL to bench on (default: BENCH_DATABASE_URL, TEST_DATABASE_URL, or tracker_bench on 127.0.0.1)",
    )
    p.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    p.add_argument("--concurrency", default="16,64")
    p.add_argument("--messages", type=int, help="messages per run (default: 1,200 x duration)")
    p.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument("--no-postgres", action="store_true", help="SQLite only")
    p.add_argument("--repeat", type=int, default=4, help="measured runs of each server, alternated (best kept)")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument("--smoke", action="store_true", help="seconds, not minutes: proves the bench still runs")
    args = p.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    if args.smoke:
        args.duration, args.concurrency, args.repeat = 1.0, [4], 1
        args.messages = args.messages or 300
    args.messages = args.messages or int(1200 * args.duration)

    print(machine_line())
    results: list[LoadResult] = []
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp_:
        tmp = Path(tmp_)
        if not args.no_postgres:
            r, ln = bench_database("postgresql", pg_url(args.database_url), args, tmp)
            results += r
            lines += ln
        if not args.no_sqlite:
            r, ln = bench_database("sqlite", f"sqlite:///{tmp / 'bench.db'}", args, tmp)
            results += r
            lines += ln
    print()
    print_table(results)
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
