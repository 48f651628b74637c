"""Structured request logs: one JSON line per request, request ids, masking."""

from __future__ import annotations

import json
import logging

import pytest

from tests.support import API_TOKEN, SECRET, WEBHOOK_TOKEN
from tracker import tokens
from tracker.web import logs


@pytest.fixture
def lines(caplog):
    """The request lines logged so far, as the JSON the formatter writes."""
    caplog.set_level(logging.INFO, logger="tracker.request")
    fmt = logs.JsonFormatter()

    def get() -> list[dict]:
        return [json.loads(fmt.format(r)) for r in caplog.records if r.name == "tracker.request"]

    return get


def test_one_line_per_request_with_a_generated_request_id(client, auth, lines):
    resp = client.get("/api/messages", headers=auth)
    assert resp.status_code == 200
    rid = resp.headers["X-Request-ID"]
    assert len(rid) == 32 and int(rid, 16) >= 0
    [line] = lines()
    assert line["request_id"] == rid
    assert (line["level"], line["logger"], line["msg"]) == ("info", "tracker.request", "request")
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/messages", 200)
    assert line["duration_ms"] >= 0 and line["time"].endswith("Z")


def test_a_sensible_request_id_is_honoured_and_a_bad_one_replaced(client, auth, lines):
    resp = client.get("/healthz", headers={"X-Request-ID": "upstream-42.a:b"})
    assert resp.headers["X-Request-ID"] == "upstream-42.a:b"
    bad = client.get("/healthz", headers={"X-Request-ID": "x" * 200})
    assert bad.headers["X-Request-ID"] != "x" * 200 and len(bad.headers["X-Request-ID"]) == 32
    evil = client.get("/healthz", headers={"X-Request-ID": 'a"b\\c'})
    assert evil.headers["X-Request-ID"] != 'a"b\\c'
    assert [ln["request_id"] for ln in lines()] == [
        resp.headers["X-Request-ID"],
        bad.headers["X-Request-ID"],
        evil.headers["X-Request-ID"],
    ]


def test_refused_requests_are_logged_too(client, lines):
    resp = client.get("/api/messages")
    assert resp.status_code == 401 and resp.headers["X-Request-ID"]
    assert lines()[-1]["status"] == 401


def test_phones_tokens_and_secrets_never_reach_the_log(client, auth, lines, caplog):
    client.get("/api/messages?phone=0901888484&order_id=DH1", headers=auth)
    client.get(f"/api/messages?phone=%2B84901888484&token={API_TOKEN}", headers=auth)
    token = tokens.make(SECRET, 12345)
    client.get(f"/webhooks/esms/{token}?SMSID=abc&SendStatus=2&phonenumber=0901888484")
    client.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?SMSID=abc&SendStatus=2&phonenumber=0901888484")
    got = lines()
    text = "\n".join(json.dumps(ln) for ln in got)
    for secret in ("0901888484", "901888484", API_TOKEN, token.split(".")[1], WEBHOOK_TOKEN, "Bearer"):
        assert secret not in text
    assert got[0]["query"] == "phone=090***484&order_id=DH1"
    assert got[1]["query"] == "phone=%2B8490***484&token=***" or got[1]["query"].startswith("phone=+8490***484")
    assert got[2]["path"] == "/webhooks/esms/12345.***" and "query" not in got[2]
    assert got[2]["outcome"] == "not_found"
    assert got[3]["path"] == "/webhooks/esms/***"


def test_the_webhook_line_says_what_the_callback_did(client, make_message, lines):
    from tests.web.test_metrics import callback

    mid = make_message(smsid="log-1")
    client.get(callback(mid, "log-1", 2))
    client.get(callback(mid, "log-1", 2))
    assert [ln["outcome"] for ln in lines()] == ["applied", "duplicate"]


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("0901888484", "090***484"),
        ("+84901888484", "+8490***484"),
        ("84901888484", "8490***484"),
        ("call 0901888484 now", "call 090***484 now"),
        ("order 12345", "order 12345"),
        ("id 1234567890123456", "id 1234567890123456"),
    ],
)
def test_mask_phones(raw, masked):
    assert logs.mask_phones(raw) == masked


def test_json_formatter_masks_messages_and_adds_the_request_id(app):
    fmt = logs.JsonFormatter()
    record = logging.LogRecord(
        "tracker.worker.loop", logging.WARNING, __file__, 1, "send to %s failed", ("0901888484",), None
    )
    out = json.loads(fmt.format(record))
    assert out["msg"] == "send to 090***484 failed" and out["level"] == "warning" and "request_id" not in out
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "abc"
        assert json.loads(fmt.format(record))["request_id"] == "abc"
