"""Replaying the outage spool: callbacks kept on disk while the database was away, applied in order.

Exactly once: each record carries the id it was spooled under; a record whose id is already in
the database (a commit whose answer the outage swallowed) or in the replay log is skipped.
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
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as PlainRequest

from tracker import tokens
from tracker.callbacks import receive
from tracker.callbacks.spool import ACTIVE, CALLBACK_ID, CLAIMED, LOCK_NAME, LOG_NAME, Spool, _fsync_dir, directory
from tracker.callbacks.spool_size import SUFFIX
from tracker.config import Settings
from tracker.esms.callback import parse_callback
from tracker.models import Event

log = logging.getLogger("tracker.callbacks.replay")


def replay_soon(box: Spool, engine: Engine, settings: Settings) -> None:
    """After a request that reached the database: if ``box`` spooled, replay in the background.

    The worker replays too; this covers a web process whose disk no worker shares.
    """
    if not box.dirty or not box._replaying.acquire(blocking=False):
        return

    def run() -> None:
        try:
            replay(engine, settings)
            box.dirty = False
        except Exception:
            log.exception("spool replay failed; will try again")
        finally:
            box._replaying.release()

    threading.Thread(target=run, name="spool-replay", daemon=True).start()


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
            claimed = path / f"{CLAIMED}{secrets.token_hex(4)}-{active.name[len(ACTIVE) :]}"
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
    builder = EnvironBuilder(
        method=record["method"],
        query_string=record["query"],
        data=record["body"].encode("latin-1"),
        content_type=record.get("content_type"),
    )
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
