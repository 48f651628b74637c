"""Pieces of the chaos run: processes, a TCP proxy that can cut the database off, a forwarding receiver."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: import the tracker from this checkout
    sys.path.insert(0, str(ROOT))

from common import free_port  # noqa: E402

from tracker.worker import forwarding  # noqa: E402


class Proc:
    """One child process, logging to ``<dir>/<name>.log``."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log: IO[bytes] = open(log_dir / f"{name}.log", "ab")
        self.popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as a crashed machine would."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.log.close()


class Proxy:
    """Forwards a local port to the database; ``outage`` drops every connection and refuses new ones.

    The tracker's processes reach PostgreSQL through it, so a database outage can be
    staged without restarting a server that other programs share.
    """

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.host, self.port_to = parts.hostname or "127.0.0.1", parts.port or 5432
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        threading.Thread(target=self.loop.run_forever, name="db-proxy", daemon=True).start()
        self._run(self._listen())

    def url(self, target: str) -> str:
        """``target`` with its host and port replaced by the proxy's."""
        parts = urlsplit(target)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port_to)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, up_writer.transport}
        self._transports |= pair
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._transports -= pair

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()

    async def _cut(self, seconds: float) -> None:
        assert self._server is not None
        self._server.close()
        for transport in list(self._transports):
            transport.abort()
        await asyncio.sleep(seconds)
        await self._listen()

    def outage(self, seconds: float) -> None:
        self._run(self._cut(seconds))

    def close(self) -> None:
        if self._server is not None:
            self.loop.call_soon_threadsafe(self._server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


class ForwardReceiver:
    """Receives forwarded status changes, checks each signature, keeps the latest per message.

    As the README tells receivers: repeats are dropped by delivery id (a UUID, so it says nothing
    about order), and the first arrival of each is the latest, since one message's changes come
    in order."""

    def __init__(self, secret: str) -> None:
        self.latest: dict[int, tuple[str, str]] = {}  # message id -> (delivery id, status)
        self.seen: set[str] = set()
        self.received = 0
        self.bad_signatures = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = forwarding.verify(secret, body, self.headers.get(forwarding.SIGNATURE_HEADER))
                data = json.loads(body) if ok else {}
                with lock:
                    owner.received += 1
                    owner.bad_signatures += not ok
                    if ok and data["delivery_id"] not in owner.seen:
                        owner.seen.add(data["delivery_id"])
                        owner.latest[data["message_id"]] = (data["delivery_id"], data["status"])
                self.send_response(204 if ok else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/status"
        threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def restart_postgres() -> float:
    """Restart the local cluster (CI's own); returns how long it took."""
    version = sorted(os.listdir("/etc/postgresql"))[0]
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return time.monotonic() - started
