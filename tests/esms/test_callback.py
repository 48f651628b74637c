"""Parsing eSMS delivery callbacks: the provider's own samples, every error_info encoding, garbage."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qsl, quote

import pytest

from tests.support import CALLBACK_SAMPLES, ROOT
from tracker.esms.callback import Callback, parse_callback
from tracker.esms.error_info import ErrorInfo, decode_error_info

SAMPLES = CALLBACK_SAMPLES
# The copy above is what CI has for sure; shared/ sits beside a checkout when it is there.
SAMPLES_SHARED = ROOT.parent / "shared" / "esms" / "callback-samples.txt"


def sample_lines() -> list[str]:
    return [line.strip() for line in SAMPLES.read_text().splitlines() if line.strip()]


def params_of(line: str) -> dict[str, str]:
    """What Flask's request.args gives for a callback URL: values URL-decoded once."""
    return dict(parse_qsl(line.split("?", 1)[1], keep_blank_values=True))


USER_INACTIVE = "User is inactive, or reject the message, or using an outdated Zalo version, or other internal errors"
OA1, OA2 = "4097311281936189049", "3639635426588416370"
UID = "312158068343230"

# One row per line of callback-samples.txt, in file order.
EXPECTED = [
    dict(
        smsid="dc712784-9c5f-4c69-b9a8-ea69d56adc9a87",
        status="failed",
        error_code="send_failed",
        zalo_error=None,
        price=Decimal("0"),
        telco="Viettel",
        phone="0901888484",
        oa_id=None,
        partner_ids=None,
        note=None,
        type_id=2,
        template_id=None,
        extra={"switchsmsid": ""},
    ),
    dict(
        smsid="82b0bb8aed914a0aab8deba567c9b8c2",
        status="sent",
        error_code=None,
        zalo_error=None,
        price=Decimal("696987"),
        telco=None,
        phone=None,
        oa_id=None,
        partner_ids=None,
        note=None,
        type_id=1,
        template_id=None,
        extra={},
    ),
    dict(
        smsid="f66545d2-c7e2-4603-984e-d2238c363c8292",
        status="failed",
        error_code="-114",
        zalo_error=-114,
        price=Decimal("0"),
        telco="Mobifone",
        phone="0901888484",
        oa_id="1397492183140006179",
        partner_ids=None,
        note=None,
        type_id=25,
        template_id="2056446",
        extra={},
    ),
    dict(
        smsid="849fe08c19294b02857cf91687021a50250",
        status="delivered",
        error_code=None,
        zalo_error=None,
        price=Decimal("470"),
        telco="Mobifone",
        phone="0901888484",
        oa_id=None,
        partner_ids=None,
        note=None,
        type_id=23,
        template_id=None,
        extra={},
    ),
    dict(
        smsid="7d11c87a22934df390f73ec59d8defd6205",
        status="delivered",
        error_code=None,
        zalo_error=0,
        price=Decimal("60"),
        telco=None,
        phone=UID,
        oa_id=OA1,
        partner_ids="e1a60e8890be9de4c4ab",
        note="24/04/2024 16:58:01",
        type_id=26,
        template_id=None,
        extra={},
    ),
    dict(
        smsid="53dbbc6e816f4159a9035a14a787e08f172",
        status="delivered",
        error_code=None,
        zalo_error=0,
        price=Decimal("60"),
        telco=None,
        phone=UID,
        oa_id=OA1,
        partner_ids="f405841b5f2352790b36",
        note="24/04/2024 17:07:01",
        type_id=26,
        template_id=None,
        extra={},
    ),
    dict(
        smsid="53dbbc6e816f4159a9035a14a787e08f172",
        status="delivered",
        error_code=None,
        zalo_error=0,
        price=Decimal("60"),
        telco=None,
        phone=UID,
        oa_id=OA1,
        partner_ids="f405841b5f2352790b36",
        note="24/04/2024 17:07:01",
        type_id=26,
        template_id=None,
        extra={},
    ),
    dict(
        smsid="7d11c87a22934df390f73ec59d8defd6205",
        status="delivered",
        error_code=None,
        zalo_error=0,
        price=Decimal("220"),
        telco=None,
        phone=UID,
        oa_id=OA1,
        partner_ids="e1a60e8890be9derir3gfbff",
        note="24/04/2024 16:58:01",
        type_id=27,
        template_id=None,
        extra={},
    ),
    dict(
        smsid="5450d5579bfa466a9f2a5911c82f4037",
        status="delivered",
        error_code=None,
        zalo_error=0,
        price=Decimal("2104"),
        telco="Zalo UID",
        phone="5308693166941955879",
        oa_id=OA2,
        partner_ids="416f53d0cf0ec7569e19",
        note=None,
        type_id=25,
        template_id="523194",
        extra={},
    ),
]


