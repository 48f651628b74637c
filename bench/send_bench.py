"""Sending: one worker process against the simulator answering at once.

    .venv/bin/python bench/send_bench.py [--messages 3000] [--samples 30] [--no-sqlite] [--smoke]

- throughput: N messages queued at once (COPY, then the NOTIFY a POST would send);
  the time until the last is `accepted`, with one `tracker worker` process (targets:
  >= 200 messages/s);
- latency when idle: messages queued one at a time, as POST /api/messages does, with
  the worker idle in between; queued -> accepted (sent_at - created_at), median and
  p90 (target: median < 200 ms on PostgreSQL, where LISTEN/NOTIFY wakes the worker;
  SQLite's worker polls every 0.1 s);
- the PostgreSQL backends the worker opened during the burst (pg_stat_activity, polled
  every few milliseconds under the worker's application_name: a connection opened for
  one use and closed at once can slip between two looks, so this is a lower bound), and
  how many of them were still open at its end;
- the worker's RSS after the run.

The simulator runs with --speed 0 and drops its callbacks (no web process competes
for the CPU); TRACKER_SEND_RATE=0 lifts the per-OA rate limit (default 50/s per OA,
eSMS's TPS) so the figure is the worker's own ceiling.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from common import (
    ROOT,
    Server,
    base_env,
    cpu_seconds,
    free_port,
    machine_line,
    pg_url,
    reset_database,
    rss_mb,
    wait_until,
)
from seed import seed


def _counts(url: str, first: int, n: int) -> dict[str, int]:
    sql = "SELECT status, count(*) FROM messages WHERE id BETWEEN {p} AND {p} GROUP BY status"
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.split("///", 1)[1]) as c:
            return dict(c.execute(sql.format(p="?"), (first, first + n - 1)).fetchall())
    import psycopg
    from common import plain_pg

    with psycopg.connect(plain_pg(url)) as c:
        return dict(c.execute(sql.format(p="%s"), (first, first + n - 1)).fetchall())


def _notify(url: str) -> None:
    if url.startswith("sqlite"):
        return
    import psycopg
    from common import plain_pg

    from tracker.sending.queue import QUEUE_CHANNEL

    with psycopg.connect(plain_pg(url), autocommit=True) as c:
        c.execute(f"NOTIFY {QUEUE_CHANNEL}")


WORKER_APP_NAME = "tracker-send-bench-worker"


class Backends:
    """The worker's PostgreSQL backends, polled from pg_stat_activity by application_name."""

    SQL = "SELECT pid, backend_start, query FROM pg_stat_activity WHERE application_name = %s"

    def __init__(self, url: str):
        import psycopg
        from common import plain_pg

        self.conn = psycopg.connect(plain_pg(url), autocommit=True)
        self.started: dict[int, object] = {}
        self.listeners: set[int] = set()  # its LISTEN connection, outside the pool
        self.since = self.conn.execute("SELECT clock_timestamp()").fetchone()[0]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def now(self) -> set[int]:
        rows = self.conn.execute(self.SQL, (WORKER_APP_NAME,)).fetchall()
        for pid, started, query in rows:
            self.started.setdefault(pid, started)
            if query.startswith("LISTEN"):
                self.listeners.add(pid)
        return {pid for pid, _, _ in rows} - self.listeners

    def _poll(self) -> None:
        while not self.stop.is_set():
            self.now()
            time.sleep(0.002)

    def finish(self) -> tuple[int, int]:
        """(backends opened since the start, how many of those are still open)."""
        self.stop.set()
        self.thread.join()
        alive = self.now()
        self.conn.close()
        opened = {pid for pid, started in self.started.items() if started > self.since and pid not in self.listeners}
        return len(opened), len(opened & alive)


