"""`make run`: migrate, start web + worker (+ simulator), print how to try it, stop all on Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tracker import config
from tracker.ops import migrate

ROOT = Path(__file__).resolve().parents[2]  # the checkout: make run starts gunicorn with its gunicorn.conf.py

EXAMPLE = {
    "phone": "0901888484",
    "template_id": "200001",
    "oa_id": "4097311281936189049",
    "params": ["Nguyễn Văn An", "DH1001", "đang giao hàng"],
    "order_id": "DH1001",
}


def _wait_http(url: str, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except Exception:
            time.sleep(0.2)
    return False


def run_all(port: int, sim_port: int) -> int:
    env = dict(os.environ)
    if not env.get("ESMS_API_KEY"):
        # `make run` is the quick start: with no eSMS credentials it asks for the simulator
        # explicitly (the services themselves never infer it, issue 9).
        env.setdefault("TRACKER_SIMULATOR", "1")
    if config.flag(env, "TRACKER_SIMULATOR"):
        env["TRACKER_SIMULATOR_URL"] = f"http://127.0.0.1:{sim_port}"
    env.setdefault("TRACKER_PUBLIC_URL", f"http://127.0.0.1:{port}")
    settings = config.load(env)
    migrate.upgrade(settings.database_url)

    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        # Web and worker count into one place, so /metrics shows the sends too (tracker/metrics.py).
        metrics_dir = settings.instance_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    python = sys.executable
    gunicorn = shutil.which("gunicorn", path=str(Path(python).parent)) or "gunicorn"
    commands = []
    if settings.simulator_mode:
        commands.append(("simulator", [python, "-m", "tracker", "simulate", "--port", str(sim_port)]))
    commands += [
        ("web", [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}", "wsgi:app"]),
        ("worker", [python, "-m", "tracker", "worker"]),
    ]
    procs = [(name, subprocess.Popen(cmd, cwd=ROOT, env=env)) for name, cmd in commands]

    def stop(*_):
        for _, p in procs:
            if p.poll() is None:
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        if _wait_http(f"http://127.0.0.1:{port}/healthz"):
            _print_welcome(settings, port)
        while all(p.poll() is None for _, p in procs):
            time.sleep(0.5)
        for name, p in procs:
            if p.poll() is not None:
                print(f"tracker: {name} exited with code {p.returncode}; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for _, p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


def _print_welcome(settings: config.Settings, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    auth = f" \\\n  -H 'Authorization: Bearer {settings.api_tokens[0]}'" if settings.api_tokens else ""
    mode = "simulator (TRACKER_SIMULATOR=1: nothing real is sent)" if settings.simulator_mode else "eSMS"
    body = json.dumps(EXAMPLE, ensure_ascii=False)
    print(
        f"""
  Journey tracker is running — sending to the {mode}.

  Dashboard:  {base}/
  Send a journey message:

    curl -s -X POST {base}/api/messages -H 'Content-Type: application/json'{auth} \\
      -d '{body}'

  Then watch it:  curl -s {base}/api/messages/<id>   (the id is in the answer above)
  Ctrl-C stops everything.
""",
        flush=True,
    )
