"""What every benchmark shares: servers under gunicorn, load generation, seeding, RSS, output.

Benchmarks compare the tracker with a reference endpoint measured in the same run on
the same machine; the ratio is what counts, never the absolute figure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-0123456789abcdef"
API_TOKEN = "bench-api-token"
OAID = "4097311281936189049"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/tracker_bench"


def pg_url(arg: str | None) -> str:
    """The PostgreSQL URL to bench on: --database-url, BENCH_DATABASE_URL, TEST_DATABASE_URL, or the default."""
    return arg or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG


def plain_pg(url: str) -> str:
    """A libpq URL (psycopg.connect) from a SQLAlchemy one."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def ensure_pg_database(url: str) -> None:
    """Create the bench database when the server has none by that name."""
    import psycopg

    url = plain_pg(url)
    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def reset_database(url: str) -> None:
    """An empty, migrated database (PostgreSQL: a fresh public schema; SQLite: a new file)."""
    from tracker.config import normalize_database_url
    from tracker.ops import migrate

    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        ensure_pg_database(url)
        with psycopg.connect(plain_pg(url), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    migrate.upgrade(normalize_database_url(url))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def base_env(db_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_API_TOKENS": API_TOKEN,
        "TRACKER_INSTANCE_DIR": str(tmp / "instance"),
        "ESMS_OAID": OAID,
        "PYTHONUNBUFFERED": "1",
        "TRACKER_SIMULATOR": "1",
    }
    env.update(extra)
    return env


@dataclass
class Server:
    """A process serving HTTP (gunicorn as the Procfile runs it, or anything else)."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int
    log: Path
    health: str = "/healthz"
    proc: subprocess.Popen | None = None
    cwd: Path = ROOT

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Server:
        out = open(self.log, "wb")
        self.proc = subprocess.Popen(
            self.cmd, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until(
                lambda: self._alive() and requests.get(self.url + self.health, timeout=2).ok,
                timeout,
                f"{self.name} on {self.url}",
            )
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start; log:\n{self.tail()}") from None
        return self

    def _alive(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log:\n{self.tail()}")
        return True

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def pids(self) -> list[int]:
        """The master and its direct children (gunicorn workers)."""
        if self.proc is None:
            return []
        return [self.proc.pid, *children(self.proc.pid)]

    def worker_rss_mb(self) -> list[float]:
        kids = children(self.proc.pid) if self.proc else []
        return [rss_mb(p) for p in (kids or [self.proc.pid])]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def gunicorn(name: str, app: str, env: dict[str, str], tmp: Path, *extra: str) -> Server:
    """gunicorn -c gunicorn.conf.py APP, as the Procfile's `web` entry runs it (bound to loopback)."""
    port = free_port()
    env = {**env, "PORT": str(port)}
    cmd = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", *extra, app]
    return Server(name, cmd, env, port, tmp / f"{name}.log")


def web_workers() -> int:
    """The tracker's gunicorn worker count (gunicorn.conf.py's rule): the one setting the minimal
    receiver shares with it."""
    return int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))


def minimal_url(url: str) -> str:
    """The minimal receiver's own database: ``<bench database>_minimal`` on the same server."""
    base, _, name = plain_pg(url).rpartition("/")
    name, _, query = name.partition("?")
    return f"{base}/{name}_minimal" + (f"?{query}" if query else "")


