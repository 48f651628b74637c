"""ZNS templates as GetTemplate lists them and the check of Params against them
(tracker/esms/templates.py, pure), table by table: the listing read, then each rule.

The listing is GetTemplate's (esms-api/ham-truy-xuat-va-dang-ky/ham-lay-danh-sach-template-zalo.md):
``ZNSTemplates[]`` of ``TempId, TempName, ZNSTempDetail[{Limit, Param, ParamLevel, RequireType}]``.
"""

from __future__ import annotations

import pytest

from tracker.esms.templates import TYPE_TEXT, Template, Variable, parse_listing, violations

# The page's own sample answer, Limit and TempId as it shows them (numbers), plus one entry
# with the strings its table documents and a variable listed twice.
SAMPLE = {
    "CodeResult": "100",
    "ErrorMessage": "success",
    "ZNSTemplates": [
        {
            "TempContent": "...",
            "TempId": 205644,
            "TempName": "Xác nhận đăng ký dịch vụ",
            "ZNSTempDetail": [{"Limit": 10, "Param": "otp", "ParamLevel": 1, "RequireType": "type_text"}],
        },
        {
            "TempContent": "...",
            "TempId": "300001",
            "TempName": "Nhắc thanh toán",
            "ZNSTempDetail": [
                {"Limit": "10", "Param": "due_date", "ParamLevel": "3", "RequireType": "type_date"},
                {"Limit": "30", "Param": "order_code", "ParamLevel": "1", "RequireType": "type_text"},
                {"Limit": "12", "Param": "amount", "ParamLevel": "2", "RequireType": "type_number"},
                {"Limit": "30", "Param": "order_code", "ParamLevel": "4", "RequireType": "type_text"},
            ],
        },
    ],
}


def test_the_documented_listing_is_read_in_param_level_order():
    listing = parse_listing(SAMPLE)
    assert listing["205644"] == Template("205644", "Xác nhận đăng ký dịch vụ", (Variable("otp", 10, "type_text"),))
    assert [(v.name, v.limit, v.require_type) for v in listing["300001"].variables] == [
        ("order_code", 30, "type_text"),
        ("amount", 12, "type_number"),
        ("due_date", 10, "type_date"),
    ]
    assert parse_listing({"CodeResult": "101", "ErrorMessage": "Authorize Failed"}) is None
    assert parse_listing({"CodeResult": "100"}) is None and parse_listing("<html>") is None


@pytest.mark.parametrize(
    "params,wanted",
    [
        (["DH1", "150000", "28/02/2025"], {}),
        (["DH1", "150000"], {}),  # fewer: eSMS documents nothing, so eSMS decides
        (["x" * 31, "150000", "28/02/2025"], {"params[0]": "order_code: at most 30 characters, got 31"}),
        (["DH1", "150.000", "28/02/2025"], {"params[1]": "amount: a number, digits 0-9 only (at most 12)"}),
        (["DH1", "1234567890123", "1/2/2025"], {"params[1]": "amount: at most 12 characters, got 13"}),
        (["DH1", "", "1/2/2025"], {"params[1]": "amount: a number, digits 0-9 only (at most 12)"}),
        (["DH1", "1", "31/02/2025"], {"params[2]": "due_date: a date as dd/MM/yyyy"}),
        (["DH1", "1", "2025-02-28"], {"params[2]": "due_date: a date as dd/MM/yyyy"}),
        (
            ["DH1", "1", "28/02/2025", "extra"],
            {"params[3]": "template 300001 has 3 parameters: order_code, amount, due_date"},
        ),
    ],
)
def test_each_rule_names_the_parameter(params, wanted):
    assert violations(parse_listing(SAMPLE)["300001"], params) == wanted


# parse_listing, field by field: what a malformed listing yields.


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        "<html>",
        {"CodeResult": 100.5},
        {"CodeResult": "789"},
        {"CodeResult": "100", "ZNSTemplates": {"TempId": "1"}},
    ],
)
def test_a_listing_without_code_result_100_and_a_template_list_is_none(answer):
    assert parse_listing(answer) is None


