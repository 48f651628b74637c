"""Chaos run: gunicorn, workers and the simulator under injected faults, compared with the simulator's truth.

    .venv/bin/python bench/chaos_bench.py --messages 10000            # the larger run
    .venv/bin/python bench/chaos_bench.py --messages 10000 --restart-pg

The simulator drops 5 % of callbacks, duplicates 10 %, reorders 10 %, answers 5 %
of sends with a 5xx or a timeout and fires 2 % of first callbacks before answering
the send; meanwhile the run SIGKILLs a worker twice and takes the database away
once (a real PostgreSQL restart with --restart-pg, else a proxy that drops every
connection). It then waits for reconciliation and prints a JSON report; the
run passes when every list under ``problems`` is empty. ``tests/test_chaos.py``
runs the same at CI size. The database (--database-url, default
TEST_DATABASE_URL with ``_chaos`` appended) is emptied and migrated first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chaos_support import ForwardReceiver, Proc, Proxy, restart_postgres  # noqa: E402
from common import free_port  # noqa: E402

from tracker import config  # noqa: E402
from tracker import status as st
from tracker.db import make_engine  # noqa: E402
from tracker.ops import migrate

SECRET = "chaos-secret-key-0123456789abcdef"
# Forwarding is signed with a key of its own (the receiver holds it, issue 12).
FORWARD_SECRET = "chaos-forward-secret-0123456789abcdef"
TOKEN = "chaos-api-token"
OAID = "4097311281936189049"
FAULTS = {
    "drop_callback_rate": 0.05,
    "duplicate_callback_rate": 0.10,
    "reorder_rate": 0.10,
    "send_5xx_rate": 0.025,
    "send_timeout_rate": 0.025,
    "early_callback_rate": 0.02,
    "timeout_delay": 2.0,
    # 1001 failures come after the template's timeout (7200 s x speed by default): 5 s here.
    "template_timeout": 10.0,
}
# Tight timings so faults heal in seconds, not in production's minutes.
WORKER_ENV = {
    "TRACKER_SEND_TIMEOUT": "1",
    "TRACKER_LEASE_SECONDS": "4",
    "TRACKER_BACKOFF_BASE": "0.2",
    "TRACKER_BACKOFF_CAP": "2",
    "TRACKER_MAX_ATTEMPTS": "30",
    "TRACKER_RECONCILE_AFTER": "4",
    "TRACKER_RECONCILE_INTERVAL": "2",
    "TRACKER_SEND_RATE": "100",
    "TRACKER_WORKER_THREADS": "8",
    "TRACKER_FORWARD_MAX_ATTEMPTS": "30",
}


@dataclass
class Options:
    database_url: str
    workdir: Path
    messages: int = 1000
    restart_pg: bool = False
    workers: int = 2
    seed: int = 4
    speed: float = 0.5
    rate: float = 100.0  # messages per second offered to the API
    deadline: float = 300.0
    log: list[str] = field(default_factory=list)


class Run:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.sim_url = f"http://127.0.0.1:{free_port()}"
        self.web_url = f"http://127.0.0.1:{free_port()}"
        self.db = make_engine(config.normalize_database_url(opts.database_url), pool_pre_ping=True)
        self.proxy = None if opts.restart_pg else Proxy(opts.database_url)
        self.receiver = ForwardReceiver(FORWARD_SECRET)
        self.procs: dict[str, Proc] = {}
        self.started = time.monotonic()
        self.outage_seconds = 0.0
        self.reached: set[str] = set()

    def note(self, what: str) -> None:
        self.opts.log.append(f"{time.monotonic() - self.started:7.1f}s {what}")

    def env(self) -> dict[str, str]:
        db = self.proxy.url(self.opts.database_url) if self.proxy else self.opts.database_url
        return {
            **os.environ,
            "DATABASE_URL": db,
            "TRACKER_SECRET_KEY": SECRET,
            "TRACKER_API_TOKENS": TOKEN,
            "TRACKER_PUBLIC_URL": self.web_url,
            "TRACKER_SIMULATOR": "1",
            "TRACKER_SIMULATOR_URL": self.sim_url,
            "ESMS_OAID": OAID,
            "TRACKER_INSTANCE_DIR": str(self.opts.workdir / "instance"),
            "TRACKER_FORWARD_URL": self.receiver.url,
            "TRACKER_FORWARD_SECRET": FORWARD_SECRET,
            "WEB_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",
            **WORKER_ENV,
        }

    def start(self, name: str, *cmd: str) -> None:
        self.procs[name] = Proc(name, list(cmd), self.env(), self.opts.workdir)

    def worker(self, i: int) -> None:
        self.start(f"worker{i}", sys.executable, "-m", "tracker", "worker")

    def up(self) -> None:
        py, port = sys.executable, self.sim_url.rsplit(":", 1)[1]
        self.start(
            "simulator",
            py,
            "-m",
            "tracker",
            "simulate",
            "--port",
            port,
            "--seed",
            str(self.opts.seed),
            "--speed",
            str(self.opts.speed),
        )
        self.start(
            "web",
            str(Path(py).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--bind",
            self.web_url.removeprefix("http://"),
            "wsgi:app",
        )
        _wait(lambda: requests.get(f"{self.sim_url}/_sim/stats", timeout=1).ok, 30)
        requests.post(f"{self.sim_url}/_sim/config", json=FAULTS, timeout=5).raise_for_status()
        _wait(lambda: requests.get(f"{self.web_url}/healthz", timeout=1).ok, 30)
        for i in range(self.opts.workers):
            self.worker(i)

    def down(self) -> None:
        for proc in self.procs.values():
            proc.stop()
        self.receiver.close()
        if self.proxy:
            self.proxy.close()
        self.db.dispose()

    # -- load and chaos ---------------------------------------------------------------

    def produce(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"

        def one(i: int) -> None:
            body = {
                "phone": f"090{i:07d}",
                "template_id": "523194",
                "order_id": f"J{i // 3}",
                "params": ["Nguyễn Văn An", f"DH{i}", "đang giao"],
                "request_id": f"chaos-{i}",
            }
            for _ in range(120):  # the API is down while the database is: retry, same request_id
                try:
                    if session.post(f"{self.web_url}/api/messages", json=body, timeout=10).status_code < 500:
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.5)
            raise RuntimeError(f"message {i} could not be queued")

        with ThreadPoolExecutor(4) as pool:
            for start in range(0, self.opts.messages, 50):
                list(pool.map(one, range(start, min(start + 50, self.opts.messages))))
                time.sleep(50 / self.opts.rate)
        self.note(f"{self.opts.messages} messages offered")

    def sends(self) -> int:
        return requests.get(f"{self.sim_url}/_sim/stats", timeout=5).json()["sends"]["total"]

    def chaos(self) -> None:
        n = self.opts.messages
        for i, share in ((0, 0.2), (1, 0.45)):
            _wait(lambda: self.sends() >= share * n, 120)
            self.procs[f"worker{i}"].kill()
            self.note(f"worker{i} SIGKILLed")
            time.sleep(1.0)
            self.worker(i)
        _wait(lambda: self.sends() >= 0.6 * n, 120)
        started = time.monotonic()
        if self.proxy:
            self.proxy.outage(3.0)
        else:
            restart_postgres()
        self.outage_seconds = time.monotonic() - started
        self.note(f"database away for {self.outage_seconds:.1f}s ({'restart' if self.proxy is None else 'proxy'})")

    def settled(self) -> bool:
        idle = requests.get(f"{self.sim_url}/_sim/idle", timeout=5).json()["idle"]
        spool = requests.get(f"{self.web_url}/healthz", timeout=5).json()["spool"]["lines"]
        with self.db.connect() as conn:
            open_ = conn.execute(
                text("SELECT count(*) FROM messages WHERE status NOT IN ('delivered', 'failed', 'rejected')")
            ).scalar()
            total = conn.execute(text("SELECT count(*) FROM messages")).scalar()
            outbox = conn.execute(text("SELECT count(*) FROM forward_outbox WHERE state = 'pending'")).scalar()
        state = {
            "simulator idle": idle,
            "spool empty": not spool,
            "outbox empty": not outbox,
            "every message final": not open_ and total == self.opts.messages,
        }
        for what, done in state.items():
            if done and what not in self.reached:
                self.reached.add(what)
                self.note(what)
        return all(state.values())

    def execute(self) -> dict[str, Any]:
        self.up()
        self.note("system up")
        chaos = threading.Thread(target=self.chaos, name="chaos")
        chaos.start()
        self.produce()
        chaos.join()
        try:
            _wait(self.settled, self.opts.deadline)
            self.note("settled")
        except TimeoutError:
            self.note("did NOT settle before the deadline")
        return self.report()

    # -- the verdict ----------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        truth = requests.get(f"{self.sim_url}/_sim/messages", timeout=60).json()["messages"]
        stats = requests.get(f"{self.sim_url}/_sim/stats", timeout=10).json()
        with self.db.connect() as conn:
            rows = conn.execute(text("SELECT id, request_id, status, error_code FROM messages")).all()
            stored = dict(
                conn.execute(
                    text("SELECT message_id, count(*) FROM events WHERE kind = 'callback' GROUP BY message_id")
                ).all()
            )
            spooled = conn.execute(
                text("""SELECT count(*) FROM events WHERE CAST(data AS TEXT) LIKE '%"spooled"%'""")
            ).scalar()
            reconciled = conn.execute(
                text("SELECT count(*) FROM events WHERE kind = 'reconcile' AND outcome = 'applied'")
            ).scalar()
        problems = compare(truth, rows, stored, self.receiver.latest)
        problems["forward_bad_signatures"] = self.receiver.bad_signatures
        statuses: dict[str, int] = {}
        for row in rows:
            statuses[row.status] = statuses.get(row.status, 0) + 1
        return {
            "messages": len(rows),
            "elapsed_s": round(time.monotonic() - self.started, 1),
            "statuses": statuses,
            "simulator": stats,
            "database_outage_s": round(self.outage_seconds, 1),
            "database_outage": "postgresql restart" if self.proxy is None else "proxy cut",
            "worker_kills": 2,
            "spooled_callbacks_replayed": spooled,
            "reconcile_applied": reconciled,
            "forwarded_requests": self.receiver.received,
            "timeline": self.opts.log,
            "problems": problems,
            "ok": not any(problems.values()),
        }


def compare(
    truth: list[dict[str, Any]], rows: list[Any], stored: dict[int, int], forwarded: dict[int, tuple[str, str]]
) -> dict[str, Any]:
    """Every way the tracker's picture can differ from the simulator's truth (all empty when equal)."""
    by_request = {t["request_id"]: t for t in truth if t["request_id"]}
    problems: dict[str, Any] = {
        "mismatches": [],
        "accepted_not_once": [],
        "lost_callbacks": [],
        "callback_5xx": 0,
        "forward_mismatches": [],
        "unknown_to_simulator": [],
    }
    for row in rows:
        t = by_request.get(row.request_id)
        if t is None:
            problems["unknown_to_simulator"].append(row.request_id)
            continue
        want_code = None if t["outcome"] == st.DELIVERED else t["error_code"]
        if (row.status, row.error_code) != (t["outcome"], want_code):
            problems["mismatches"].append(
                {"id": row.id, "tracker": [row.status, row.error_code], "truth": [t["outcome"], want_code]}
            )
        if t["accept_count"] != 1:
            problems["accepted_not_once"].append({"id": row.id, "accept_count": t["accept_count"]})
        calls = t["callbacks"]
        answered = sum(c["state"] == "delivered" for c in calls)
        tried = sum(c["attempts"] for c in calls)
        # Each 2xx answer means the callback was stored; a timed-out attempt may have been stored too.
        if not answered <= stored.get(row.id, 0) <= tried:
            problems["lost_callbacks"].append({"id": row.id, "stored": stored.get(row.id, 0), "answered": answered})
        problems["callback_5xx"] += sum((c["http_status"] or 0) >= 500 for c in calls)
        seen = forwarded.get(row.id)
        if seen is None or seen[1] != row.status:
            problems["forward_mismatches"].append({"id": row.id, "forwarded": seen and seen[1], "status": row.status})
    for name in ("mismatches", "accepted_not_once", "lost_callbacks", "forward_mismatches"):
        problems[name] = problems[name][:20] + (
            [f"... {len(problems[name]) - 20} more"] if len(problems[name]) > 20 else []
        )
    return problems


def _wait(check: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # a process still starting, or the database restarting
            pass
        time.sleep(0.25)
    raise TimeoutError


def run(opts: Options) -> dict[str, Any]:
    """Start everything, stage the chaos, wait, compare; the database must be migrated and empty."""
    chaos_run = Run(opts)
    try:
        return chaos_run.execute()
    finally:
        chaos_run.down()


def _fresh_database(url: str) -> None:
    admin = make_engine(
        config.normalize_database_url(url).rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    name = url.rsplit("/", 1)[1].split("?")[0]
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    migrate.upgrade(config.normalize_database_url(url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--restart-pg", action="store_true", help="restart the real PostgreSQL (CI machine only)")
    parser.add_argument("--rate", type=float, default=150.0, help="messages per second offered to the API")
    parser.add_argument("--deadline", type=float, default=600.0)
    args = parser.parse_args()
    base = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tracker")
    url = args.database_url or base.rsplit("/", 1)[0] + "/" + base.rsplit("/", 1)[1] + "_chaos"
    _fresh_database(url)
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        report = run(
            Options(
                database_url=url,
                workdir=Path(tmp),
                messages=args.messages,
                restart_pg=args.restart_pg,
                rate=args.rate,
                deadline=args.deadline,
            )
        )
    print(json.dumps(report, indent=2, ensure_ascii=False))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