def test_sample_copy_matches_shared_file():
    assert CALLBACK_SAMPLES.exists()
    if SAMPLES_SHARED.exists():
        assert CALLBACK_SAMPLES.read_text() == SAMPLES_SHARED.read_text()
    assert len(sample_lines()) == len(EXPECTED)


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_provider_samples(index):
    cb = parse_callback(params_of(sample_lines()[index]))
    want = EXPECTED[index]
    assert cb.problems == ()
    assert cb.smsid == want["smsid"]
    assert cb.status == want["status"]
    assert cb.error_code == want["error_code"]
    assert cb.zalo_error == want["zalo_error"]
    assert cb.total_price == want["price"]
    assert cb.telco == want["telco"]
    assert cb.phone == want["phone"]
    assert cb.oa_id == want["oa_id"]
    assert cb.partner_ids == want["partner_ids"]
    assert cb.error_info_note == want["note"]
    assert cb.type_id == want["type_id"]
    assert cb.template_id == want["template_id"]
    assert cb.extra == want["extra"]
    assert cb.request_id is None  # "RequestId=" is empty in every sample
    json.dumps(cb.to_dict())  # JSON-safe


def test_sample_error_details():
    lines = sample_lines()
    rejected_by_zalo = parse_callback(params_of(lines[2]))
    assert rejected_by_zalo.error_message == USER_INACTIVE
    assert rejected_by_zalo.zalo_message == USER_INACTIVE
    assert rejected_by_zalo.send_failed == 1 and rejected_by_zalo.total_sent == 0
    uid = parse_callback(params_of(lines[4]))
    assert uid.zalo_data == {"message_id": "e1a60e8890be9de4c4ab", "user_id": "31215806834323092"}
    assert uid.zalo_message == "Success" and uid.error_message is None
    plain = parse_callback(params_of(lines[8]))
    assert plain.zalo_data == {
        "delivery_time": None,
        "message": "The message was delivered to the user's phone",
        "status": 1,
    }
    first = parse_callback(params_of(lines[0]))
    assert first.error_message == "eSMS reported the message as failed"
    assert first.total_receiver == 2 and first.total_sent == 2 and first.telco_id == 1


def test_to_dict():
    d = parse_callback(params_of(sample_lines()[7])).to_dict()
    assert d["total_price"] == "220.0000"
    assert d["status"] == "delivered" and d["error_code"] is None and d["telco"] is None
    assert d["problems"] == [] and d["zalo_error"] == 0 and d["type_id"] == 27
    assert json.loads(json.dumps(d)) == d


def quote_times(text: str, times: int) -> str:
    for _ in range(times):
        text = quote(text, safe="")
    return text


INNER = {"error": -114, "message": "User is inactive"}
INNER_JSON = json.dumps(INNER, separators=(",", ":"))
SUCCESS = {"data": {"message_id": "e1a6", "user_id": "3121"}, "error": 0, "message": "Success"}
SUCCESS_JSON = json.dumps(SUCCESS, separators=(",", ":"))


