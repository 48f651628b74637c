"""The reference the benchmarks compare the tracker with: Flask plus the essential SQL, nothing else.

Served by the same gunicorn settings as the tracker (``gunicorn -c gunicorn.conf.py
bench.reference_app:app``), on the same database (DATABASE_URL: PostgreSQL through
psycopg directly, or SQLite through sqlite3), it answers:

- ``/noop``: a bare Flask endpoint, the ceiling of any Flask app here;
- ``/webhooks/esms/<token>``: insert the raw event, conditionally update the message
  by SMSID, commit (the token is ignored: the SMSID names the message);
- ``/api/messages/<id>``, ``/api/messages?smsid=``, ``/api/journeys/<order_id>``: check
  the bearer token, read the same rows with one query, return them as JSON.
"""

from __future__ import annotations

import hmac
import json
import os
import sqlite3
from datetime import datetime

from flask import Flask, Response, request

app = Flask(__name__)

DATABASE_URL = os.environ.get("DATABASE_URL", "")
SQLITE = DATABASE_URL.startswith("sqlite")
TOKENS = [t.strip().encode() for t in os.environ.get("TRACKER_API_TOKENS", "").split(",") if t.strip()]

# Status words by rank, and what each incoming one may replace (the tracker's rule, inlined).
RANK = {
    "queued": 0,
    "sending": 1,
    "accepted": 2,
    "pending_approval": 3,
    "waiting": 4,
    "sent": 5,
    "delivered": 6,
    "failed": 6,
    "rejected": 6,
}
LOWER = {s: tuple(o for o, r in RANK.items() if r < RANK[s]) for s in RANK}

MESSAGE_COLS = (
    "id, status, smsid, phone, template_id, oa_id, params, order_id, campaign_id, request_id, "
    "sandbox, source, error_code, error_message, price, telco, created_at, sent_at, final_at, "
    "updated_at"
)
EVENT_COLS = "id, created_at, kind, outcome, status, smsid, error_code, error_message, data, raw"

_conn = None  # one connection per worker process, made after the fork


def conn():
    global _conn
    if _conn is None:
        if SQLITE:
            _conn = sqlite3.connect(DATABASE_URL.split("///", 1)[1], timeout=30, check_same_thread=False)
            _conn.execute("PRAGMA journal_mode=WAL")
            _conn.execute("PRAGMA synchronous=NORMAL")
            _conn.execute("PRAGMA busy_timeout=30000")
        else:
            import psycopg

            url = DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
            _conn = psycopg.connect(url)
    return _conn


def _status(args) -> str | None:
    send_status = args.get("SendStatus")
    if send_status == "2":
        return "waiting"
    if send_status == "7":
        return "sent"
    if send_status == "1":
        return "pending_approval"
    if send_status == "4":
        return "rejected"
    if send_status == "5":
        if args.get("SendSuccess", "0") not in ("", "0"):
            return "delivered"
        if args.get("SendFailed", "0") not in ("", "0"):
            return "failed"
        return "sent"
    return None


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/noop")
def noop():
    return "ok"


@app.route("/webhooks/esms/<token>", methods=["GET", "POST"])
def webhook(token: str):
    args = request.args
    smsid, status = args.get("SMSID"), _status(args)
    raw = request.query_string.decode("latin-1")
    if not smsid or status is None:
        return {"ok": False}, 400
    c = conn()
    lower = LOWER[status]
    if SQLITE:
        marks = ", ".join("?" * len(lower))
        hit = c.execute(
            f"UPDATE messages SET status = ?, updated_at = datetime('now') WHERE smsid = ? AND status IN ({marks})",
            (status, smsid, *lower),
        ).rowcount
        c.execute(
            "INSERT INTO events (kind, outcome, status, smsid, data, raw, created_at) "
            "VALUES ('callback', ?, ?, ?, '{}', ?, datetime('now'))",
            ("applied" if hit else "stale", status, smsid, raw),
        )
    else:
        cur = c.cursor()
        cur.execute(
            "UPDATE messages SET status = %s, updated_at = now() WHERE smsid = %s AND status = ANY(%s)",
            (status, smsid, list(lower)),
        )
        hit = cur.rowcount
        cur.execute(
            "INSERT INTO events (kind, outcome, status, smsid, data, raw, created_at) "
            "VALUES ('callback', %s, %s, %s, '{}', %s, now())",
            ("applied" if hit else "stale", status, smsid, raw),
        )
    c.commit()
    return {"ok": True, "outcome": "applied" if hit else "stale"}


# -- lookups --------------------------------------------------------------------------


def _authorized() -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    ok = False
    if scheme.lower() == "bearer" and given:
        for token in TOKENS:
            ok |= hmac.compare_digest(given.strip().encode(), token)
    return ok


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body, default=_jsonable), status, mimetype="application/json")


def _rows(sql: str, params: tuple) -> tuple[list[str], list[tuple]]:
    c = conn()
    if SQLITE:
        cur = c.execute(sql.replace("%s", "?"), params)
    else:
        cur = c.cursor()
        cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if not SQLITE:
        c.rollback()  # end the read transaction; psycopg opened one
    return names, rows


def _unauthorized():
    return _json({"error": {"code": "unauthorized"}}, 401)


@app.get("/api/messages/<int:message_id>")
def get_message(message_id: int):
    if not _authorized():
        return _unauthorized()
    mcols = [c.strip() for c in MESSAGE_COLS.split(",")]
    ecols = [c.strip() for c in EVENT_COLS.split(",")]
    sql = (
        f"SELECT {', '.join('m.' + c for c in mcols)}, {', '.join('e.' + c for c in ecols)} "
        "FROM messages m LEFT JOIN events e ON e.message_id = m.id WHERE m.id = %s ORDER BY e.id"
    )
    _, rows = _rows(sql, (message_id,))
    if not rows:
        return _json({"error": {"code": "not_found"}}, 404)
    n = len(mcols)
    body = dict(zip(mcols, rows[0][:n]))
    body["events"] = [dict(zip(ecols, r[n:])) for r in rows if r[n] is not None]
    return _json(body)


@app.get("/api/messages")
def list_messages():
    if not _authorized():
        return _unauthorized()
    names, rows = _rows(
        f"SELECT {MESSAGE_COLS} FROM messages WHERE smsid = %s ORDER BY id DESC LIMIT 51",
        (request.args.get("smsid", ""),),
    )
    return _json({"items": [dict(zip(names, r)) for r in rows[:50]], "next_cursor": None})


@app.get("/api/journeys/<path:order_id>")
def get_journey(order_id: str):
    if not _authorized():
        return _unauthorized()
    names, rows = _rows(f"SELECT {MESSAGE_COLS} FROM messages WHERE order_id = %s ORDER BY created_at, id", (order_id,))
    if not rows:
        return _json({"error": {"code": "not_found"}}, 404)
    return _json({"order_id": order_id, "messages": [dict(zip(names, r)) for r in rows]})
