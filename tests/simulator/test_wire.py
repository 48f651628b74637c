"""eSMS's wire formats (tracker/simulator/wire.py), table by table, against eSMS's documents.

Documents (repository devesms/gitbook_esms_for_develop_v2): esms-api/callback-url.md (SendStatus,
telcoid, the sample callbacks and their error_info encodings, compared here byte for byte),
esms-api/bang-ma-loi.md (CodeResult and its message), esms-api/ham-truy-xuat-va-dang-ky/
ham-kiem-tra-trang-thai-tin-nhan-theo-khoang-thoi-gian.md (SentTime ``/Date(ms+0700)/``, From/To).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from tracker.simulator import wire

SAMPLE_AT = datetime(2024, 4, 24, 16, 58, 1, tzinfo=wire.VN_TZ)


def test_send_status_values_and_the_final_ones() -> None:
    """callback-url.md: 1 waiting for approval, 2 waiting to send, 4 rejected, 5 sent, 7 sent and
    waiting for the report; only 4 and 5 are final."""
    assert (wire.SEND_STATUS_PENDING_APPROVAL, wire.SEND_STATUS_WAITING, wire.SEND_STATUS_REJECTED) == (1, 2, 4)
    assert (wire.SEND_STATUS_FINISHED, wire.SEND_STATUS_AT_OPERATOR) == (5, 7)
    assert wire.FINAL_SEND_STATUSES == {4, 5}


@pytest.mark.parametrize(
    ("code", "message"),
    [("101", "Authorize Failed"), ("124", "RequestId is duplicated within 24 hours"), ("789", "TemplateId is not config"),
     ("100", "Unknown error"), ("125", "Unknown error")],
)  # fmt: skip
def test_error_message_per_code_result(code: str, message: str) -> None:
    """bang-ma-loi.md's codes have their message; 100 and undocumented codes have none of their own."""
    assert wire.error_message(code) == message


@pytest.mark.parametrize(
    ("phone", "telco"),
    [("0961000000", 1), ("0321000000", 1), ("0901000000", 2), ("0701000000", 2), ("0911000000", 3),
     ("0881000000", 3), ("0921000000", 4), ("0561000000", 4), ("0991000000", 5), ("0591000000", 5),
     ("0871000000", 6), ("0551000000", 7), ("0111000000", 1)],
)  # fmt: skip
def test_telco_of_a_prefix(phone: str, telco: int) -> None:
    """callback-url.md's telcoid: 1 Viettel, 2 Mobifone, 3 Vinaphone, 4 Vietnamobile, 5 Gtel,
    6 Itel, 7 Reddi; an unknown prefix counts as Viettel."""
    assert wire.telco_of(phone) == telco


@pytest.mark.parametrize(
    ("raw", "local"),
    [("0901888484", "0901888484"), ("84901888484", "0901888484"), ("+84 90 188 8484", "0901888484"),
     ("090-188.8484", "0901888484"), ("(090) 188 8484", "0901888484"), ("12345", None),
     ("+1 415 555 0100", None), ("849018884841", None), ("09018884841", None), ("", None)],
)  # fmt: skip
def test_normalize_phone(raw: str, local: str | None) -> None:
    """A Vietnamese mobile as 0xxxxxxxxx, also given as 84... or +84...; else None (108, bang-ma-loi.md)."""
    assert wire.normalize_phone(raw) == local


def test_times() -> None:
    moment = datetime(2024, 4, 24, 9, 58, 1, 123456, tzinfo=UTC)
    assert wire.iso(moment) == "2024-04-24T09:58:01.123Z"
    assert wire.iso(SAMPLE_AT) == "2024-04-24T09:58:01.000Z"
    assert wire.epoch_ms(moment) == 1713952681123
    assert wire.dotnet_date(moment) == "/Date(1713952681123+0700)/"
    assert wire.now_iso().endswith("Z")
    assert wire.parse_vn_time(" 2024-04-24 16:58:01 ") == SAMPLE_AT
    assert wire.parse_vn_time("24/04/2024 16:58:01") is None and wire.parse_vn_time(None) is None


def test_ids_look_like_esms_and_zalo_ones_and_follow_the_seed() -> None:
    """An SMSID of 32 hex and 3 decimal digits, a Zalo message id of 20 hex digits (callback-url.md)."""
    rng = random.Random(1)
    smsid, partner, user = wire.new_smsid(rng), wire.new_partner_id(rng), wire.new_zalo_user_id(rng)
    assert len(smsid) == 35 and int(smsid[:32], 16) >= 0 and smsid[32:].isdigit()
    assert len(partner) == 20 and int(partner, 16) >= 0
    assert len(user) == 17 and user.isdigit()
    again = random.Random(1)
    assert (wire.new_smsid(again), wire.new_partner_id(again), wire.new_zalo_user_id(again)) == (smsid, partner, user)