@pytest.mark.parametrize(
    "value, data, note",
    [
        # (a) JSON inside a JSON string, inner quotes escaped
        ('"{\\"error\\":-114,\\"message\\":\\"User is inactive\\"}"', INNER, None),
        # (b) JSON URL-encoded once more, "____" and a URL-encoded timestamp
        (quote(SUCCESS_JSON, safe=":,") + "____24/04/2024%2016:58:01", SUCCESS, "24/04/2024 16:58:01"),
        # (b) encoded the way eSMS's sample has it after one decoding
        (
            "%7B%22data%22:%7B%22message_id%22:%22e1a6%22,%22user_id%22:%223121%22%7D,%22error%22:0,"
            "%22message%22:%22Success%22%7D____24/04/2024%2017:07:01",
            SUCCESS,
            "24/04/2024 17:07:01",
        ),
        # (c) plain JSON
        (SUCCESS_JSON, SUCCESS, None),
        ("  " + SUCCESS_JSON + "  ", SUCCESS, None),
        # (d) JSON followed by free text
        (
            '{"error":-124,"message":"Access token is invalid"}Object reference not set to an instance of an object.',
            {"error": -124, "message": "Access token is invalid"},
            "Object reference not set to an instance of an object.",
        ),
        # plain JSON with a timestamp
        (INNER_JSON + "____24/04/2024 16:58:01", INNER, "24/04/2024 16:58:01"),
        # URL-encoded twice and three times more
        (quote_times(INNER_JSON, 2), INNER, None),
        (quote_times(INNER_JSON, 3), INNER, None),
        (quote_times(INNER_JSON, 7), INNER, None),
        (quote(quote(SUCCESS_JSON + "____24/04/2024 16:58:01", safe=""), safe=""), SUCCESS, "24/04/2024 16:58:01"),
        # the quoted form, URL-encoded once more
        (quote('"' + INNER_JSON.replace('"', '\\"') + '"', safe=""), INNER, None),
        # bare Zalo codes, as the status APIs give ErrorInfo
        ("0", {"error": 0}, None),
        ("-114", {"error": -114}, None),
        ("1001", {"error": 1001}, None),
        ("null", None, None),
    ],
)
def test_decode_error_info_encodings(value, data, note):
    info = decode_error_info(value)
    assert info == ErrorInfo(data=data, note=note, problem=None)


@pytest.mark.parametrize(
    "value, problem",
    [
        ("", "error_info is empty"),
        ("   ", "error_info is empty"),
        ("hello", "error_info is not JSON"),
        ("%ZZ not json", "error_info is not JSON"),
        ("{broken", "error_info is not JSON"),
        ("%7Bbroken", "error_info is not JSON"),
        ("[1,2,3]", "error_info is not a JSON object"),
        ("true", "error_info is not a JSON object"),
        ("24/04/2024", "error_info is not a JSON object"),
        ("[" * 5000, "error_info is not JSON"),
        (quote_times(INNER_JSON, 9), "error_info is encoded too many times"),
        (None, "error_info is not text"),
        (123, "error_info is not text"),
    ],
)
def test_decode_error_info_problems(value, problem):
    info = decode_error_info(value)
    assert info.data is None
    assert info.problem == problem


BASE = {"SMSID": "abc", "SendStatus": "5", "SendSuccess": "1", "SendFailed": "0"}


@pytest.mark.parametrize(
    "params",
    [
        {"smsid": "abc", "sendstatus": "5", "sendsuccess": "1"},
        {"SMSID": "abc", "SENDSTATUS": "5", "SENDSUCCESS": "1"},
        {"SmsId": "abc", "SendStatus": "5", "sendSuccess": "1"},
    ],
)
def test_keys_are_case_insensitive(params):
    cb = parse_callback(params)
    assert (cb.smsid, cb.status, cb.problems) == ("abc", "delivered", ())


@pytest.mark.parametrize(
    "key",
    ["error_info", "ERROR_INFO", "Error_Info"],
)
def test_error_info_key_any_case(key):
    cb = parse_callback({**BASE, "SendSuccess": "0", "SendFailed": "1", key: INNER_JSON})
    assert (cb.error_code, cb.error_message) == ("-114", "User is inactive")


def test_same_key_in_two_cases_keeps_the_first():
    cb = parse_callback({"SMSID": "first", "smsid": "second", "SendStatus": "2"})
    assert cb.smsid == "first"
    assert any("more than once" in p for p in cb.problems)


@pytest.mark.parametrize(
    "send_status, success, failed, status, error_code",
    [
        ("1", "0", "0", "pending_approval", None),
        ("2", "0", "0", "waiting", None),
        ("4", "0", "0", "rejected", "status4"),
        ("4", "0", "1", "rejected", "status4"),
        ("5", "1", "0", "delivered", None),
        ("5", "2", "1", "delivered", None),
        ("5", "0", "1", "failed", "send_failed"),
        ("5", "0", "0", "sent", None),
        ("5", "", "", "sent", None),
        ("7", "0", "0", "sent", None),
        (" 5 ", " 1 ", "0", "delivered", None),
        ("5.0", "1", "0", "delivered", None),
    ],
)
def test_send_status_mapping(send_status, success, failed, status, error_code):
    cb = parse_callback({"SMSID": "x", "SendStatus": send_status, "SendSuccess": success, "SendFailed": failed})
    assert (cb.status, cb.error_code, cb.problems) == (status, error_code, ())
    assert (cb.error_message is None) == (error_code is None)


