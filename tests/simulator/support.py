"""Helpers shared by the simulator's tests: requests to its endpoints, a callback receiver.

The requests follow eSMS's documents (repository devesms/gitbook_esms_for_develop_v2):
esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md for the send, esms-api/callback-url.md for callbacks.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from tracker.simulator import SimSettings, start_in_thread
from tracker.simulator.server import RunningSimulator

# Nothing listens on the discard port: callbacks fail fast and are not what these tests look at.
DEAD_CALLBACK = "http://127.0.0.1:9/cb"
SMSID_RE = re.compile(r"^[0-9a-f]{32}\d{3}$")
OAID = "4097311281936189049"


def quiet_settings(**overrides: Any) -> SimSettings:
    """Speed 0 and none of the natural duplicate/late/lost callbacks, so results are exact."""
    base: dict[str, Any] = {
        "seed": 7,
        "speed": 0.0,
        "natural_duplicate_rate": 0.0,
        "natural_late_rate": 0.0,
        "natural_lost_rate": 0.0,
    }
    base.update(overrides)
    return SimSettings(**base)


def body(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ApiKey": "key",
        "SecretKey": "secret",
        "Phone": "0901888484",
        "Params": ["Lan", "ORD-1"],
        "IsJourney": True,
        "OrderId": "J-1",
        "TempID": "2056446",
        "OAID": OAID,
        "RequestId": "req-1",
        "CallbackUrl": DEAD_CALLBACK,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not ...}


def send(sim: RunningSimulator, **overrides: Any) -> dict[str, Any]:
    response = requests.post(f"{sim.base_url}/SendZaloMessage_V4_post_json/", json=body(**overrides), timeout=5)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def truth(sim: RunningSimulator) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = requests.get(f"{sim.url}/_sim/messages", timeout=5).json()["messages"]
    return items


def configure(sim: RunningSimulator, **changes: Any) -> requests.Response:
    return requests.post(f"{sim.url}/_sim/config", json=changes, timeout=5)


def configure_ok(sim: RunningSimulator, **changes: Any) -> None:
    assert configure(sim, **changes).ok


def post(sim: RunningSimulator, path: str, **payload: Any) -> dict[str, Any]:
    """POST an eSMS API under the base path with the test credentials."""
    data = {"ApiKey": "key", "SecretKey": "secret", **payload}
    answer: dict[str, Any] = requests.post(f"{sim.base_url}/{path}", json=data, timeout=5).json()
    return answer


PARAM_ORDER = [
    "SMSID", "SendFailed", "SendStatus", "SendSuccess", "TotalPrice", "TotalReceiver", "TotalSent",
    "RequestId", "TypeId", "telcoid", "phonenumber", "partnerids",
]  # fmt: skip


class Receiver:
    """A tiny webhook recording every GET it gets, raw, in arrival order."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with receiver.lock:
                    receiver.calls.append(self.path)
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/esms/tok"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def parsed(self) -> list[dict[str, str]]:
        """Each call's query decoded once, as a web framework would."""
        with self.lock:
            return [dict(parse_qsl(urlsplit(path).query, keep_blank_values=True)) for path in self.calls]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start(**overrides: Any) -> RunningSimulator:
    base: dict[str, Any] = {
        "seed": 11,
        "speed": 0.0,
        "natural_duplicate_rate": 0.0,
        "natural_late_rate": 0.0,
        "natural_lost_rate": 0.0,
    }
    base.update(overrides)
    return start_in_thread(SimSettings(**base))


def send_with_callback(sim: RunningSimulator, url: str, timeout: float = 5, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ApiKey": "key",
        "SecretKey": "secret",
        "Phone": "0901888484",
        "Params": ["Lan"],
        "IsJourney": True,
        "OrderId": "J-1",
        "TempID": "2056446",
        "OAID": "4097311281936189049",
        "RequestId": "req-1",
        "CallbackUrl": url,
    }
    payload.update(overrides)
    payload = {k: v for k, v in payload.items() if v is not ...}
    response = requests.post(f"{sim.base_url}/SendZaloMessage_V4_post_json/", json=payload, timeout=timeout)
    answer: dict[str, Any] = response.json()
    return answer


def wait_idle(sim: RunningSimulator, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if requests.get(f"{sim.url}/_sim/idle", timeout=5).json()["idle"]:
            return
        time.sleep(0.02)
    raise AssertionError("simulator never went idle")


def truth_of(sim: RunningSimulator, smsid: str) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(f"{sim.url}/_sim/messages/{smsid}", timeout=5).json()
    return answer


def decode_error_info(value: str) -> tuple[str, dict[str, Any]]:
    """(encoding, Zalo JSON) of an error_info already decoded once (REFERENCE section 2)."""
    if value.startswith('"'):
        return "quoted", json.loads(json.loads(value))
    if "____" in value:
        encoded, stamp = value.split("____")
        assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", unquote(stamp))
        return "double_encoded", json.loads(unquote(encoded))
    obj, end = json.JSONDecoder().raw_decode(value)
    return ("plain" if end == len(value) else "trailing_text"), obj
