"""How big the outage spool is: for /healthz and for the spool's size cap (TRACKER_SPOOL_MAX_BYTES).

Apart from :mod:`tracker.callbacks.spool` so that the spool module stays about spooling;
``Spool.health`` caches what :func:`measure` finds, so a public /healthz never makes each
caller read the spool.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

# Spool files, active and claimed, end so.
SUFFIX = ".jsonl"
# Lines are counted (by reading) only while the spool is this small; past it /healthz says null.
COUNT_LINES_UP_TO = 8 << 20


def measure(path: Path) -> dict[str, int | None]:
    """Files and bytes from the directory alone; lines only while the spool is small."""
    files = sorted(path.glob(f"*{SUFFIX}")) if path.is_dir() else []
    total = 0
    for f in files:
        with contextlib.suppress(FileNotFoundError):
            total += f.stat().st_size
    if total > COUNT_LINES_UP_TO:
        return {"files": len(files), "bytes": total, "lines": None}
    return size(path)


def size(path: Path) -> dict[str, int]:
    """Files, bytes and lines waiting in the spool, read in full (tests, and small spools)."""
    files = sorted(path.glob(f"*{SUFFIX}")) if path.is_dir() else []
    total = lines = 0
    for f in files:
        with contextlib.suppress(FileNotFoundError), f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                total += len(chunk)
                lines += chunk.count(b"\n")
    return {"files": len(files), "bytes": total, "lines": lines}