@pytest.mark.parametrize(
    "send_status, success, failed, zalo, status, error_code, message",
    [
        (
            "5",
            "0",
            "1",
            '{"error":-118,"message":"Zalo account not existed"}',
            "failed",
            "-118",
            "Zalo account not existed",
        ),
        ("5", "0", "1", '{"error":-131}', "failed", "-131", "ZNS template is not approved"),
        (
            "4",
            "0",
            "0",
            '{"error":-124,"message":"Access token is invalid"}',
            "rejected",
            "-124",
            "Access token is invalid",
        ),
        ("5", "0", "1", "1001", "failed", "1001", "User was not online on Zalo within the allowed time"),
        (
            "5",
            "0",
            "1",
            '{"error":0,"message":"Success"}',
            "failed",
            "send_failed",
            "eSMS reported the message as failed",
        ),
        ("5", "1", "0", '{"error":-114,"message":"x"}', "delivered", None, None),
        ("7", "0", "0", '{"error":-114,"message":"x"}', "sent", None, None),
    ],
)
def test_error_code_rules(send_status, success, failed, zalo, status, error_code, message):
    cb = parse_callback(
        {"SMSID": "x", "SendStatus": send_status, "SendSuccess": success, "SendFailed": failed, "error_info": zalo}
    )
    assert (cb.status, cb.error_code, cb.error_message) == (status, error_code, message)
    assert cb.zalo_error is not None  # Zalo fields are kept whatever the status


@pytest.mark.parametrize(
    "params, problem",
    [
        ({"SendStatus": "5"}, "SMSID is missing"),
        ({"SMSID": "", "SendStatus": "5"}, "SMSID is missing"),
        ({"SMSID": "x"}, "SendStatus is missing"),
        ({"SMSID": "x", "SendStatus": ""}, "SendStatus is missing"),
        ({"SMSID": "x", "SendStatus": "abc"}, "SendStatus: 'abc' is not a number"),
        ({"SMSID": "x", "SendStatus": "3"}, "SendStatus 3 is not one of 1, 2, 4, 5, 7"),
        ({"SMSID": "x", "SendStatus": "0"}, "SendStatus 0 is not one of 1, 2, 4, 5, 7"),
        ({"SMSID": "x", "SendStatus": "5.5"}, "SendStatus: 5.5 is not a whole number"),
        ({"SMSID": "x", "SendStatus": "-5"}, "SendStatus: -5 is negative"),
        ({"SMSID": "x", "SendStatus": "1e3"}, "SendStatus: '1e3' is not a number"),
        ({"SMSID": "x", "SendStatus": "NaN"}, "SendStatus: 'NaN' is not a number"),
    ],
)
def test_unusable_status(params, problem):
    cb = parse_callback(params)
    assert cb.status is None and cb.error_code is None
    assert problem in cb.problems


@pytest.mark.parametrize(
    "key, value, attr",
    [
        ("SendSuccess", "9" * 13, "send_success"),
        ("SendFailed", "1000000000001", "send_failed"),
        ("TotalPrice", "99999999999999.5", "total_price"),
        ("TotalPrice", "-1", "total_price"),
        ("TotalPrice", "abc", "total_price"),
        ("TotalReceiver", "9" * 5000, "total_receiver"),
        ("telcoid", "x", "telco_id"),
        ("TypeId", "1.5", "type_id"),
    ],
)
def test_absurd_numbers_are_problems_not_values(key, value, attr):
    cb = parse_callback({**BASE, key: value})
    assert getattr(cb, attr) is None
    assert any(p.startswith(key) for p in cb.problems)


