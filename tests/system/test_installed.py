"""The product is what `pip install .` puts in a virtualenv (issue 9).

These tests build the wheel, install it into a fresh virtualenv outside the checkout, and run
it as an operator would: `tracker db upgrade` from an empty directory, the Procfile's lines
from the repository root (and from a folder holding only the Procfile's files, so nothing can
come from the source tree), one message sent over HTTP until `delivered`, and the processes
that must refuse to start.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support import ROOT, free_port

PROCFILE = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if ": " in line)
# Variables of the developer's shell that would let the installed product see the checkout.
LEAKY = (
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "TRACKER_SIMULATOR",
    "TRACKER_SIMULATOR_URL",
    "ESMS_API_KEY",
    "ESMS_SECRET_KEY",
    "TRACKER_SECRET_KEY",
    "DATABASE_URL",
    "PROMETHEUS_MULTIPROC_DIR",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("journey_tracker-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv outside the checkout, with only the wheel (and its dependencies)."""
    home = tmp_path_factory.mktemp("operator") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, timeout=120)
    subprocess.run(
        [str(home / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
        # Without the developer's PYTHONPATH: a checkout on it (its *.egg-info) would make pip
        # think the tracker is installed already and skip the wheel.
        env={k: v for k, v in os.environ.items() if k not in LEAKY},
    )
    return home


def operator_env(venv: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def wait_http(url: str, seconds: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{url}: the process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read() or b"{}")


def procfile(name: str, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    """One Procfile line, run as a PaaS runs it: through a shell, from ``cwd``."""
    return subprocess.Popen(
        ["bash", "-c", f"exec {PROCFILE[name]}"],
        cwd=cwd,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from tracker.ops import migrate

    return ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def test_the_wheel_holds_every_file_the_tracker_runs_on(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tracker").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    wanted |= {
        "tracker/migrations/" + p.relative_to(ROOT / "migrations").as_posix()
        for p in (ROOT / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert wanted - names == set()
    assert {"tracker/migrations/env.py", "tracker/migrations/script.py.mako", "tracker/static/live.js"} <= names


def test_db_upgrade_runs_from_an_empty_directory_and_from_the_repository_root(venv, tmp_path):
    """The release step needs only DATABASE_URL, and the Alembic scripts come from the wheel."""
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import tracker; print(tracker.__file__)"],
        cwd=empty,
        env=operator_env(venv),
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in where.stdout, where.stdout
    for cwd, name in ((empty, "from-empty.db"), (ROOT, "from-root.db")):
        url = f"sqlite:///{tmp_path / name}"
        proc = subprocess.run(
            ["bash", "-c", PROCFILE["release"]],
            cwd=cwd,
            env=operator_env(venv, DATABASE_URL=url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        with create_engine(url).connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    assert list(empty.iterdir()) == [], "db upgrade left files in the directory it ran from"


@pytest.mark.postgres
def test_db_upgrade_from_the_wheel_on_postgresql(venv, tmp_path, postgresql_url):
    from tests.ops.test_migrate import fresh_database

    with fresh_database(postgresql_url, "installed") as url:
        proc = subprocess.run(
            ["tracker", "db", "upgrade"],
            cwd=tmp_path,
            env=operator_env(venv, DATABASE_URL=url.replace("+psycopg", "")),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        engine.dispose()


def _deliver_one(venv: Path, tmp_path: Path, cwd: Path) -> dict:
    """release, web and worker from ``cwd`` with the installed simulator; one message until delivered."""
    port, sim_port = free_port(), free_port()
    env = operator_env(
        venv,
        PORT=str(port),
        WEB_CONCURRENCY="2",
        TRACKER_SIMULATOR="1",
        TRACKER_SIMULATOR_URL=f"http://127.0.0.1:{sim_port}",
        TRACKER_PUBLIC_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
        TRACKER_INSTANCE_DIR=str(tmp_path / "instance"),
    )
    assert subprocess.run(["bash", "-c", PROCFILE["release"]], cwd=cwd, env=env, timeout=120).returncode == 0
    sim = subprocess.Popen(
        ["tracker", "simulate", "--port", str(sim_port), "--speed", "0", "--seed", "9"],
        cwd=cwd,
        env=env,
        stdout=(tmp_path / "sim.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    web = procfile("web", env, cwd, tmp_path / "web.log")
    worker = procfile("worker", env, cwd, tmp_path / "worker.log")
    try:
        wait_http(f"http://127.0.0.1:{sim_port}/_sim/config", proc=sim)
        http("POST", f"http://127.0.0.1:{sim_port}/_sim/config", {"forced_outcomes": {"0901888484": "delivered"}})
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", proc=web)
        status, msg = http(
            "POST",
            f"{base}/api/messages",
            {
                "phone": "+84 90 188 8484",
                "template_id": "523194",
                "oa_id": "4097311281936189049",
                "params": ["Nguyễn Văn An", "DH1001"],
                "order_id": "DH1001",
            },
        )
        assert status == 202 and msg["status"] == "queued"
        deadline = time.monotonic() + 60
        while msg["status"] != "delivered" and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.3)
            msg = http("GET", f"{base}/api/messages/{msg['id']}")[1]
        assert msg["status"] == "delivered", msg
        # The dashboard and its own assets come from the installed package.
        for path in ("/", "/static/live.js", "/static/dashboard.css"):
            with urllib.request.urlopen(base + path, timeout=10) as resp:
                assert resp.status == 200, path
        return msg
    finally:
        stop(web, worker, sim)


def test_procfile_lines_from_the_repository_root_deliver_a_message(venv, tmp_path):
    msg = _deliver_one(venv, tmp_path, ROOT)
    assert msg["smsid"] and msg["phone"] == "+84901888484" and msg["error_code"] is None


def test_procfile_lines_run_on_the_wheel_alone(venv, tmp_path):
    """A folder with only the Procfile, gunicorn.conf.py and wsgi.py: no source tree to fall back on."""
    slug = tmp_path / "slug"
    slug.mkdir()
    for name in ("Procfile", "gunicorn.conf.py", "wsgi.py"):
        (slug / name).write_bytes((ROOT / name).read_bytes())
    assert _deliver_one(venv, tmp_path, slug)["status"] == "delivered"


REAL_ESMS = {
    "ESMS_API_KEY": "k-123",
    "ESMS_SECRET_KEY": "s-456",
    "TRACKER_API_TOKENS": "t",
    "TRACKER_DASHBOARD_PASSWORD": "pw",
}


@pytest.mark.parametrize("line", ["web", "worker"])
@pytest.mark.parametrize(
    "missing,variable",
    [
        ({**REAL_ESMS}, "TRACKER_SECRET_KEY"),
        (
            {"TRACKER_SECRET_KEY": "x" * 32, "TRACKER_API_TOKENS": "t", "TRACKER_DASHBOARD_PASSWORD": "pw"},
            "ESMS_API_KEY",
        ),
    ],
)
def test_a_process_that_cannot_start_exits_naming_the_variable(venv, tmp_path, line, missing, variable):
    """Fail fast means exit: within 15 s, non-zero, one line naming the variable; no live port."""
    port = free_port()
    env = operator_env(
        venv,
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path / 't.db'}",
        TRACKER_INSTANCE_DIR=str(tmp_path / "instance"),
        **missing,
    )
    proc = procfile(line, env, ROOT, tmp_path / "out.log")
    try:
        code = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        stop(proc)
        pytest.fail(f"{line} still running after 15 s: {(tmp_path / 'out.log').read_text()[-2000:]}")
    out = (tmp_path / "out.log").read_text()
    assert code != 0
    errors = [ln for ln in out.splitlines() if "configuration error" in ln]
    assert errors and variable in errors[0], out
    assert "Traceback" not in out
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the port was left open"


def test_procfile_is_what_the_spec_says():
    assert PROCFILE["release"] == "tracker db upgrade"
    assert shlex.split(PROCFILE["web"])[:3] == ["gunicorn", "-c", "gunicorn.conf.py"] and "wsgi:app" in PROCFILE["web"]
    assert PROCFILE["worker"] == "tracker worker"
