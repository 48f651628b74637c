"""tracker.models.messages: what Message.to_dict and Event.to_dict give the API, read back from both databases:
times ISO 8601 UTC ending in Z, error_code as text, phone in E.164, price as a decimal string.

Only the keys asserted here are checked: others may be added to the dicts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy.orm import Session

from tests.support import events, message
from tracker.models import Event, Message

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
WHEN = datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC)


def test_message_to_dict_of_a_final_message(engine, make_message):
    # A non-UTC aware time is stored and shown as UTC.
    ict = timezone(timedelta(hours=7))
    mid = make_message(
        status="failed",
        smsid="S-1",
        error_code="-114",
        error_message="User is inactive",
        price=Decimal("220.5"),
        telco="Mobifone",
        zalo_msg_id="z1",
        campaign_id="c1",
        created_at=WHEN,
        updated_at=WHEN,
        sent_at=WHEN.astimezone(ict),
        final_at=WHEN + timedelta(minutes=1),
    )
    d = message(engine, mid).to_dict()
    assert d["id"] == mid
    assert d["status"] == "failed" and d["final"] is True
    assert d["phone"] == "+84901888484"
    assert d["error_code"] == "-114" and isinstance(d["error_code"], str)
    assert d["error_message"] == "User is inactive"
    assert d["price"] == "220.5000"
    assert (d["smsid"], d["telco"], d["zalo_msg_id"], d["campaign_id"]) == ("S-1", "Mobifone", "z1", "c1")
    assert d["params"] == ["a"] and d["order_id"] == "DH1" and d["source"] == "api"
    assert d["sandbox"] is False and d["attempts"] == 1
    assert d["created_at"] == "2026-03-01T08:30:15Z"
    assert d["sent_at"] == "2026-03-01T08:30:15Z"
    assert d["final_at"] == "2026-03-01T08:31:15Z"
    assert ISO_Z.match(d["updated_at"])


def test_message_to_dict_of_an_open_message_keeps_nulls(engine, make_message):
    mid = make_message(status="accepted", params=None)
    d = message(engine, mid).to_dict()
    assert d["final"] is False
    assert d["error_code"] is None and d["price"] is None
    assert d["sent_at"] is None and d["final_at"] is None
    assert d["params"] == []
    assert ISO_Z.match(d["created_at"])


def test_message_to_dict_is_json_ready(engine, make_message):
    import json

    mid = make_message(price=Decimal("1.5"), error_code="send_failed", status="failed", final_at=WHEN)
    d = message(engine, mid).to_dict()
    assert json.loads(json.dumps(d))["price"] == "1.5000"


def test_event_to_dict(engine, make_message):
    mid = make_message()
    with Session(engine) as s:
        s.add(
            Event(
                message_id=mid,
                kind="callback",
                outcome="applied",
                status="delivered",
                smsid="S-2",
                error_code="0",
                error_message=None,
                data={"send_status": 5, "note": "Đã nhận"},
                raw="SMSID=S-2&SendStatus=5",
                created_at=WHEN,
            )
        )
        s.commit()
    (ev,) = events(engine, mid)
    d = ev.to_dict()
    assert d["id"] == ev.id
    assert d["at"] == "2026-03-01T08:30:15Z"
    assert (d["kind"], d["outcome"], d["status"], d["smsid"]) == ("callback", "applied", "delivered", "S-2")
    assert d["error_code"] == "0" and d["error_message"] is None
    assert d["data"] == {"send_status": 5, "note": "Đã nhận"}
    assert d["raw"] == "SMSID=S-2&SendStatus=5"


def test_an_event_without_a_message_is_kept(engine):
    with Session(engine) as s:
        s.add(Event(message_id=None, kind="callback", outcome="invalid", raw="x"))
        s.commit()
    (ev,) = events(engine)
    d = ev.to_dict()
    assert d["outcome"] == "invalid" and d["data"] == {}
    assert ISO_Z.match(d["at"])


def test_message_defaults(engine):
    with Session(engine) as s:
        msg = Message(source="cli", phone="+84901888484")
        s.add(msg)
        s.commit()
        mid = msg.id
    d = message(engine, mid).to_dict()
    assert d["status"] == "queued" and d["final"] is False
    assert d["params"] == [] and d["attempts"] == 0 and d["sandbox"] is False
    assert ISO_Z.match(d["created_at"]) and ISO_Z.match(d["updated_at"])
