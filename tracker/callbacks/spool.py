"""Outage spool: callbacks that arrive while the database is down wait on local disk, then are replayed.

Each process appends to its own ``spool-<pid>-<random>.jsonl`` (O_APPEND, fsync
per line, so an answered callback survives a crash). A replayer takes files by
renaming them to ``claimed-...`` while holding the writer's flock, merges them in
arrival order and feeds every line through the webhook's own receiving code
(``tracker.callbacks.receive``). Each callback gets an id on arrival, kept in its
event's data (``callback_id``) and as its spool line's id; a line whose event is
already stored is not applied again. That covers a replay that died after
applying a line, and a commit whose answer the outage swallowed (stored, then
spooled). Lines done are logged (fsynced) so a resumed replay skips them without
asking the database.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, Request
from sqlalchemy.exc import InterfaceError, OperationalError

from tracker.callbacks.spool_size import SUFFIX, measure, size  # noqa: F401 (size: for callers)
from tracker.config import Settings, private_instance
from tracker.web.scrubbing import blank_credentials

log = logging.getLogger("tracker.callbacks.spool")

# What "the database cannot be reached" looks like through SQLAlchemy.
DATABASE_DOWN = (OperationalError, InterfaceError)
# Key of the arrival id in an event's data; also the spool line's id.
CALLBACK_ID = "callback_id"
ACTIVE, CLAIMED = "spool-", "claimed-"
LOG_NAME, LOCK_NAME = "replay.log", ".replay.lock"
# How long a measured spool size is trusted: /healthz is public, and must not make anyone's
# request read the spool; appends check the cap against it (plus what this process wrote since).
SIZE_TTL = 5.0


class SpoolFull(Exception):
    """The spool holds TRACKER_SPOOL_MAX_BYTES already: this callback cannot be kept."""


def directory(settings: Settings) -> Path:
    return settings.instance_dir / "spool"


def _fsync_dir(path: Path) -> None:
    # A new or renamed file is durable only once its directory entry is.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """This process's spool file; safe across threads, forks and a replayer renaming it away."""

    def __init__(self, path: Path, max_bytes: int = 1 << 30) -> None:
        self.dir = path
        self.max_bytes = max_bytes
        self._measured: dict[str, int | None] | None = None
        self._measured_at = 0.0
        self._written_since = self._lines_since = 0
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._name = ""
        self._seq = 0
        self.dirty = False
        self._replaying = threading.Lock()

    def _open(self) -> int:
        if self._pid != os.getpid():  # first use, or a forked child: a file of our own
            self._pid, self._seq = os.getpid(), 0
            self._name = f"{ACTIVE}{self._pid}-{secrets.token_hex(4)}{SUFFIX}"
        # instance/ and the spool are this user's alone: callbacks carry phone numbers.
        private_instance(self.dir.parent)
        self.dir.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self.dir / self._name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        _fsync_dir(self.dir)
        return fd

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _measure(self, now: float) -> dict[str, int | None]:
        if self._measured is None or now - self._measured_at >= SIZE_TTL:
            self._measured, self._measured_at = measure(self.dir), now
            self._written_since = self._lines_since = 0
        return self._measured

    def health(self) -> dict[str, int | None]:
        """Files, bytes and (while small) lines in the spool, measured at most every SIZE_TTL seconds."""
        with self._lock:
            measured = self._measure(time.monotonic())
            if not self._written_since:
                return dict(measured)
            # Our own appends since the measurement are seen at once.
            lines = measured["lines"]
            return {
                "files": max(measured["files"] or 0, 1),
                "bytes": (measured["bytes"] or 0) + self._written_since,
                "lines": None if lines is None else lines + self._lines_since,
            }

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as a JSON line and fsync it; SpoolFull when the cap is reached."""
        with self._lock:
            measured = self._measure(time.monotonic())
            if (measured["bytes"] or 0) + self._written_since >= self.max_bytes:
                raise SpoolFull(f"the spool holds {measured['bytes']} bytes (TRACKER_SPOOL_MAX_BYTES={self.max_bytes})")
            if self._pid != os.getpid():
                self._fd = None  # the parent's descriptor is not ours to use
            while True:
                if self._fd is None:
                    self._fd = self._open()
                fd = self._fd
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    try:
                        mine = os.stat(self.dir / self._name).st_ino == os.fstat(fd).st_ino
                    except FileNotFoundError:
                        mine = False
                    if mine:
                        self._seq += 1
                        line = json.dumps({**record, "pid": self._pid, "seq": self._seq}, separators=(",", ":")) + "\n"
                        data = line.encode()
                        while data:
                            data = data[os.write(fd, data) :]
                        os.fsync(fd)
                        self.dirty = True
                        self._written_since += len(line.encode())
                        self._lines_since += 1
                        return
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                self._close()  # a replayer claimed the file: start a new one under the same name

    def append(self, req: Request, token: str | None, callback_id: str, received_at: datetime) -> None:
        """Keep a callback as it arrived; ``token`` None means the shared URL."""
        self.write(
            {
                "id": callback_id,
                "at": received_at.isoformat(),
                "method": req.method,
                "shared": token is None,
                "token": token,
                # latin-1 maps bytes 1:1 to text, so the replay sees exactly these bytes; a credential
                # someone sent is blanked even here (the replay drops it anyway), so none lands on disk.
                "query": blank_credentials(req.query_string.decode("latin-1")),
                "body": blank_credentials(req.get_data().decode("latin-1")),
                "content_type": req.content_type,
            }
        )


def for_app(app: Flask) -> Spool:
    found = app.extensions.get("spool")
    if found is None:
        settings = app.config["SETTINGS"]
        found = app.extensions["spool"] = Spool(directory(settings), settings.spool_max_bytes)
    return found
