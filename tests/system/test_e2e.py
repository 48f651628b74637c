"""End to end: real gunicorn, worker and simulator processes talking HTTP, on both databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support import API_TOKEN, ROOT, SECRET, free_port

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class System:
    """The three processes of `make run`, started the way the Procfile starts them."""

    def __init__(self, db_url: str, tmp: Path):
        self.web_port, self.sim_port = free_port(), free_port()
        self.web = f"http://127.0.0.1:{self.web_port}"
        self.sim = f"http://127.0.0.1:{self.sim_port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "TRACKER_SECRET_KEY": SECRET,
            "TRACKER_API_TOKENS": API_TOKEN,
            "TRACKER_PUBLIC_URL": self.web,
            "TRACKER_SIMULATOR": "1",
            "TRACKER_SIMULATOR_URL": self.sim,
            "TRACKER_INSTANCE_DIR": str(tmp / "instance"),
            "ESMS_OAID": "4097311281936189049",
            "PYTHONUNBUFFERED": "1",
        }
        self.logs = tmp
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *cmd: str) -> None:
        out = open(self.logs / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def up(self) -> None:
        py = sys.executable
        subprocess.run([py, "-m", "tracker", "db", "upgrade"], cwd=ROOT, env=self.env, check=True, capture_output=True)
        self.start(
            "simulator", py, "-m", "tracker", "simulate", "--port", str(self.sim_port), "--seed", "7", "--speed", "0.1"
        )
        self.start(
            "web", str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.web_port}", "wsgi:app"
        )
        self.start("worker", py, "-m", "tracker", "worker")
        wait_until(lambda: requests.get(f"{self.web}/healthz", timeout=1).ok, 30, "the web process")
        wait_until(lambda: requests.get(f"{self.sim}/_sim/stats", timeout=1).ok, 30, "the simulator")

    def down(self) -> str:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-3000:]}" for f in self.logs.glob("*.log"))

    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        return requests.request(method, f"{self.web}{path}", headers=headers, timeout=10, **kw)


@pytest.fixture
def system(db_url, engine, tmp_path):
    sys_ = System(db_url, tmp_path)
    try:
        sys_.up()
        yield sys_
    finally:
        logs = sys_.down()
        print(logs)


def test_journey_messages_are_sent_called_back_and_delivered(system):
    # A forced outcome makes the first message's fate certain; the rest follow the seeded mix.
    # eSMS calls back only the final status; the "waiting" asserted below needs the simulator
    # to call back the intermediate ones too.
    requests.post(
        f"{system.sim}/_sim/config",
        timeout=5,
        json={"forced_outcomes": {"0901888484": "delivered", "0901888485": "failed"}, "intermediate_statuses": True},
    )
    phones = ["0901888484", "0901888485"] + [f"09123450{i:02d}" for i in range(18)]
    ids = []
    for i, phone in enumerate(phones):
        body = {
            "phone": phone,
            "template_id": "523194",
            "params": ["Nguyễn Văn An", f"DH{i}", "đã giao"],
            "order_id": f"DH{i % 5}",
            "request_id": f"e2e-{i}",
        }
        resp = system.api("POST", "/api/messages", json=body)
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()["id"])

    def all_final():
        msgs = [system.api("GET", f"/api/messages/{i}").json() for i in ids]
        return msgs if all(m["final"] for m in msgs) else None

    msgs = wait_until(all_final, 60, "every message to reach a final status")
    truth = {t["smsid"]: t for t in requests.get(f"{system.sim}/_sim/messages", timeout=5).json()["messages"]}

    first = msgs[0]
    assert first["status"] == "delivered" and first["error_code"] is None and first["smsid"] in truth
    kinds = [(e["kind"], e["status"], e["outcome"]) for e in first["events"]]
    # The send's answer and the first callback may arrive in either order.
    assert [k for k in kinds if k[0] == "send"] == [("send", "accepted", "applied")]
    applied = [s for k, s, o in kinds if k == "callback" and o == "applied"]
    assert applied[-1] == "delivered" and "waiting" in applied
    assert msgs[1]["status"] == "failed" and msgs[1]["error_code"]

    for m in msgs:
        t = truth[m["smsid"]]
        assert t["accept_count"] == 1, t
        assert m["status"] == t["outcome"], (m, t)
        assert t["phone"] == "0" + m["phone"][3:] and t["params"] == m["params"]
        assert t["callback_url"].startswith(f"{system.web}/webhooks/esms/") and "?" not in t["callback_url"]

    # The same request_id again answers 200 with the same message and sends nothing more.
    again = system.api(
        "POST",
        "/api/messages",
        json={"phone": phones[0], "template_id": "523194", "params": [], "order_id": "DH0", "request_id": "e2e-0"},
    )
    assert again.status_code == 200 and again.json()["id"] == ids[0]
    journey = system.api("GET", "/api/journeys/DH0").json()
    assert [m["id"] for m in journey["messages"]] == [ids[i] for i in range(0, 20, 5)]


def test_a_rejected_send_ends_rejected_with_its_code(system):
    requests.post(f"{system.sim}/_sim/config", json={"forced_codes": {"0901000789": "789"}}, timeout=5)
    mid = system.api(
        "POST",
        "/api/messages",
        json={"phone": "0901000789", "template_id": "523194", "params": ["a"], "order_id": "R1"},
    ).json()["id"]
    msg = wait_until(
        lambda: (m := system.api("GET", f"/api/messages/{mid}").json())["final"] and m, 30, "the rejection"
    )
    assert (msg["status"], msg["error_code"], msg["smsid"]) == ("rejected", "789", None)
