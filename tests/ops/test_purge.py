"""`tracker purge --older-than DAYS`: personal data of old final messages goes, counts and statuses stay."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from tests.support import CALLBACK_SAMPLES, SECRET, WEBHOOK_TOKEN
from tracker import tokens
from tracker.db import utcnow
from tracker.models import Event, Message
from tracker.ops.cli import cli
from tracker.ops.purge import identifiers, purge, redact
from tracker.queries import stats

NOW = utcnow()
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=2)
PHONE_FORMS = ("+84901888484", "0901888484", "84901888484", "901888484")
UID = "312158068343230"
_SMSIDS = itertools.count()


def add(engine, *, status: str, at, phone="+84901888484", recipient=None, params=("Nguyễn Văn An", "DH1")) -> int:
    with Session(engine) as s:
        m = Message(
            source="api",
            status=status,
            phone=phone,
            recipient=recipient,
            template_id="523194",
            oa_id="1",
            params=list(params),
            order_id="DH1",
            sandbox=False,
            attempts=1,
            smsid=f"S{next(_SMSIDS)}",
            created_at=at,
            updated_at=at,
            final_at=at if status in ("delivered", "failed", "rejected") else None,
        )
        s.add(m)
        s.flush()
        s.add_all(
            [
                Event(
                    message_id=m.id,
                    kind="send",
                    outcome="applied",
                    status="accepted",
                    created_at=at,
                    data={"request": {"Phone": "0901888484", "Params": list(params), "OAID": "1"}, "code": "100"},
                    raw='{"CodeResult":"100","SMSID":"x"}',
                ),
                Event(
                    message_id=m.id,
                    kind="callback",
                    outcome="applied",
                    status=status,
                    created_at=at,
                    data={
                        "phone": "0901888484",
                        "extra": {"note": "call 0901888484"},
                        "zalo_data": {"user_id": UID, "message_id": "zm1"},
                        "status": status,
                    },
                    raw=urlencode({"SMSID": "x", "phonenumber": "0901888484", "error_info": f'{{"user_id":"{UID}"}}'}),
                ),
            ]
        )
        s.commit()
        return m.id


def dump(engine, mid: int) -> str:
    with Session(engine) as s:
        m = s.get(Message, mid)
        events = s.scalars(select(Event).where(Event.message_id == mid)).all()
        return json.dumps([m.to_dict(), [e.to_dict() for e in events]], ensure_ascii=False)


def personal(text: str) -> bool:
    return any(p in text for p in PHONE_FORMS) or UID in text or "Nguyễn" in text


@pytest.fixture
def population(engine):
    return {
        "old_delivered": add(engine, status="delivered", at=OLD),
        "old_failed": add(engine, status="failed", at=OLD),
        "old_uid": add(engine, status="rejected", at=OLD, phone=None, recipient=UID),
        "old_in_flight": add(engine, status="sent", at=OLD),  # not final: kept whole
        "recent_final": add(engine, status="delivered", at=RECENT),  # final, but too recent
    }


def test_purge_anonymises_old_final_messages_only(engine, population):
    before = {k: dump(engine, v) for k, v in population.items()}
    done = purge(engine, timedelta(days=30), now=NOW)
    assert done.messages == 3 and done.events == 6
    for name in ("old_delivered", "old_failed", "old_uid"):
        text = dump(engine, population[name])
        assert not personal(text), (name, text)
        with Session(engine) as s:
            m = s.get(Message, population[name])
            assert (m.phone, m.recipient, m.params) == (None, None, [])
            events = s.scalars(select(Event).where(Event.message_id == m.id)).all()
            assert [e.raw for e in events] == [None, None]
            assert events[1].data["zalo_data"]["message_id"] == "zm1"  # what is not personal stays
    for name in ("old_in_flight", "recent_final"):
        assert dump(engine, population[name]) == before[name]


def test_counts_statuses_and_timelines_are_unchanged(engine, population):
    def snapshot():
        with Session(engine) as s:
            rows = s.execute(
                select(
                    Message.id,
                    Message.status,
                    Message.smsid,
                    Message.error_code,
                    Message.price,
                    Message.created_at,
                    Message.final_at,
                ).order_by(Message.id)
            ).all()
            events = s.execute(
                select(Event.id, Event.message_id, Event.kind, Event.outcome, Event.status).order_by(Event.id)
            ).all()
            return rows, events, stats.summary(s, OLD - timedelta(days=1), NOW + timedelta(days=1))

    before = snapshot()
    purge(engine, timedelta(days=30), now=NOW)
    assert snapshot() == before


def test_purge_twice_does_nothing_more(engine, population):
    purge(engine, timedelta(days=30), now=NOW)
    again = purge(engine, timedelta(days=30), now=NOW)
    assert (again.messages, again.events) == (0, 0)


def test_old_callbacks_that_named_no_message_are_purged_too(client, engine):
    resp = client.get(f"/webhooks/esms/{WEBHOOK_TOKEN}?" + urlencode({"phonenumber": "0901888484", "SendStatus": "5"}))
    assert resp.status_code == 400
    later = NOW + timedelta(days=31)
    done = purge(engine, timedelta(days=30), now=later)
    assert done.events == 1
    with Session(engine) as s:
        event = s.scalars(select(Event)).one()
        assert event.message_id is None and event.raw is None and event.outcome == "invalid"
        assert not personal(json.dumps(event.data))


def test_a_late_callback_after_purge_is_purged_on_the_next_run(client, engine, population):
    mid = population["old_delivered"]
    purge(engine, timedelta(days=30), now=NOW)
    with Session(engine) as s:
        smsid = s.get(Message, mid).smsid
    query = urlencode({"SMSID": smsid, "SendStatus": 5, "SendSuccess": 1, "phonenumber": "0901888484"})
    assert client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{query}").json["outcome"] == "duplicate"
    assert personal(dump(engine, mid))
    purge(engine, timedelta(days=30), now=NOW + timedelta(days=31))
    assert not personal(dump(engine, mid))


def test_redact_masks_phones_everywhere_in_event_data():
    data = {
        "Phone": "0901888484",
        "PhoneNumber": "x",
        "Params": ["a"],
        "request": {"phone": "1", "params": ["b"]},
        "extra": {"anything": "+84 90 188 8484 called", "list": ["0381234567"]},
        "price": "220.0000",
    }
    out = redact(data)
    assert out["Phone"] is None and out["PhoneNumber"] is None and out["Params"] == []
    assert out["request"] == {"phone": None, "params": []}
    assert out["extra"] == {"anything": "*** called", "list": ["***"]} and out["price"] == "220.0000"


def test_cli_purge(engine, population, monkeypatch, db_url, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("TRACKER_SECRET_KEY", SECRET)
    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_SIMULATOR", "1")
    for name in ("ESMS_API_KEY", "ESMS_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    result = runner.invoke(cli, ["purge", "--older-than", "30"])
    assert result.exit_code == 0, result.output
    assert "purged 3 messages and 6 events older than 30 days" in result.output
    assert runner.invoke(cli, ["purge", "--older-than", "0"]).exit_code == 2  # at least one day
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.phone.is_(None))) == 1 + 2


SAMPLES = CALLBACK_SAMPLES
UID_RECIPIENT = "312158068343230"  # phonenumber of eSMS's UID-send callback sample
UID_IN_ERROR_INFO = "31215806834323092"  # the user_id inside that sample's twice-encoded error_info
UID_IN_JSON = "4417235501123456789"  # a user_id inside a plain JSON error_info


def as_text(value) -> str:
    if isinstance(value, str):
        try:  # JSON as SQLite stores it: non-ASCII escaped
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False, default=str)


def every_stored_value(engine) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every column of every row of every table: the
    schema is read, not listed here, so a column added later is checked too."""
    out: list[tuple[str, str, str]] = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                out += [(table, column, as_text(value)) for column, value in row.items()]
    return out


