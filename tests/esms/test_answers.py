"""What eSMS's status APIs answer (tracker/esms/answers.py): StatusAnswer as callback parameters,
GetCallbackResult's defaults, and the JSON keys each field is read from."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

from tracker.esms.answers import ANSWER_FIELDS, GetCallbackResult, StatusAnswer
from tracker.esms.callback import parse_callback


def test_to_callback_params_names_each_field_as_a_callback_does_and_drops_the_missing():
    answer = StatusAnswer(
        ok=True,
        code="100",
        smsid="S1",
        send_status=5,
        send_success=1,
        send_failed=0,
        total_price=Decimal("300"),
        type_id=27,
        telco_id=2,
        phone="84901888484",
        error_info="0",
        oa_id="OA1",
        template_id="2056446",
    )
    assert answer.to_callback_params() == {
        "SMSID": "S1",
        "SendStatus": "5",
        "SendSuccess": "1",
        "SendFailed": "0",
        "TotalPrice": "300",
        "TypeId": "27",
        "telcoid": "2",
        "phonenumber": "84901888484",
        "error_info": "0",
        "oaid": "OA1",
        "tempid": "2056446",
    }
    assert StatusAnswer(ok=False, code="854").to_callback_params() == {}


def test_partnerids_falls_back_to_the_zalo_message_id():
    assert StatusAnswer(ok=True, code="100", zalo_msg_id="Z9").to_callback_params() == {"partnerids": "Z9"}
    both = StatusAnswer(ok=True, code="100", partner_ids="P1", zalo_msg_id="Z9")
    assert both.to_callback_params() == {"partnerids": "P1"}


def test_an_answer_as_callback_params_goes_through_the_callback_rules():
    answer = StatusAnswer(
        ok=True,
        code="100",
        smsid="S2",
        send_status=5,
        send_success=1,
        send_failed=0,
        total_price=Decimal("300"),
        zalo_msg_id="Z2",
        oa_id="OA1",
        error_info="-114",
    )
    parsed = parse_callback(answer.to_callback_params())
    assert (parsed.smsid, parsed.send_status, parsed.send_success, parsed.send_failed) == ("S2", 5, 1, 0)
    assert (parsed.total_price, parsed.partner_ids, parsed.oa_id) == (Decimal("300"), "Z2", "OA1")
    assert (parsed.error_info_raw, parsed.zalo_error) == ("-114", -114)


def test_get_callback_result_starts_with_an_empty_list_of_its_own():
    a, b = GetCallbackResult(ok=True, code="100"), GetCallbackResult(ok=True, code="100")
    a.answers.append(StatusAnswer(ok=True, code="100"))
    assert b.answers == [] and (b.transport, b.error, b.http_status, b.elapsed_ms) == (False, None, None, 0.0)


def test_answer_fields_name_real_fields_each_read_from_at_least_one_json_key():
    names = {f.name for f in fields(StatusAnswer)}
    for name, (parser, *keys) in ANSWER_FIELDS.items():
        assert name in names, name
        assert callable(parser) and keys and all(isinstance(k, str) and k for k in keys), name


def test_answer_field_parsers_read_the_documented_values():
    def read(name, value):
        return ANSWER_FIELDS[name][0](value)

    assert read("smsid", "S1") == "S1"
    assert read("send_status", "5") == 5
    assert read("total_price", "300.5") == Decimal("300.5")
    assert read("type_id", 27) == 27