def test_entries_without_an_id_or_a_detail_list_are_left_out():
    listing = parse_listing(
        {
            "CodeResult": 100,
            "ZNSTemplates": [
                "not an entry",
                {"TempName": "no id", "ZNSTempDetail": []},
                {"TempId": "2", "ZNSTempDetail": None},
                {"Tempid": " 3 ", "ZNSTempDetail": []},
            ],
        }
    )
    assert listing == {"3": Template("3", "", ())}  # "Tempid" read too; an empty list is a template of none


def test_a_limit_that_is_not_a_positive_whole_number_is_no_limit_and_the_type_defaults_to_text():
    details = [
        {"Param": "a", "Limit": "0"},
        {"Param": "b", "Limit": "-5"},
        {"Param": "c", "Limit": True},
        {"Param": "d", "Limit": "١٢"},
        {"Param": "e", "Limit": "7", "RequireType": ""},
        {"Param": "", "Limit": "9"},
        {"Limit": "9"},
        "junk",
    ]
    (template,) = parse_listing(
        {"CodeResult": "100", "ZNSTemplates": [{"TempId": "9", "ZNSTempDetail": details}]}
    ).values()
    assert template.variables == (
        Variable("a", None, TYPE_TEXT),
        Variable("b", None, TYPE_TEXT),
        Variable("c", None, TYPE_TEXT),
        Variable("d", None, TYPE_TEXT),
        Variable("e", 7, TYPE_TEXT),
    )


def test_a_variable_listed_twice_is_one_variable_at_its_first_level():
    (template,) = parse_listing(
        {
            "CodeResult": "100",
            "ZNSTemplates": [
                {
                    "TempId": "5",
                    "ZNSTempDetail": [
                        {"Param": "x", "ParamLevel": 2, "Limit": 5},
                        {"Param": "x", "ParamLevel": 1, "Limit": 9},
                        {"Param": "y", "ParamLevel": 3},
                    ],
                }
            ],
        }
    ).values()
    assert template.variables == (Variable("x", 9, TYPE_TEXT), Variable("y", None, TYPE_TEXT))


# violations, rule by rule.


def _one(require_type: str, limit: int | None = None) -> Template:
    return Template("T", "t", (Variable("v", limit, require_type),))


@pytest.mark.parametrize(
    "value,ok",
    [
        ("0", True),
        ("123456789012", True),
        ("1234567890123", False),
        ("", False),
        ("1.5", False),
        ("-1", False),
        ("١٢", False),
        (" 1", False),
    ],
)
def test_a_number_is_1_to_12_ascii_digits(value, ok):
    assert (violations(_one("type_number"), [value]) == {}) is ok


@pytest.mark.parametrize(
    "value,ok",
    [
        ("29/02/2024", True),
        ("1/2/2025", True),
        ("29/02/2025", False),
        ("00/01/2025", False),
        ("2025-02-28", False),
        ("28/02/25", False),
        ("28/13/2025", False),
    ],
)
def test_a_date_is_a_real_day_as_dd_mm_yyyy(value, ok):
    assert (violations(_one("type_date"), [value]) == {}) is ok


def test_text_and_urls_are_held_to_their_limit_only():
    assert violations(_one("type_text", 3), ["abc"]) == {}
    assert violations(_one("type_cta_url", 3), ["abcd"]) == {"params[0]": "v: at most 3 characters, got 4"}
    assert violations(_one("type_text"), ["x" * 1000]) == {}


def test_extra_values_name_the_count_and_the_variables():
    assert violations(Template("T", "t", ()), ["a"]) == {"params[0]": "template T has 0 parameters: none"}
    assert violations(_one("type_text"), ["a", "b", "c"]) == {
        "params[1]": "template T has 1 parameter: v",
        "params[2]": "template T has 1 parameter: v",
    }