def where_found(stored: list[tuple[str, str, str]], identifiers: tuple[str, ...]) -> set[tuple[str, str, str]]:
    return {(ident, table, column) for table, column, value in stored for ident in identifiers if ident in value}


def test_purge_leaves_no_recipient_identifier_in_any_column_of_any_table(client, engine, make_message):
    # A UID send, exactly as eSMS reports it, on the shared URL: an external message whose
    # recipient is a Zalo user id, with another user id inside error_info.
    uid_line = next(line for line in SAMPLES.read_text().splitlines() if "%2522user_id" in line)
    assert client.get(uid_line.replace("{callback}", f"/webhooks/esms/{WEBHOOK_TOKEN}")).status_code == 200
    # A send to a phone, refused by Zalo with a plain JSON error_info naming the user (in its text too).
    mid = make_message(status="sent", phone="+84901888484", smsid="S-PHONE", params=["Nguyễn Văn An", "DH1"])
    error_info = json.dumps(
        {
            "error": -124,
            "message": f"user {UID_IN_JSON} has blocked the OA",
            "data": {"user_id": UID_IN_JSON, "phonenumber": "0901888484"},
        }
    )
    query = urlencode(
        {
            "SMSID": "S-PHONE",
            "SendStatus": 5,
            "SendSuccess": 0,
            "SendFailed": 1,
            "phonenumber": "0901888484",
            "error_info": error_info,
        }
    )
    assert (
        client.post(
            f"/webhooks/esms/{tokens.make(SECRET, mid)}", data=query, content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    add(engine, status="failed", at=OLD)  # a send event's request (national form) and params
    identifiers = (UID_RECIPIENT, UID_IN_ERROR_INFO, UID_IN_JSON, "901888484", "Nguyễn")
    seeded = where_found(every_stored_value(engine), identifiers)
    assert {ident for ident, _, _ in seeded} == set(identifiers)

    purge(engine, timedelta(days=30), now=NOW + timedelta(days=31))

    assert where_found(every_stored_value(engine), identifiers) == set()
    with Session(engine) as s:  # what is not personal stays
        assert s.scalar(select(func.count()).select_from(Message).where(Message.status == "failed")) == 2
        assert s.scalar(select(Message.error_code).where(Message.id == mid)) == "-124"


@pytest.mark.parametrize(
    "text",
    [
        "%257B%2522data%2522%3A%257B%2522user_id%2522%3A%252231215806834323092%2522%257D%257D",  # twice URL-encoded
        '"{\\"data\\":{\\"user_id\\":\\"31215806834323092\\"}}"',  # JSON inside a JSON string
        "{'data': {'user_id': 31215806834323092}}",  # a Python repr
        "SMSID=x&UserId=31215806834323092&SendStatus=5",  # a query string
    ],
)
def test_identifiers_are_found_in_any_encoding(text):
    assert identifiers({"error_info_raw": text}) == {UID_IN_ERROR_INFO}


def test_a_phone_is_known_in_every_form_and_short_values_are_not_identifiers():
    assert identifiers({"Phone": "0901888484", "user_id": "1", "recipient": None}) == {
        "+84901888484",
        "84901888484",
        "0901888484",
        "901888484",
    }


def test_an_old_number_kept_as_given_is_purged_too(engine, settings):
    """Issue 11: the queue event keeps an old 11-digit number as written; purge removes it."""
    from tracker.schemas import NewMessage
    from tracker.sending.queue import queue

    with Session(engine) as s:
        msg, _ = queue(
            s,
            settings,
            NewMessage(phone="0168 812 3456", template_id="523194", params=["A"], order_id="DH1"),
            source="api",
        )
        mid = msg.id
        s.execute(
            text(
                "UPDATE messages SET status = 'failed', created_at = :at, updated_at = :at, final_at = :at"
                " WHERE id = :id"
            ),
            {"at": OLD, "id": mid},
        )
        s.execute(text("UPDATE events SET created_at = :at WHERE message_id = :id"), {"at": OLD, "id": mid})
        s.commit()
    assert "0168 812 3456" in dump(engine, mid)
    purge(engine, timedelta(days=30))
    text_after = dump(engine, mid)
    assert "812 3456" not in text_after and "8123456" not in text_after
