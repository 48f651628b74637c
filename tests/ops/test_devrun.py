"""tracker.ops.devrun (`make run` / `tracker dev`): the environment its children get (the simulator asked
for only without eSMS credentials), which children it starts, stopping the rest when one exits, the
welcome text (dashboard URL and a curl that works), and a short real run stopped by Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import API_TOKEN, ROOT, free_port, make_settings, replace_settings
from tracker.config import ConfigError
from tracker.ops import devrun


class FakeProc:
    """A child that is running for ``polls`` polls, then has exited with ``code``."""

    def __init__(self, name, cmd, env, polls, code):
        self.name, self.cmd, self.env = name, cmd, env
        self.polls, self.code, self.returncode = polls, code, None
        self.terminated = False

    def poll(self):
        if self.returncode is None and (self.terminated or self.polls <= 0):
            self.returncode = self.code if not self.terminated else -15
        self.polls -= 1
        return self.returncode

    def terminate(self):
        self.terminated = True

    def wait(self, timeout=None):
        return self.returncode

    def kill(self):  # pragma: no cover - only when wait times out
        self.terminated = True


@pytest.fixture
def fake_run(monkeypatch, tmp_path):
    """run_all with its children recorded instead of started; the worker exits after a while."""
    started: list[FakeProc] = []

    def popen(cmd, cwd, env):
        assert cwd == devrun.ROOT
        name = "simulator" if "simulate" in cmd else "worker" if cmd[-1] == "worker" else "web"
        proc = FakeProc(name, cmd, env, polls=1 if name == "worker" else 100, code=1)
        started.append(proc)
        return proc

    monkeypatch.setattr(devrun.subprocess, "Popen", popen)
    monkeypatch.setattr(devrun, "_wait_http", lambda url, seconds=30.0: True)
    monkeypatch.setattr(devrun.signal, "signal", lambda *args: None)
    monkeypatch.setattr(devrun.time, "sleep", lambda s: None)
    for name in (
        "ESMS_API_KEY",
        "ESMS_SECRET_KEY",
        "TRACKER_SIMULATOR",
        "TRACKER_SIMULATOR_URL",
        "TRACKER_PUBLIC_URL",
        "PROMETHEUS_MULTIPROC_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("TRACKER_SECRET_KEY", "dev-secret-key-0123456789abcdef-0123")
    monkeypatch.setenv("TRACKER_API_TOKENS", API_TOKEN)
    return started


def by_name(started):
    return {p.name: p for p in started}


def test_without_credentials_the_simulator_is_asked_for_and_started(fake_run, capsys):
    assert devrun.run_all(8123, 8124) == 0
    procs = by_name(fake_run)
    assert [p.name for p in fake_run] == ["simulator", "web", "worker"]
    assert procs["simulator"].cmd[-2:] == ["--port", "8124"]
    for p in fake_run:
        assert p.env["TRACKER_SIMULATOR"] == "1"
        assert p.env["TRACKER_SIMULATOR_URL"] == "http://127.0.0.1:8124"
        assert p.env["TRACKER_PUBLIC_URL"] == "http://127.0.0.1:8123"
    assert "127.0.0.1:8123" in procs["web"].cmd
    assert "simulator" in capsys.readouterr().out


def test_with_credentials_no_simulator(fake_run, monkeypatch, capsys):
    monkeypatch.setenv("ESMS_API_KEY", "real-key")
    monkeypatch.setenv("ESMS_SECRET_KEY", "real-secret")
    monkeypatch.setenv("TRACKER_DASHBOARD_PASSWORD", "dashboard-password")
    devrun.run_all(8123, 8124)
    assert [p.name for p in fake_run] == ["web", "worker"]
    for p in fake_run:
        assert "TRACKER_SIMULATOR" not in p.env
        assert "TRACKER_SIMULATOR_URL" not in p.env
    assert "sending to the eSMS" in capsys.readouterr().out


def test_a_given_public_url_is_kept_and_the_simulator_url_follows_the_port(fake_run, monkeypatch):
    monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://tunnel.example")
    monkeypatch.setenv("TRACKER_SIMULATOR_URL", "http://127.0.0.1:1")
    devrun.run_all(8123, 8124)
    assert all(p.env["TRACKER_PUBLIC_URL"] == "https://tunnel.example" for p in fake_run)
    assert all(p.env["TRACKER_SIMULATOR_URL"] == "http://127.0.0.1:8124" for p in fake_run)


def test_an_explicit_no_simulator_without_credentials_is_refused(fake_run, monkeypatch):
    """TRACKER_SIMULATOR=0 is an answer: not overridden, so the missing keys are named (issue 9)."""
    monkeypatch.setenv("TRACKER_SIMULATOR", "0")
    with pytest.raises(ConfigError, match="ESMS_API_KEY"):
        devrun.run_all(8123, 8124)
    assert fake_run == []


def test_the_database_is_migrated_first(fake_run, tmp_path):
    devrun.run_all(8123, 8124)
    import sqlite3

    with sqlite3.connect(tmp_path / "dev.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"messages", "events", "alembic_version"} <= tables


def test_metrics_go_to_a_fresh_shared_directory(fake_run, tmp_path):
    stale = tmp_path / "instance" / "metrics" / "old.db"
    stale.parent.mkdir(parents=True)
    stale.write_text("x")
    devrun.run_all(8123, 8124)
    dirs = {p.env["PROMETHEUS_MULTIPROC_DIR"] for p in fake_run}
    assert dirs == {str(tmp_path / "instance" / "metrics")}
    assert not stale.exists()


def test_a_given_metrics_directory_is_left_alone(fake_run, monkeypatch, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep").write_text("x")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(mine))
    devrun.run_all(8123, 8124)
    assert {p.env["PROMETHEUS_MULTIPROC_DIR"] for p in fake_run} == {str(mine)}
    assert (mine / "keep").exists()


def test_when_one_child_exits_the_rest_are_stopped(fake_run, capsys):
    devrun.run_all(8123, 8124)
    procs = by_name(fake_run)
    assert procs["worker"].returncode == 1 and not procs["worker"].terminated
    assert procs["web"].terminated and procs["simulator"].terminated
    assert "tracker: worker exited with code 1; stopping the rest" in capsys.readouterr().err


# -- the welcome text ---------------------------------------------------------------------------


def welcome(capsys, settings, port=8123) -> str:
    devrun._print_welcome(settings, port)
    return capsys.readouterr().out


def curl_of(text: str) -> list[str]:
    """The printed `curl ... -X POST ...` command, as argv."""
    start = text.index("curl -s -X POST")
    end = text.index("\n\n", start)
    return shlex.split(text[start:end].replace("\\\n", " "))


def curl_request(argv: list[str]) -> tuple[str, dict[str, str], str]:
    url = next(a for a in argv if a.startswith("http"))
    headers = dict(argv[i + 1].split(": ", 1) for i, a in enumerate(argv) if a == "-H")
    body = argv[argv.index("-d") + 1]
    return url, headers, body


@pytest.fixture
def plain_settings(tmp_path):
    return make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)


def test_welcome_shows_the_dashboard_and_how_to_watch(capsys, plain_settings):
    text = welcome(capsys, plain_settings)
    assert "  Dashboard:  http://127.0.0.1:8123/" in text.splitlines()
    assert "curl -s http://127.0.0.1:8123/api/messages/<id>" in text
    assert "Ctrl-C stops everything" in text
    assert "simulator (TRACKER_SIMULATOR=1" in text


def test_welcome_curl_carries_the_first_token_and_the_example(capsys, plain_settings):
    settings = replace_settings(plain_settings, api_tokens=("first", "second"))
    url, headers, body = curl_request(curl_of(welcome(capsys, settings)))
    assert url == "http://127.0.0.1:8123/api/messages"
    assert headers == {"Content-Type": "application/json", "Authorization": "Bearer first"}
    assert "Nguyễn Văn An" in body  # not \u-escaped: readable in a terminal


def test_welcome_curl_without_tokens_has_no_authorization(capsys, plain_settings):
    argv = curl_of(welcome(capsys, replace_settings(plain_settings, api_tokens=())))
    assert "Authorization" not in " ".join(argv)


def test_welcome_curl_is_accepted_by_the_app(capsys, settings, client):
    """Send exactly what the printed curl sends; the app queues it."""
    url, headers, body = curl_request(curl_of(welcome(capsys, settings)))
    resp = client.post(url.split("8123", 1)[1], data=body.encode(), headers=headers)
    assert resp.status_code == 202, resp.json
    assert resp.json["order_id"] == devrun.EXAMPLE["order_id"]
    assert resp.json["params"] == devrun.EXAMPLE["params"]


# -- a real `tracker dev` ----------------------------------------------------------------------


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # Zombies count as gone.
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@pytest.mark.skipif(not shutil.which("gunicorn", path=str(Path(sys.executable).parent)), reason="no gunicorn")
def test_a_real_dev_run_answers_and_ctrl_c_stops_every_child(tmp_path):
    port, sim_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESMS_", "TRACKER_", "PROMETHEUS_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}",
        TRACKER_INSTANCE_DIR=str(tmp_path / "instance"),
        TRACKER_API_TOKENS=API_TOKEN,
        WEB_CONCURRENCY="1",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "dev", "--port", str(port), "--sim-port", str(sim_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 20
        while not any("Ctrl-C stops everything" in line for line in out) and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(out)
            time.sleep(0.1)
        text = "".join(out)
        assert "Ctrl-C stops everything" in text, text
        dashboard = f"http://127.0.0.1:{port}/"
        assert f"  Dashboard:  {dashboard}" in text.splitlines()
        with urllib.request.urlopen(dashboard, timeout=10) as page:
            assert page.status == 200 and "text/html" in page.headers["Content-Type"]
        if shutil.which("curl"):
            answer = subprocess.run(
                curl_of(text) + ["-w", "\n%{http_code}"], capture_output=True, text=True, timeout=10
            )
            assert answer.stdout.rstrip().endswith("202"), answer.stdout + answer.stderr
            assert '"status"' in answer.stdout
        # Ctrl-C in a terminal: SIGINT to the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=15) == 0, "".join(out)
        deadline = time.monotonic() + 5
        while group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not group_alive(proc.pid), "a child outlived Ctrl-C"
    finally:
        if proc.poll() is None or group_alive(proc.pid):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
