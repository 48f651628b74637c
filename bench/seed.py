"""Seed messages (and their events) fast: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from common import OAID, plain_pg

MESSAGE_COLS = (
    "id",
    "source",
    "status",
    "smsid",
    "request_id",
    "phone",
    "template_id",
    "oa_id",
    "params",
    "order_id",
    "campaign_id",
    "sandbox",
    "error_code",
    "error_message",
    "price",
    "telco",
    "attempts",
    "created_at",
    "updated_at",
    "sent_at",
    "final_at",
)
EVENT_COLS = (
    "message_id",
    "kind",
    "outcome",
    "status",
    "smsid",
    "error_code",
    "error_message",
    "data",
    "raw",
    "created_at",
)
PARAMS = json.dumps(["Nguyễn Văn An", "DH000123", "đã giao"], ensure_ascii=False)
# What a delivered message's final callback looks like on the wire (shortened a little).
RAW_FINAL = (
    "SMSID={smsid}&SendFailed=0&SendStatus=5&SendSuccess=1&TotalPrice=220.0000&TotalReceiver=1"
    "&TotalSent=1&RequestId=&TypeId=27&telcoid=2&phonenumber=0901888484&partnerids=7f1c2a"
    "&error_info=%7B%22error%22%3A0%2C%22message%22%3A%22Success%22%7D&oaid=4097311281936189049"
    "&tempid=523194"
)


def smsid_for(mid: int) -> str:
    return f"{mid:08x}-5e1d-4c2a-9b7e-{mid * 2654435761 % 16**12:012x}"


def order_for(mid: int) -> str:
    return f"DH{mid // 4:08d}"  # journeys of four messages


def phone_for(mid: int) -> str:
    return f"+8490{mid % 10_000_000:07d}"


def _status_for(rng: random.Random, age: timedelta) -> str:
    if age < timedelta(minutes=10):
        return rng.choice(("accepted", "waiting", "sent", "delivered"))
    x = rng.random()
    return "delivered" if x < 0.85 else "failed" if x < 0.95 else "rejected"


def message_rows(first_id: int, n: int, *, status: str | None = None, spread: timedelta = timedelta(0), seed: int = 1):
    """Rows for ids first_id .. first_id+n-1; ``spread`` spaces created_at over that past period, oldest first."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    step = spread / n if n else timedelta(0)
    for k in range(n):
        mid = first_id + k
        created = now - spread + step * k - timedelta(seconds=5)
        st = status or _status_for(rng, now - created)
        final = st in ("delivered", "failed", "rejected")
        err = (
            ("-114", "User is inactive")
            if st == "failed"
            else ("-139", "User refused")
            if st == "rejected"
            else (None, None)
        )
        yield (
            mid,
            "api",
            st,
            smsid_for(mid),
            f"req-{mid}",
            phone_for(mid),
            "523194",
            OAID,
            PARAMS,
            order_for(mid),
            f"camp-{mid // 10_000}",
            False,
            err[0],
            err[1],
            "220.0000" if st == "delivered" else None,
            "Mobifone",
            1,
            created,
            created + timedelta(seconds=2),
            created + timedelta(seconds=1),
            created + timedelta(seconds=3) if final else None,
        )


def event_rows(message_rows_):
    """A send event and a final (or latest) callback for each message."""
    for row in message_rows_:
        mid, st, smsid, created = row[0], row[2], row[3], row[17]
        yield (
            mid,
            "send",
            "applied",
            "accepted",
            smsid,
            None,
            None,
            '{"attempt": 1, "result": "accepted", "code": "100"}',
            '{"CodeResult":"100"}',
            created + timedelta(seconds=1),
        )
        yield (
            mid,
            "callback",
            "applied",
            st,
            smsid,
            row[12],
            row[13],
            '{"send_status": 5}',
            RAW_FINAL.format(smsid=smsid),
            created + timedelta(seconds=3),
        )


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy(cur, table: str, cols: tuple[str, ...], rows, batch: int = 20_000) -> int:
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
        buf: list[str] = []
        for row in rows:
            buf.append("\t".join(_copy_text(v) for v in row))
            count += 1
            if len(buf) >= batch:
                copy.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            copy.write("\n".join(buf) + "\n")
    return count


def next_id(url: str) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as c:
            return (c.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0] or 0) + 1
    import psycopg

    with psycopg.connect(plain_pg(url)) as c:
        return c.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0] + 1


def seed(
    url: str,
    n: int,
    *,
    status: str | None = None,
    spread: timedelta = timedelta(0),
    events: bool = False,
    seed_: int = 1,
) -> tuple[int, float]:
    """Insert n messages after the current last id; returns (first id, seconds taken)."""
    first = next_id(url)
    t0 = time.perf_counter()
    rows = list(message_rows(first, n, status=status, spread=spread, seed=seed_))
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as c:
            c.executemany(
                f"INSERT INTO messages ({', '.join(MESSAGE_COLS)}) VALUES ({', '.join('?' * len(MESSAGE_COLS))})",
                [
                    tuple(v.replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v for v in r)
                    for r in rows
                ],
            )
            if events:
                c.executemany(
                    f"INSERT INTO events ({', '.join(EVENT_COLS)}) VALUES ({', '.join('?' * len(EVENT_COLS))})",
                    [
                        tuple(v.replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v for v in r)
                        for r in event_rows(rows)
                    ],
                )
    else:
        import psycopg

        with psycopg.connect(plain_pg(url)) as c:
            with c.cursor() as cur:
                _copy(cur, "messages", MESSAGE_COLS, rows)
                if events:
                    _copy(cur, "events", EVENT_COLS, event_rows(rows))
                cur.execute("SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT MAX(id) FROM messages))")
            c.commit()
            c.execute("ANALYZE messages")
            if events:
                c.execute("ANALYZE events")
            c.commit()
    return first, time.perf_counter() - t0
