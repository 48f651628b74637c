"""The `tracker` command as a user runs it: db upgrade, send, worker --once, config errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import ROOT
from tracker.simulator import SimSettings, start_in_thread


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ESMS_OAID": "4097311281936189049",
        "TRACKER_SIMULATOR": "1",
    }


def tracker(env, *args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "tracker", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_upgrade_send_and_worker_once(env):
    sim = start_in_thread(SimSettings(seed=1, speed=0, drop_callback_rate=1.0))
    try:
        env["TRACKER_SIMULATOR_URL"] = sim.url
        assert "upgraded" in tracker(env, "db", "upgrade").stdout
        out = tracker(
            env,
            "send",
            "--phone",
            "+84 90 188 8484",
            "--template",
            "523194",
            "--param",
            "Nguyễn Văn An",
            "--param",
            "DH9",
            "--order",
            "DH9",
            "--request-id",
            "cli-1",
        ).stdout
        msg = json.loads(out)
        assert (msg["status"], msg["source"], msg["phone"], msg["params"]) == (
            "queued",
            "cli",
            "+84901888484",
            ["Nguyễn Văn An", "DH9"],
        )
        again = tracker(
            env, "send", "--phone", "0901888484", "--template", "523194", "--order", "DH9", "--request-id", "cli-1"
        )
        assert json.loads(again.stdout)["id"] == msg["id"] and "nothing new" in again.stderr
        tracker(env, "worker", "--once")
        (truth,) = [m for m in sim.fake.messages.values() if m.request.request_id == "cli-1"]
        assert truth.request.params == ["Nguyễn Văn An", "DH9"]
    finally:
        sim.stop()


def test_send_with_a_bad_phone_is_a_usage_error(env):
    tracker(env, "db", "upgrade")
    proc = tracker(env, "send", "--phone", "123", "--template", "1", "--order", "o", check=False)
    assert proc.returncode == 2 and "phone" in proc.stderr


def test_bad_setting_stops_the_process_with_one_line_naming_it(env):
    env["TRACKER_RECONCILE_AFTER"] = "soon"
    proc = tracker(env, "worker", check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "TRACKER_RECONCILE_AFTER" in lines[0]


def test_wsgi_entry_point_fails_fast_too(env):
    del env["TRACKER_SIMULATOR"]
    env["ESMS_API_KEY"] = "k"
    proc = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True)
    # 3: gunicorn's boot-error code, which stops gunicorn instead of respawning the worker.
    assert proc.returncode == 3 and "ESMS_SECRET_KEY" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_help_works_before_anything_is_configured(env, tmp_path):
    """`tracker --help` on a fresh machine lists the commands, with no configuration traceback."""
    bare = {k: v for k, v in env.items() if not k.startswith(("TRACKER_", "ESMS_", "DATABASE_URL"))}
    proc = subprocess.run(
        [sys.executable, "-m", "tracker", "--help"], cwd=tmp_path, env=bare, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr + proc.stdout and "ConfigError" not in proc.stderr
    for command in ("db", "send", "send-csv", "worker", "reconcile", "simulate", "purge", "dev"):
        assert f"  {command} " in proc.stdout
