"""Helpers of the eSMS client's tests: a scripted local HTTP server standing in for eSMS (the edge we do not own)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_KEY = "ApiKey-7f3c9e1d2b4a"
SECRET_KEY = "Secret+Key/9a8b7c6d=="
SMSID = "d8e0f1f0702544b2acb456ca9ccfd111250"


@dataclass
class Reply:
    body: str | dict | None = None
    status: int = 200
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeEsms:
    """Records every request and answers from a script, in order (the last answer repeats)."""

    replies: list[Reply] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def script(self, *replies: Reply) -> None:
        self.replies[:] = list(replies)

    def json(self, index: int = -1) -> dict:
        return json.loads(self.seen[index].body)


def make_handler(fake: FakeEsms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            fake.seen.append(
                Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers), self.rfile.read(length))
            )
            reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
            time.sleep(reply.delay)
            body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = body.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up waiting (timeout test)
                pass

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the thread-pool test connects 40 clients at once
