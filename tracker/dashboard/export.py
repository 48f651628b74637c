"""CSV export of a filtered message list, streamed row batch by row batch (never all in memory).

Column names and status words are the API's (a spreadsheet's formulas may rely on them).
Times are ISO 8601 on the tracker's clock, with their offset (``2024-06-05T23:30:00+07:00``),
so they read as local time and still convert exactly; ``created_local`` repeats the creation
time the way the dashboard shows it. Code meanings are in the reader's language.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from tracker.dashboard import formats, listing, reasons
from tracker.models import Message

BATCH = 1000
FLUSH_BYTES = 64 * 1024
COLUMNS = (
    "id",
    "created_at",
    "created_local",
    "status",
    "phone",
    "recipient",
    "template_id",
    "oa_id",
    "order_id",
    "campaign_id",
    "request_id",
    "smsid",
    "source",
    "sandbox",
    "error_code",
    "error_meaning",
    "error_message",
    "price",
    "telco",
    "attempts",
    "sent_at",
    "final_at",
    "updated_at",
)
_ADDED = ("created_local", "error_meaning")  # not columns of the table: made from the row
_SELECTED = [getattr(Message, c) for c in COLUMNS if c not in _ADDED]
_LOCAL_AT = COLUMNS.index("created_local")
_MEANING_AT = COLUMNS.index("error_meaning")
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?[0-9][0-9.]*$")


def _safe(value: Any, zone: tzinfo) -> Any:
    """Text a spreadsheet would run as a formula gets a leading quote; numbers and phones stay as they are."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.match(value):
        return "'" + value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone).isoformat()
    return value


def rows(engine: Engine, filters: listing.Filters) -> Iterator[str]:
    """CSV text in chunks of about 64 KiB, newest message first."""
    buf = io.StringIO()
    out = csv.writer(buf)
    # A byte-order mark makes spreadsheet programs read the Vietnamese text as UTF-8.
    buf.write("\ufeff")
    out.writerow(COLUMNS)
    stmt = select(*_SELECTED).where(*listing.message_filter(filters).clauses()).order_by(Message.id.desc())
    # Looked up once: per row, they would cost more than the row itself.
    zone, shown = formats.zone(), formats.when_function()
    with engine.connect() as conn:
        # yield_per streams from a server-side cursor on PostgreSQL, in batches on SQLite.
        result = conn.execution_options(yield_per=BATCH).execute(stmt)
        for row in result:
            values = [_safe(v, zone) for v in row]
            values.insert(_LOCAL_AT, shown(row.created_at))
            values.insert(_MEANING_AT, reasons.meaning(row.error_code))
            out.writerow(values)
            if buf.tell() >= FLUSH_BYTES:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()