def test_the_quoted_form_is_the_minus_114_sample() -> None:
    """callback-url.md, the Zalo sample: JSON in quotes with escaped quotes, braces kept."""
    payload = wire.error_info_payload(-114, "quoted", "", "")
    value, on_wire = wire.encode_error_info(payload, "quoted", SAMPLE_AT)
    assert on_wire == (
        "%22{%5C%22error%5C%22%3A-114%2C%5C%22message%5C%22%3A%5C%22User%20is%20inactive%2C%20or%20reject%20the"
        "%20message%2C%20or%20using%20an%20outdated%20Zalo%20version%2C%20or%20other%20internal%20errors%5C%22}%22"
    )
    assert value == '"{\\"error\\":-114,\\"message\\":\\"' + wire.USER_INACTIVE + '\\"}"'


def test_the_double_encoded_form_is_the_journey_sample() -> None:
    """callback-url.md, the journey (TypeId 27) sample: JSON URL-encoded twice, then
    ``____dd/MM/yyyy HH:mm:ss`` in Vietnam time."""
    payload = wire.error_info_payload(0, "double_encoded", "e1a60e8890be9de4c4ab", "31215806834323092")
    _, on_wire = wire.encode_error_info(payload, "double_encoded", SAMPLE_AT.astimezone(UTC))
    assert on_wire == (
        "%257B%2522data%2522%3A%257B%2522message_id%2522%3A%2522e1a60e8890be9de4c4ab%2522%2C%2522user_id%2522%3A"
        "%252231215806834323092%2522%257D%2C%2522error%2522%3A0%2C%2522message%2522%3A%2522Success%2522%257D"
        "____24%2F04%2F2024%252016%3A58%3A01"
    )


def test_the_plain_form_is_the_tempid_523194_sample() -> None:
    """callback-url.md, the sample with tempid 523194: plain JSON, braces kept."""
    payload = wire.error_info_payload(0, "plain", "416f53d0cf0ec7569e19", "")
    value, on_wire = wire.encode_error_info(payload, "plain", SAMPLE_AT)
    assert value == payload
    assert on_wire == (
        "{%22error%22%3A0%2C%22message%22%3A%22Success%22%2C%22data%22%3A{%22delivery_time%22%3Anull%2C"
        "%22message%22%3A%22The%20message%20was%20delivered%20to%20the%20user%27s%20phone%22%2C%22status%22%3A1}}"
    )


def test_the_trailing_text_form_and_failure_payloads() -> None:
    """JSON followed by .NET's free text (REFERENCE section 2); a failure carries Zalo's code and text."""
    payload = wire.error_info_payload(-150, "trailing_text", "p", "u")
    assert payload == '{"error":-150,"message":"ZNS journey token has expired"}'
    value, on_wire = wire.encode_error_info(payload, "trailing_text", SAMPLE_AT)
    assert value == payload + wire.TRAILING_TEXT
    assert on_wire.endswith("Object%20reference%20not%20set%20to%20an%20instance%20of%20an%20object.")
    assert (
        wire.error_info_payload(0, "trailing_text", "p", "u") == '{"error":0,"message":"Success","data":{"msg_id":"p"}}'
    )
    assert '"message":"Unknown error"' in wire.error_info_payload(-9999, "plain", "", "")
    assert wire.ERROR_INFO_FORMS == ("quoted", "double_encoded", "plain", "trailing_text")


def test_reasons_have_their_texts() -> None:
    """Every code the simulator can put in error_info has its message; 1001 is eSMS's own
    (ham-lay-thong-tin-trang-thai-zns-1.md), the rest Zalo's."""
    codes = {c for c, _ in wire.FAILED_REASONS + wire.REJECTED_REASONS}
    codes |= {wire.DAILY_QUOTA_EXCEEDED, wire.JOURNEY_TOKEN_NOT_FOUND, wire.JOURNEY_TOKEN_INVALID}
    codes |= {wire.JOURNEY_TOKEN_TYPE_MISMATCH, wire.JOURNEY_TOKEN_EXPIRED}
    assert codes == set(wire.REASON_TEXT) and wire.NOT_ONLINE == 1001 in codes
    assert all(code < 0 for code, _ in wire.REJECTED_REASONS)


def test_callback_query_keeps_the_order_and_the_raw_values() -> None:
    """callback-url.md's samples: SMSID, SendFailed, SendStatus, ... in order; values quoted
    entirely, except those already encoded for the wire."""
    pairs = [("SMSID", "ab"), ("RequestId", ""), ("phonenumber", "0901 888/484"), ("error_info", "{x}")]
    assert wire.callback_query(pairs) == "SMSID=ab&RequestId=&phonenumber=0901%20888%2F484&error_info=%7Bx%7D"
    assert wire.callback_query(pairs, {"error_info": "{x}"}).endswith("&error_info={x}")