@pytest.mark.parametrize(
    "value, price",
    [
        ("0", Decimal(0)),
        (" 5 ", Decimal(5)),
        ("220.0000", Decimal("220")),
        ("850.0", Decimal(850)),
        ("", None),
        (850, Decimal(850)),
        (60.5, Decimal("60.5")),
    ],
)
def test_price_tolerance(value, price):
    cb = parse_callback({**BASE, "TotalPrice": value})
    assert cb.total_price == price and cb.problems == ()


@pytest.mark.parametrize(
    "telco_id, name",
    [
        ("1", "Viettel"),
        ("2", "Mobifone"),
        ("3", "Vinaphone"),
        ("4", "Vietnamobile"),
        ("5", "Gtel"),
        ("6", "Itel"),
        ("7", "Reddi"),
        ("9", "Zalo UID"),
        ("8", "8"),
        ("42", "42"),
        ("", None),
    ],
)
def test_telco_names(telco_id, name):
    assert parse_callback({**BASE, "telcoid": telco_id}).telco == name


def test_long_values_are_truncated():
    cb = parse_callback({**BASE, "phonenumber": "1" * 5000, "switchsmsid": "y" * 10000})
    assert cb.phone == "1" * 4096 and cb.extra["switchsmsid"] == "y" * 4096
    assert sum("truncated" in p for p in cb.problems) == 2


def test_extra_parameters_kept():
    cb = parse_callback({**BASE, "switchsmsid": "", "Foo": "bar", "RequestId": "r-1"})
    assert cb.extra == {"switchsmsid": "", "Foo": "bar"} and cb.request_id == "r-1"


def test_too_many_extra_parameters_are_capped():
    cb = parse_callback({**BASE, **{f"k{i}": "v" for i in range(500)}})
    assert len(cb.extra) == 100
    assert sum("unknown parameters" in p for p in cb.problems) == 1


class Exploding(dict):
    def items(self):
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    "params",
    [
        None,
        "SMSID=abc",
        42,
        [],
        ["SMSID", "abc"],
        {},
        Exploding(),
        {"SMSID": None, "SendStatus": None},
        {"SMSID": 123, "SendStatus": 5, "SendSuccess": 1},
        {"SMSID": ["a", "b"], "SendStatus": [5]},
        {"SMSID": object(), "SendStatus": {"x": 1}},
        {"SMSID": "x", "SendStatus": 10**5000},
        {"SMSID": "x", "SendStatus": float("nan"), "TotalPrice": float("inf")},
        {"SMSID": "x\x00y", "SendStatus": "5", "error_info": '{"error":-1,"message":"a\\u0000b"}'},
        {"SMSID": "x", "SendStatus": "5", "error_info": {"error": -114, "message": "obj"}},
        {"SMSID": "x", "SendStatus": "5", "error_info": '{"error":"abc"}'},
        {"SMSID": "x", "SendStatus": "5", "error_info": '{"error":99999999999999}'},
        {"SMSID": "x", "SendStatus": "5", "error_info": "[" * 4000},
        {b"SMSID": b"x", 7: "y", None: "z"},
        {"": "", " ": " "},
    ],
)
def test_garbage_never_raises(params):
    cb = parse_callback(params)
    assert isinstance(cb, Callback)
    json.dumps(cb.to_dict())
    if cb.status is None:
        assert cb.problems


def test_garbage_details():
    assert parse_callback(None).problems == (
        "callback parameters are not a mapping",
        "SMSID is missing",
        "SendStatus is missing",
    )
    nul = parse_callback(
        {"SMSID": "x\x00y", "SendStatus": "5", "SendFailed": "1", "error_info": '{"error":-1,"message":"a\\u0000b"}'}
    )
    assert nul.smsid == "xy" and nul.zalo_message == "ab" and nul.error_code == "-1"
    obj = parse_callback({"SMSID": "x", "SendStatus": "4", "error_info": {"error": -114, "message": "obj"}})
    assert (obj.error_code, obj.error_message) == ("-114", "obj")
    bad = parse_callback({"SMSID": "x", "SendStatus": "5", "SendFailed": "1", "error_info": '{"error":"abc"}'})
    assert bad.zalo_error is None and bad.error_code == "send_failed"
    assert "error_info error: 'abc' is not a number" in bad.problems
    several = parse_callback({"SMSID": ["a", "b"], "SendStatus": [5]})
    assert several.smsid == "a" and several.send_status == 5
    assert "SMSID: several values given; first kept" in several.problems
