"""Bulk sends from a CSV file: read and validate every row, then follow the batch's progress.

The file is UTF-8 (a BOM is fine) with a header row naming the columns,
case-insensitively: ``phone``, ``order_id``, and the template parameters either
as one ``params`` column holding a JSON array of strings (``["Lan","DH1"]``)
or as ``param1`` … ``paramN`` (every one passed, in number order, as written).
The good rows are queued like any other message (``queue.queue_many``, source
``csv``); :func:`check_templates` first turns the rows whose params break their template
as eSMS lists it into errors of their lines (queue_many refuses such a file anyway). Each row's request id is ``csv-<hash of the file>-<line>``, so queueing
the same file again finds the same messages and sends nothing twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from tracker import status as st
from tracker.config import Settings
from tracker.models import Message
from tracker.schemas import NewMessage, field_errors

SOURCE = "csv"
_PARAM_N = re.compile(r"^param([1-9][0-9]*)$")
_REQUEST_ID = re.compile(r"csv-[0-9a-f]{24}-([0-9]+)")


class CsvError(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class Parsed:
    """A validated file: the rows ready to queue, and every problem by line."""

    batch_id: str
    rows: list[NewMessage] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_lines(self) -> int:
        return len({e.line for e in self.errors})


def batch_id(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:24]


def request_id(batch: str, line: int) -> str:
    return f"csv-{batch}-{line}"


def line_of(request_id: str) -> int | None:
    """The CSV line of a row's request id (:func:`request_id`), or None for any other id."""
    match = _REQUEST_ID.fullmatch(request_id)
    return int(match.group(1)) if match else None


def _layout(header: list[str]) -> tuple[dict[str, int], list[int]]:
    """Column positions of phone/order_id/params, and of param1..N in order."""
    names = [h.strip().lower() for h in header]
    problems: list[str] = []
    numbered: dict[int, int] = {}
    fixed: dict[str, int] = {}
    for pos, name in enumerate(names):
        match = _PARAM_N.match(name)
        if match:
            numbered[int(match.group(1))] = pos
        elif name in ("phone", "order_id", "params"):
            if name in fixed:
                problems.append(f"column {name!r} appears twice")
            fixed[name] = pos
        else:
            problems.append(f"unknown column {header[pos]!r}")
    for name in ("phone", "order_id"):
        if name not in fixed:
            problems.append(f"missing column {name!r}")
    if "params" in fixed and numbered:
        problems.append("give the parameters either as 'params' or as param1..paramN, not both")
    if numbered and sorted(numbered) != list(range(1, len(numbered) + 1)):
        problems.append("param columns must be numbered param1..paramN without gaps")
    if problems:
        raise CsvError("; ".join(problems))
    return fixed, [numbered[n] for n in sorted(numbered)]


def _params(row: list[str], fixed: dict[str, int], numbered: list[int]) -> Any:
    if "params" not in fixed:
        return [row[pos] for pos in numbered]
    cell = row[fixed["params"]].strip()
    if not cell:
        return []
    try:
        value = json.loads(cell)
    except ValueError:
        raise ValueError('must be a JSON array of strings, e.g. ["Lan", "DH1"]') from None
    return value


def parse_csv(
    content: bytes,
    *,
    template_id: str,
    oa_id: str | None = None,
    campaign_id: str | None = None,
    sandbox: bool | None = None,
) -> Parsed:
    """Validate every row; raises CsvError when the file itself is unusable."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError(f"the file is not UTF-8 (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise CsvError("the file is empty")
    fixed, numbered = _layout(header)
    parsed = Parsed(batch_id(content))
    end = reader.line_num
    for row in reader:
        line, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            parsed.errors.append(RowError(line, "row", f"expected {len(header)} columns, got {len(row)}"))
            continue
        try:
            params = _params(row, fixed, numbered)
        except ValueError as exc:
            parsed.errors.append(RowError(line, "params", str(exc)))
            continue
        data = {
            "phone": row[fixed["phone"]].strip(),
            "order_id": row[fixed["order_id"]].strip(),
            "params": params,
            "template_id": template_id,
            "oa_id": oa_id,
            "campaign_id": campaign_id,
            "sandbox": sandbox,
            "request_id": request_id(parsed.batch_id, line),
        }
        try:
            parsed.rows.append(NewMessage.model_validate({k: v for k, v in data.items() if v is not None}))
        except ValidationError as exc:
            parsed.errors += [RowError(line, name, msg) for name, msg in field_errors(exc).items()]
    return parsed


def check_templates(parsed: Parsed, engine: Engine, settings: Settings) -> None:
    """Move the rows whose params break their template (tracker/sending/templates.py) from
    ``parsed.rows`` to ``parsed.errors``, one error per parameter, by line."""
    from tracker.sending import templates  # it loads the eSMS client, which parsing alone needs not

    keep: list[NewMessage] = []
    with engine.connect() as conn:
        for row in parsed.rows:
            oa_id = row.oa_id or settings.esms_oaid
            problems = templates.check(settings, conn, oa_id, row.template_id, row.params) if oa_id else {}
            line = line_of(row.request_id or "") or 0
            parsed.errors += [RowError(line, name, why) for name, why in problems.items()]
            if not problems:
                keep.append(row)
    parsed.rows = keep
    parsed.errors.sort(key=lambda e: e.line)


def progress(engine: Engine, batch: str) -> dict[str, int]:
    """Messages of one file per status."""
    query = (
        select(Message.status, func.count()).where(Message.request_id.like(f"csv-{batch}-%")).group_by(Message.status)
    )
    with engine.connect() as conn:
        return {status: n for status, n in conn.execute(query)}


def follow(
    engine: Engine,
    batch: str,
    total: int,
    *,
    until_final: bool = False,
    poll: float = 0.5,
    timeout: float | None = None,
) -> dict[str, int]:
    """Progress bars until every message left our queue (and, with ``until_final``, is final)."""
    from tqdm import tqdm

    deadline = None if timeout is None else time.monotonic() + timeout
    counts = progress(engine, batch)
    phases = [("sent to eSMS", lambda c: total - c.get(st.QUEUED, 0) - c.get(st.SENDING, 0))]
    if until_final:
        phases.append(("final", lambda c: sum(n for s, n in c.items() if st.is_final(s))))
    for label, done in phases:
        with tqdm(total=total, desc=label, unit="msg") as bar:
            while True:
                counts = progress(engine, batch)
                bar.update(done(counts) - bar.n)
                if bar.n >= total or (deadline is not None and time.monotonic() > deadline):
                    break
                time.sleep(poll)
    return counts