def minimal_server(name: str, db_url: str, tmp: Path) -> Server:
    """bench/minimal_receiver.py under plain gunicorn: run from bench/ (so gunicorn finds no
    gunicorn.conf.py of ours), with the worker count and nothing else of the tracker's, in an
    environment holding only its database URL."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "MINIMAL_DATABASE_URL": plain_pg(db_url)}
    cmd = [str(BIN / "gunicorn"), "-w", str(web_workers()), "--bind", f"127.0.0.1:{port}", "minimal_receiver:app"]
    return Server(name, cmd, env, port, tmp / f"{name}.log", cwd=BENCH)


def copy_to_minimal(src_url: str, dst_url: str, *, events: bool) -> int:
    """Make the minimal receiver's schema in its own database and fill it with the tracker's
    seeded messages (and events), so both answer for the same rows; returns the messages copied."""
    import psycopg

    sys.path.insert(0, str(BENCH))
    import minimal_receiver as minimal

    ensure_pg_database(dst_url)
    minimal.create_schema(plain_pg(dst_url))
    pairs = [("msg", minimal.MESSAGE_COLS, "messages", minimal.MESSAGE_COLS)]
    if events:
        # The receiver's events name their message as msg_id; they carry no JSON data column.
        src_cols = tuple("message_id" if c == "msg_id" else c for c in ("msg_id", *minimal.EVENT_COLS))
        pairs.append(("ev", ("msg_id", *minimal.EVENT_COLS), "events", src_cols))
    with psycopg.connect(plain_pg(src_url)) as src, psycopg.connect(plain_pg(dst_url)) as dst:
        for dst_table, dst_cols, src_table, src_cols in pairs:
            select = f"COPY (SELECT {', '.join(src_cols)} FROM {src_table}) TO STDOUT"
            with (
                src.cursor().copy(select) as out,
                dst.cursor().copy(f"COPY {dst_table} ({', '.join(dst_cols)}) FROM STDIN") as into,
            ):
                for block in out:
                    into.write(block)
        dst.execute("SELECT setval('ev_id_seq', COALESCE((SELECT max(id) FROM ev), 0) + 1)")
        dst.commit()
        dst.autocommit = True
        dst.execute("ANALYZE")
        return dst.execute("SELECT count(*) FROM msg").fetchone()[0]


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return out


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (gone ones count zero)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def pg_backends(url: str) -> list[int]:
    """Server processes of the other sessions on the bench database (PostgreSQL on this machine)."""
    if url.startswith("sqlite"):
        return []
    import psycopg

    with psycopg.connect(plain_pg(url), autocommit=True) as c:
        rows = c.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [r[0] for r in rows]


class CpuMeter:
    """CPU used by a server's workers (and the database's backends) over a run: a figure that
    other load on a shared machine disturbs far less than requests per second."""

    def __init__(self, server: Server, db_url: str | None, also=None):
        self.server, self.db_url, self.also = server, db_url, also

    def __enter__(self) -> CpuMeter:
        # `also`: more of the server's processes (the tracker's worker), counted as its own.
        self.web_pids = self.server.pids() + (self.also() if self.also else [])
        self.db_pids = pg_backends(self.db_url) if self.db_url else []
        self.web0, self.db0 = cpu_seconds(self.web_pids), cpu_seconds(self.db_pids)
        return self

    def __exit__(self, *exc) -> None:
        # Backends opened during the run count from zero.
        self.db_pids_after = pg_backends(self.db_url) if self.db_url else []
        new = [p for p in self.db_pids_after if p not in self.db_pids]
        self.web = cpu_seconds(self.web_pids) - self.web0
        self.db = cpu_seconds(self.db_pids) - self.db0 + cpu_seconds(new)


# -- load generation ------------------------------------------------------------------


@dataclass
class LoadResult:
    label: str
    concurrency: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    tool: str = "wrk"
    web_cpu_ms: float = float("nan")  # per request
    db_cpu_ms: float = float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


WRK_LUA = BENCH / "paths.lua"


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_load(
    label: str,
    base_url: str,
    paths: list[str],
    concurrency: int,
    duration: float,
    headers: dict[str, str] | None = None,
    tool: str = "auto",
) -> LoadResult:
    """Drive ``base_url`` with ``paths`` (cycled in order) from a separate process."""
    if tool == "auto":
        tool = "wrk" if have_wrk() else "python"
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as f:
        f.write("\n".join(paths) + "\n")
        paths_file = f.name
    try:
        if tool == "wrk":
            return _run_wrk(label, base_url, paths_file, concurrency, duration, headers or {})
        return _run_python(label, base_url, paths_file, concurrency, duration, headers or {})
    finally:
        os.unlink(paths_file)


def _run_wrk(label, base_url, paths_file, concurrency, duration, headers) -> LoadResult:
    # One wrk thread: it keeps the paths in order (a message's 2 -> 7 -> 5) and leaves the
    # second core to the servers; wrk itself needs a fraction of one core at these rates.
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(WRK_LUA)]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd += [base_url, paths_file]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[len("WRKJSON ") :])
    errors = r["errors_status"] + r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"]
    return LoadResult(
        label,
        concurrency,
        r["requests"],
        r["duration_us"] / 1e6,
        r["p50_us"] / 1000,
        r["p99_us"] / 1000,
        errors,
        {k: v for k, v in r.items() if k.startswith("errors_") and v},
        "wrk",
    )


def _run_python(label, base_url, paths_file, concurrency, duration, headers) -> LoadResult:
    cmd = [
        sys.executable,
        str(BENCH / "loadgen.py"),
        base_url,
        paths_file,
        str(concurrency),
        str(duration),
        json.dumps(headers),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("LOADJSON ")), None)
    if line is None:
        raise RuntimeError(f"loadgen gave no result:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[len("LOADJSON ") :])
    return LoadResult(
        label, concurrency, r["requests"], r["seconds"], r["p50_ms"], r["p99_ms"], r["errors"], r["statuses"], "python"
    )


# -- output ---------------------------------------------------------------------------


def machine_line() -> str:
    load = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def print_table(results: list[LoadResult]) -> None:
    print(
        f"{'run':<36} {'c':>3} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'requests':>8} "
        f"{'web CPU ms/req':>14} {'db CPU ms/req':>13}"
    )
    for r in results:
        print(
            f"{r.label:<36} {r.concurrency:>3} {r.rps:>7.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
            f"{r.errors:>6} {r.requests:>8} {r.web_cpu_ms:>14.2f} {r.db_cpu_ms:>13.2f}"
        )


def measured(
    label: str,
    server: Server,
    db_url: str | None,
    paths: list[str],
    concurrency: int,
    duration: float,
    headers: dict[str, str] | None = None,
    tool: str = "auto",
    also=None,
) -> LoadResult:
    """run_load, plus the CPU the server's workers (and ``also()``'s pids) and the database spent per request."""
    with CpuMeter(server, db_url, also) as cpu:
        r = run_load(label, server.url, paths, concurrency, duration, headers, tool)
    if r.requests:
        r.web_cpu_ms = cpu.web * 1000 / r.requests
        r.db_cpu_ms = cpu.db * 1000 / r.requests if db_url and not db_url.startswith("sqlite") else float("nan")
    return r


def ratio_line(what: str, ours: LoadResult, ref: LoadResult, target: float | None) -> str:
    """One `RATIO ...` line; the smoke test looks for these."""
    ratio = ours.rps / ref.rps if ref.rps else 0.0
    verdict = "" if target is None else (" met" if ratio >= target else " MISSED")
    goal = "" if target is None else f" (target >= {target:.2f}){verdict}"
    cpu = ""
    ours_cpu, ref_cpu = ours.web_cpu_ms + _nz(ours.db_cpu_ms), ref.web_cpu_ms + _nz(ref.db_cpu_ms)
    if ours_cpu == ours_cpu and ref_cpu == ref_cpu and ours_cpu > 0:
        cpu = f"; by CPU per request (web + db): {ref_cpu / ours_cpu:.2f}"
    return f"RATIO {what}: {ratio:.2f}{goal}  [{ours.rps:.0f} / {ref.rps:.0f} req/s{cpu}]"


def _nz(x: float) -> float:
    return 0.0 if x != x else x


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")
