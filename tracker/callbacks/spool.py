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

import contextlib
import fcntl
import heapq
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Request
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as PlainRequest

from tracker import tokens
from tracker.callbacks import receive
from tracker.callbacks.spool_size import SUFFIX, measure, size  # noqa: F401 (size: for callers)
from tracker.config import Settings, private_instance
from tracker.esms.callback import parse_callback
from tracker.models import Event
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
            return {"files": max(measured["files"] or 0, 1), "bytes": (measured["bytes"] or 0) + self._written_since,
                    "lines": None if lines is None else lines + self._lines_since}

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
                        line = json.dumps({**record, "pid": self._pid, "seq": self._seq},
                                          separators=(",", ":")) + "\n"
                        data = line.encode()
                        while data:
                            data = data[os.write(fd, data):]
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
        self.write({
            "id": callback_id, "at": received_at.isoformat(), "method": req.method,
            "shared": token is None, "token": token,
            # latin-1 maps bytes 1:1 to text, so the replay sees exactly these bytes; a credential
            # someone sent is blanked even here (the replay drops it anyway), so none lands on disk.
            "query": blank_credentials(req.query_string.decode("latin-1")),
            "body": blank_credentials(req.get_data().decode("latin-1")), "content_type": req.content_type,
        })

    def replay_soon(self, engine: Engine, settings: Settings) -> None:
        """After a request that reached the database: if we spooled, replay in the background.

        The worker replays too; this covers a web process whose disk no worker shares.
        """
        if not self.dirty or not self._replaying.acquire(blocking=False):
            return

        def run() -> None:
            try:
                replay(engine, settings)
                self.dirty = False
            except Exception:
                log.exception("spool replay failed; will try again")
            finally:
                self._replaying.release()

        threading.Thread(target=run, name="spool-replay", daemon=True).start()


def for_app(app: Flask) -> Spool:
    found = app.extensions.get("spool")
    if found is None:
        settings = app.config["SETTINGS"]
        found = app.extensions["spool"] = Spool(directory(settings), settings.spool_max_bytes)
    return found


def _claim(path: Path) -> list[Path]:
    """Rename active files to claimed ones under each writer's lock; returns every claimed file."""
    for active in sorted(path.glob(f"{ACTIVE}*{SUFFIX}")):
        try:
            fd = os.open(active, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # A unique name: the writer reuses its file name, and an earlier claim of it may still wait.
            claimed = path / f"{CLAIMED}{secrets.token_hex(4)}-{active.name[len(ACTIVE):]}"
            with contextlib.suppress(FileNotFoundError):
                os.rename(active, claimed)
        finally:
            os.close(fd)  # closing drops the lock
    _fsync_dir(path)
    return sorted(path.glob(f"{CLAIMED}*{SUFFIX}"))


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                record = json.loads(raw)
            except ValueError:
                # Only a writer that died mid-line leaves this; it never answered 200 for it.
                log.warning("spool %s line %d is torn; skipped", path.name, n)
                continue
            if isinstance(record, dict) and "id" in record:
                yield record


class _ReplayLog:
    """The ids of lines already replayed, fsynced, so a resumed replay skips them."""

    def __init__(self, path: Path) -> None:
        self.done = set(path.read_text().split()) if path.exists() else set()
        self._fh = path.open("a")

    def mark(self, line_id: str) -> None:
        self._fh.write(line_id + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.done.add(line_id)

    def close(self) -> None:
        self._fh.close()


def _request(record: dict[str, Any]) -> PlainRequest:
    builder = EnvironBuilder(method=record["method"], query_string=record["query"],
                             data=record["body"].encode("latin-1"), content_type=record.get("content_type"))
    return PlainRequest(builder.get_environ())


def _already_stored(engine: Engine, settings: Settings, record: dict[str, Any]) -> bool:
    """Is this callback's event in the database already (stored on arrival, or by a dead replay)?"""
    since = datetime.fromisoformat(record["at"]) - timedelta(seconds=5)
    query = select(Event.data).where(Event.kind == "callback", Event.created_at >= since)
    # Only narrows the lookup to the callback id's event; the token was checked when it was stored.
    message_id = None if record["shared"] else tokens.claimed_id(record["token"] or "")
    if message_id is not None:
        query = query.where(Event.message_id == message_id)
    else:
        smsid = parse_callback(_request(record).args).smsid
        query = query.where(Event.smsid == smsid) if smsid else query.where(Event.message_id.is_(None))
    with engine.connect() as conn:
        return any(isinstance(d, dict) and d.get(CALLBACK_ID) == record["id"] for d in conn.scalars(query))


def _apply(engine: Engine, settings: Settings, record: dict[str, Any]) -> None:
    token = settings.webhook_token if record["shared"] else record["token"]
    if not token:
        log.warning("spooled callback %s came to the shared URL, which is no longer set; dropped", record["id"])
        return
    extra = {CALLBACK_ID: record["id"], "received_at": record["at"], "spooled": True}
    if receive.callback(settings, engine, _request(record), token, extra) is None:
        log.warning("spooled callback %s names no message; dropped", record["id"])


def _order(record: dict[str, Any]) -> tuple[str, int, int]:
    return record.get("at", ""), record.get("pid", 0), record.get("seq", 0)


def replay(engine: Engine, settings: Settings, path: Path | None = None) -> int:
    """Apply every spooled callback once, in arrival order; returns how many were applied.

    Raises a DATABASE_DOWN error when the database is still away; what was not
    applied stays claimed and is taken up by the next call.
    """
    path = path or directory(settings)
    if not path.is_dir():
        return 0
    lock_fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # another process is replaying
        claimed = _claim(path)
        if not claimed:
            (path / LOG_NAME).unlink(missing_ok=True)
            return 0
        replay_log = _ReplayLog(path / LOG_NAME)
        applied = 0
        try:
            for record in heapq.merge(*(_records(f) for f in claimed), key=_order):
                if record["id"] in replay_log.done:
                    continue
                if not _already_stored(engine, settings, record):
                    _apply(engine, settings, record)
                    applied += 1
                replay_log.mark(record["id"])
        finally:
            replay_log.close()
        for f in claimed:
            f.unlink()
        (path / LOG_NAME).unlink()
        _fsync_dir(path)
        if applied:
            log.info("replayed %d spooled callbacks", applied)
        return applied
    finally:
        os.close(lock_fd)
