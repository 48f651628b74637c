"""Serving the simulator: blocking with clean SIGINT/SIGTERM shutdown, or in a thread for tests."""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tracker.simulator.app import BASE, create_simulator_app
from tracker.simulator.fake_esms import FakeEsms
from tracker.simulator.settings import SimSettings

# How often serve_forever looks for a shutdown request; werkzeug's 0.5 s makes every stop slow.
POLL_INTERVAL = 0.05


class _QuietHandler(WSGIRequestHandler):
    """Tests start many simulators; a log line per request would drown their output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _serve(host: str, port: int, settings: SimSettings | None, quiet: bool) -> tuple[BaseWSGIServer, FakeEsms]:
    app = create_simulator_app(settings)
    fake: FakeEsms = app.extensions["simulator"]
    handler = _QuietHandler if quiet else WSGIRequestHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    fake.start()
    return server, fake


def _shutdown(server: BaseWSGIServer, fake: FakeEsms, thread: threading.Thread) -> None:
    # FakeEsms first: it wakes the handlers holding back an injected timeout.
    fake.stop()
    server.shutdown()
    thread.join(timeout=5.0)
    server.server_close()


@dataclass
class RunningSimulator:
    """A simulator serving in a background thread."""

    url: str
    fake: FakeEsms
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        """What ESMS_BASE_URL should be."""
        return self.url + BASE

    @property
    def status_url(self) -> str:
        """What ESMS_STATUS_URL should be (GetCallback lives on the same server)."""
        return self.url

    def stop(self) -> None:
        _shutdown(self.server, self.fake, self.thread)


def start_in_thread(
    settings: SimSettings | None = None, host: str = "127.0.0.1", port: int = 0, quiet: bool = True
) -> RunningSimulator:
    """Start a simulator on ``port`` (0 = any free port) and return at once."""
    server, fake = _serve(host, port, settings, quiet)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL,), name="sim-http", daemon=True)
    thread.start()
    return RunningSimulator(f"http://{host}:{server.server_port}", fake, server, thread)


def run_simulator(
    host: str = "127.0.0.1", port: int = 8025, settings: SimSettings | None = None, quiet: bool = False
) -> None:
    """Serve until SIGINT or SIGTERM, then stop the server and the dispatcher."""
    server, fake = _serve(host, port, settings, quiet)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    # Signal handlers can only be installed from the main thread.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL,), name="sim-http", daemon=True)
    thread.start()
    url = f"http://{host}:{server.server_port}"
    print(f"eSMS simulator on {url} (ESMS_BASE_URL={url}{BASE}, ESMS_STATUS_URL={url})", file=sys.stderr, flush=True)
    try:
        # A timed wait keeps the main thread responsive to signals.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        _shutdown(server, fake, thread)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
