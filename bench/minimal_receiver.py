"""A minimal eSMS callback receiver and lookup API that shares nothing with the tracker (issue 14).

The yardstick for the tracker's hot paths. It carries none of the tracker's parts: its own
two-table schema (made by :func:`create_schema`, not by our migrations; no trigger, no
counter, no outbox), in a database of its own, with no import from ``tracker`` or from the
other bench modules, run by plain ``gunicorn -w N`` without our ``gunicorn.conf.py``: the
worker count is the only setting it takes from the tracker's. What it does is the essential
work of each request and nothing more:

- ``/webhooks/esms/<token>`` (GET): read SMSID and the status from the query string, insert
  the event, update the message where the status outranks the stored one, commit;
- ``/api/messages/<id>`` (the message and its events), ``/api/messages?smsid=`` and
  ``/api/journeys/<order_id>``: one prepared SELECT, answered as JSON (no auth: the
  tracker's bearer check is part of its cost).

Environment: ``MINIMAL_DATABASE_URL`` (a libpq URL).
"""

from __future__ import annotations

import json
import os

import psycopg
from flask import Flask, Response, request

app = Flask(__name__)

MESSAGE_COLS = (
    "id",
    "status",
    "smsid",
    "phone",
    "template_id",
    "oa_id",
    "params",
    "order_id",
    "request_id",
    "error_code",
    "error_message",
    "price",
    "telco",
    "created_at",
    "sent_at",
    "final_at",
    "updated_at",
)
EVENT_COLS = ("id", "created_at", "kind", "outcome", "status", "error_code", "raw")

SCHEMA = """
CREATE TABLE msg (
    id bigint PRIMARY KEY,
    status text NOT NULL,
    smsid text,
    phone text,
    template_id text,
    oa_id text,
    params text,
    order_id text,
    request_id text,
    error_code text,
    error_message text,
    price numeric,
    telco text,
    created_at timestamptz NOT NULL,
    sent_at timestamptz,
    final_at timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX msg_smsid ON msg (smsid);
CREATE INDEX msg_order ON msg (order_id);
CREATE TABLE ev (
    id bigserial PRIMARY KEY,
    msg_id bigint,
    created_at timestamptz NOT NULL,
    kind text NOT NULL,
    outcome text NOT NULL,
    status text,
    error_code text,
    raw text
);
CREATE INDEX ev_msg ON ev (msg_id);
"""

# eSMS's SendStatus, and each status's rank: a status only replaces a lower one.
RANK = {"accepted": 0, "pending_approval": 1, "waiting": 2, "sent": 3, "delivered": 4, "failed": 4, "rejected": 4}
LOWER = {s: [o for o, r in RANK.items() if r < rank] for s, rank in RANK.items()}


def create_schema(url: str) -> None:
    """Drop and make the receiver's own tables."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS ev, msg")
        c.execute(SCHEMA)


def status_of(args) -> str | None:
    send_status = args.get("SendStatus")
    if send_status == "5":
        if args.get("SendSuccess", "0") not in ("", "0"):
            return "delivered"
        return "failed" if args.get("SendFailed", "0") not in ("", "0") else "sent"
    return {"1": "pending_approval", "2": "waiting", "4": "rejected", "7": "sent"}.get(send_status or "")


_conn: psycopg.Connection | None = None  # one per worker process, made after the fork
_reader: psycopg.Connection | None = None


def conn() -> psycopg.Connection:
    """The webhook's connection: its two statements and the commit are one transaction."""
    global _conn
    if _conn is None:
        _conn = psycopg.connect(os.environ["MINIMAL_DATABASE_URL"])
    return _conn


def reader() -> psycopg.Connection:
    """The lookups' connection, in autocommit: a lone SELECT needs no BEGIN and ROLLBACK."""
    global _reader
    if _reader is None:
        _reader = psycopg.connect(os.environ["MINIMAL_DATABASE_URL"], autocommit=True)
    return _reader


@app.get("/healthz")
def healthz():
    return "ok"


@app.route("/webhooks/esms/<token>", methods=["GET", "POST"])
def webhook(token: str):
    args = request.args
    smsid, status = args.get("SMSID"), status_of(args)
    if not smsid or status is None:
        return {"ok": False}, 400
    c = conn()
    with c.cursor() as cur:
        cur.execute(
            "UPDATE msg SET status = %s, error_code = %s, updated_at = now() "
            "WHERE smsid = %s AND status = ANY(%s) RETURNING id",
            (status, args.get("ErrorCode"), smsid, LOWER[status]),
            prepare=True,
        )
        hit = cur.fetchone()
        outcome = "applied" if hit else "stale"
        cur.execute(
            "INSERT INTO ev (msg_id, created_at, kind, outcome, status, error_code, raw) "
            "VALUES ((SELECT id FROM msg WHERE smsid = %s), now(), 'callback', %s, %s, %s, %s)",
            (smsid, outcome, status, args.get("ErrorCode"), request.query_string.decode("latin-1")),
            prepare=True,
        )
    c.commit()
    return {"ok": True, "outcome": outcome}


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body, default=str), status, mimetype="application/json")


def _select(sql: str, params: tuple) -> list[tuple]:
    with reader().cursor() as cur:
        return cur.execute(sql, params, prepare=True).fetchall()


_MSG = ", ".join(f"m.{c}" for c in MESSAGE_COLS)
_EV = ", ".join(f"e.{c}" for c in EVENT_COLS)


@app.get("/api/messages/<int:message_id>")
def get_message(message_id: int):
    rows = _select(
        f"SELECT {_MSG}, {_EV} FROM msg m LEFT JOIN ev e ON e.msg_id = m.id WHERE m.id = %s ORDER BY e.id",
        (message_id,),
    )
    if not rows:
        return _json({"error": "not_found"}, 404)
    n = len(MESSAGE_COLS)
    body = dict(zip(MESSAGE_COLS, rows[0][:n]))
    body["events"] = [dict(zip(EVENT_COLS, r[n:])) for r in rows if r[n] is not None]
    return _json(body)


@app.get("/api/messages")
def by_smsid():
    rows = _select(f"SELECT {_MSG} FROM msg m WHERE m.smsid = %s", (request.args.get("smsid", ""),))
    return _json({"items": [dict(zip(MESSAGE_COLS, r)) for r in rows]})


@app.get("/api/journeys/<path:order_id>")
def journey(order_id: str):
    rows = _select(f"SELECT {_MSG} FROM msg m WHERE m.order_id = %s ORDER BY m.created_at, m.id", (order_id,))
    if not rows:
        return _json({"error": "not_found"}, 404)
    return _json({"order_id": order_id, "messages": [dict(zip(MESSAGE_COLS, r)) for r in rows]})
