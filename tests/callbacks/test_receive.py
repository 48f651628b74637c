"""tracker.callbacks.receive: turning a callback request's parameters (query, form or JSON body) into a
stored, applied report: names matched case-insensitively, credentials never kept, NUL escaped, the
shared URL (by SMSID) vs a message's own URL (by signed token), and what the caller gets back."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tests.support import SECRET, WEBHOOK_TOKEN, callback_query, events, message, replace_settings
from tracker import tokens
from tracker.callbacks import receive
from tracker.callbacks.receive import Received


def request(query: str = "", method: str = "GET", **body) -> Request:
    """A request as the webhook view sees it; ``data=``/``json=`` give a POST body."""
    return Request(EnvironBuilder(path="/webhooks/esms/x", method=method, query_string=query, **body).get_environ())


def delivered(smsid: str = "S1") -> str:
    return callback_query(smsid, 5, 1, 0, TotalPrice="220.0000")


def test_per_message_url_applies_to_its_message(settings, engine, make_message):
    mid = make_message(smsid="S1")
    got = receive.callback(settings, engine, request(delivered()), tokens.make(SECRET, mid))
    assert got == Received("applied")
    m = message(engine, mid)
    assert m.status == "delivered" and str(m.price) == "220.0000"
    (ev,) = events(engine, mid)
    assert ev.kind == "callback" and ev.raw == delivered()


def test_a_token_naming_no_message_stores_nothing(settings, engine, make_message):
    make_message(smsid="S1")
    assert receive.callback(settings, engine, request(delivered()), "not-a-token") is None
    assert receive.callback(settings, engine, request(delivered()), tokens.make(SECRET, 999_999)) is None
    assert events(engine) == []


def test_shared_url_finds_the_message_by_smsid(settings, engine, make_message):
    mid = make_message(smsid="S7")
    assert receive.callback(settings, engine, request(delivered("S7")), WEBHOOK_TOKEN) == Received("applied")
    assert message(engine, mid).status == "delivered"


def test_shared_url_with_an_unknown_smsid_makes_an_external_message(settings, engine):
    got = receive.callback(settings, engine, request(delivered("NEW") + "&phonenumber=0901888484"), WEBHOOK_TOKEN)
    assert got == Received("applied")
    (ev,) = events(engine)
    m = message(engine, ev.message_id)
    assert (m.source, m.smsid, m.status, m.phone) == ("external", "NEW", "delivered", "+84901888484")


def test_shared_token_is_not_a_message_token_without_a_webhook_token(settings, engine, make_message):
    make_message(smsid="S7")
    no_shared = replace_settings(settings, webhook_token=None)
    assert receive.callback(no_shared, engine, request(delivered("S7")), WEBHOOK_TOKEN) is None


@pytest.mark.parametrize(
    "query",
    [
        "smsid=S1&sendstatus=5&sendsuccess=1&sendfailed=0&totalprice=220",
        "SMSID=S1&SENDSTATUS=5&SENDSUCCESS=1&SENDFAILED=0&TOTALPRICE=220",
        "SmsId=S1&sendStatus=5&SendSuccess=1&sendfailed=0&TotalPrice=220",
    ],
)
def test_parameter_names_match_whatever_their_case(settings, engine, make_message, query):
    mid = make_message(smsid="S1")
    assert receive.callback(settings, engine, request(query), tokens.make(SECRET, mid)) == Received("applied")
    m = message(engine, mid)
    assert (m.status, str(m.price)) == ("delivered", "220.0000")


def test_a_form_post_is_read_and_kept_raw(settings, engine, make_message):
    mid = make_message(smsid="S1")
    req = request(method="POST", data={"SMSID": "S1", "SendStatus": "5", "SendSuccess": "1"})
    assert receive.callback(settings, engine, req, tokens.make(SECRET, mid)) == Received("applied")
    assert message(engine, mid).status == "delivered"
    (ev,) = events(engine, mid)
    assert "SMSID=S1" in ev.raw and "SendStatus=5" in ev.raw


def test_a_json_post_is_read_with_the_query_string(settings, engine, make_message):
    mid = make_message(smsid="S1")
    req = request("SMSID=S1", method="POST", json={"SendStatus": 5, "SendSuccess": 1, "error_info": None})
    assert receive.callback(settings, engine, req, tokens.make(SECRET, mid)) == Received("applied")
    assert message(engine, mid).status == "delivered"
    (ev,) = events(engine, mid)
    assert ev.raw.startswith("SMSID=S1\n") and '"SendStatus": 5' in ev.raw


def test_credentials_sent_to_us_are_never_stored(settings, engine, make_message):
    mid = make_message(smsid="S1")
    query = delivered() + "&ApiKey=LEAKED-KEY&secretkey=LEAKED-SECRET"
    receive.callback(settings, engine, request(query), tokens.make(SECRET, mid))
    (ev,) = events(engine, mid)
    stored = ev.raw + json.dumps(ev.data)
    assert "LEAKED" not in stored
    assert "ApiKey=***" in ev.raw


def test_credentials_in_a_json_body_are_never_stored(settings, engine, make_message):
    mid = make_message(smsid="S1")
    req = request(method="POST", json={"SMSID": "S1", "SendStatus": 5, "SendSuccess": 1, "apiKey": "LEAKED"})
    receive.callback(settings, engine, req, tokens.make(SECRET, mid))
    (ev,) = events(engine, mid)
    assert "LEAKED" not in ev.raw + json.dumps(ev.data)


def test_nul_in_the_raw_text_is_kept_visible_escaped(settings, engine, make_message):
    """A literal NUL in a POST body: PostgreSQL text refuses it, so it is stored as ``\\x00``."""
    mid = make_message(smsid="S1")
    req = request(
        method="POST",
        data="SMSID=S1&SendStatus=5&SendSuccess=1&note=a\0b",
        content_type="application/x-www-form-urlencoded",
    )
    assert receive.callback(settings, engine, req, tokens.make(SECRET, mid)) == Received("applied")
    (ev,) = events(engine, mid)
    assert "\0" not in ev.raw
    assert "note=a\\x00b" in ev.raw


def test_an_invalid_report_says_what_was_wrong(settings, engine, make_message):
    mid = make_message(smsid="S1")
    got = receive.callback(settings, engine, request("SMSID=S1&SendStatus=banana"), tokens.make(SECRET, mid))
    assert got.outcome == "invalid"
    assert got.problems and any("SendStatus" in p for p in got.problems)
    assert message(engine, mid).status == "accepted"
    assert [e.outcome for e in events(engine, mid)] == ["invalid"]


def test_other_outcomes_carry_no_problems(settings, engine, make_message):
    mid = make_message(smsid="S1", status="delivered")
    got = receive.callback(settings, engine, request(callback_query("S1", 2)), tokens.make(SECRET, mid))
    assert got == Received("stale", ())


def test_extra_is_merged_into_the_event_data(settings, engine, make_message):
    mid = make_message(smsid="S1")
    receive.callback(settings, engine, request(delivered()), tokens.make(SECRET, mid), extra={"replayed": "abc"})
    (ev,) = events(engine, mid)
    assert ev.data["replayed"] == "abc"
    assert ev.data["smsid"] == "S1"


def test_is_shared(settings):
    assert receive.is_shared(settings, WEBHOOK_TOKEN) is True
    assert receive.is_shared(settings, WEBHOOK_TOKEN + "x") is False
    assert receive.is_shared(settings, "") is False
    assert receive.is_shared(replace_settings(settings, webhook_token=None), WEBHOOK_TOKEN) is False
    assert receive.is_shared(replace_settings(settings, webhook_token=""), "") is False