def bench_database(label: str, url: str, args, tmp: Path) -> list[str]:
    from sqlalchemy.orm import Session

    from tracker import config
    from tracker.db import make_engine
    from tracker.schemas import NewMessage
    from tracker.sending.queue import queue

    reset_database(url)
    lines: list[str] = []
    sim_port = free_port()
    env = base_env(
        url,
        tmp,
        TRACKER_SIMULATOR_URL=f"http://127.0.0.1:{sim_port}",
        TRACKER_SEND_RATE="0",
        TRACKER_PUBLIC_URL="http://127.0.0.1:9",
        TRACKER_LOG_LEVEL="WARNING",
    )
    sim = Server(
        f"{label}-simulator",
        [sys.executable, "-m", "tracker", "simulate", "--port", str(sim_port), "--speed", "0", "--seed", "1"],
        env,
        sim_port,
        tmp / f"{label}-sim.log",
        health="/_sim/stats",
    )
    worker_log = open(tmp / f"{label}-worker.log", "wb")
    worker = None
    try:
        sim.start()
        requests.post(
            f"{sim.url}/_sim/config",
            json={"drop_callback_rate": 1.0, "natural_duplicate_rate": 0, "natural_late_rate": 0},
            timeout=5,
        ).raise_for_status()
        subprocess.run(
            [sys.executable, "-m", "tracker", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        postgres = not url.startswith("sqlite")
        # Names the worker's backends in pg_stat_activity, so they can be counted.
        worker_env = (
            {**env, "DATABASE_URL": f"{url}{'&' if '?' in url else '?'}application_name={WORKER_APP_NAME}"}
            if postgres
            else env
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "tracker", "worker"],
            cwd=ROOT,
            env=worker_env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        time.sleep(1.0)  # started and idle

        # Latency when idle: one message at a time, queued the way the API queues it.
        settings = config.load(env)
        engine = make_engine(settings.database_url)
        latencies: list[float] = []
        with Session(engine) as session:
            for i in range(args.samples):
                data = NewMessage(
                    phone=f"09018{i:05d}",
                    template_id="523194",
                    params=["a", "b"],
                    order_id=f"LAT{i}",
                    request_id=f"lat-{label}-{i}",
                )
                msg, _ = queue(session, settings, data, source="api")
                mid = msg.id
                row = wait_until(lambda: _sent(engine, mid), 10, f"message {mid} to be sent")
                latencies.append((row[1] - row[0]).total_seconds() * 1000)
                time.sleep(0.25)  # idle again
        engine.dispose()
        lat = sorted(latencies)
        med = statistics.median(lat)
        p90 = lat[min(len(lat) - 1, int(0.9 * len(lat)))]
        verdict = "met" if med < 200 else "MISSED"
        lines.append(
            f"LATENCY {label} queued -> accepted when idle: median {med:.1f} ms, p90 {p90:.1f} ms, "
            f"max {lat[-1]:.1f} ms over {len(lat)} messages (target median < 200 ms) {verdict}"
        )

        # Throughput: a burst queued at once.
        cpu0 = cpu_seconds([worker.pid])
        first, _ = seed(url, args.messages, status="queued")
        _fix_queued(url, first, args.messages)
        backends = Backends(url) if postgres else None
        t0 = time.perf_counter()
        _notify(url)
        wait_until(
            lambda: _counts(url, first, args.messages).get("accepted", 0) == args.messages,
            max(60, args.messages / 20),
            f"{args.messages} messages to be accepted",
        )
        took = time.perf_counter() - t0
        if backends is not None:
            opened, still_open = backends.finish()
            lines.append(
                f"CONNECTIONS {label}: the worker opened at least {opened} PostgreSQL backends during "
                f"the burst ({opened / took:.1f}/s); {still_open} of them still open at its end"
            )
        cpu = cpu_seconds([worker.pid]) - cpu0
        rate = args.messages / took
        verdict = "met" if rate >= 200 else "MISSED"
        lines.append(
            f"THROUGHPUT {label}: {args.messages} messages sent in {took:.2f} s = {rate:.0f} messages/s "
            f"(target >= 200) {verdict}; worker CPU {cpu * 1000 / args.messages:.2f} ms/message"
        )
        lines.append(f"RATIO {label} send throughput / target 200: {rate / 200:.2f}")
        lines.append(f"{label}: sender worker RSS after the run: {rss_mb(worker.pid):.0f} MB")
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        worker_log.close()
        sim.stop()
    return lines


def _sent(engine, mid: int):
    from sqlalchemy import text

    from tracker.db import UTCDateTime

    stmt = text("SELECT created_at, sent_at FROM messages WHERE id = :mid AND status = 'accepted'").columns(
        created_at=UTCDateTime(), sent_at=UTCDateTime()
    )
    with engine.connect() as conn:
        return conn.execute(stmt, {"mid": mid}).first()


def _fix_queued(url: str, first: int, n: int) -> None:
    """Seeded rows become fresh sends: no SMSID yet, due now, no attempt made."""
    sql = (
        "UPDATE messages SET smsid = NULL, sent_at = NULL, attempts = 0, due_at = {now}, "
        "created_at = {now}, updated_at = {now} WHERE id BETWEEN {p} AND {p}"
    )
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.split("///", 1)[1]) as c:
            c.execute(sql.format(now="strftime('%Y-%m-%d %H:%M:%f', 'now')", p="?"), (first, first + n - 1))
        return
    import psycopg
    from common import plain_pg

    with psycopg.connect(plain_pg(url)) as c:
        c.execute(sql.format(now="now()", p="%s"), (first, first + n - 1))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--database-url",
        help="PostgreSQL (default: BENCH_DATABASE_URL, TEST_DATABASE_URL, or tracker_bench on 127.0.0.1)",
    )
    p.add_argument("--messages", type=int, default=3000)
    p.add_argument("--samples", type=int, default=30)
    p.add_argument("--no-sqlite", action="store_true")
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--smoke", action="store_true", help="seconds, not minutes: proves the bench still runs")
    args = p.parse_args(argv)
    if args.smoke:
        args.messages, args.samples = 100, 5
    print(machine_line())
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="send-bench-") as tmp_:
        tmp = Path(tmp_)
        if not args.no_postgres:
            lines += bench_database("postgresql", pg_url(args.database_url), args, tmp)
        if not args.no_sqlite:
            lines += bench_database("sqlite", f"sqlite:///{tmp / 'send.db'}", args, tmp)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
