"""tracker.esms.values: reading eSMS's text, counts, prices and flags, table by table, never raising."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tracker.esms.values import MAX_NUMBER, as_text, flag_of, int_of, json_get, parse_decimal, parse_int, text_of


@pytest.mark.parametrize(
    "value, want",
    [
        (None, (None, None)),
        ("abc", ("abc", None)),
        ("", ("", None)),
        (5, ("5", None)),
        (1.5, ("1.5", None)),
        (Decimal("2.50"), ("2.50", None)),
        ([], (None, None)),
        (["a"], ("a", None)),
        (("a",), ("a", None)),
        (["a", "b"], ("a", "several values given; first kept")),
        ([7, 8], ("7", "several values given; first kept")),
        ({"error": 0}, ('{"error": 0}', None)),
        (object(), (None, "unexpected value type object")),
        (b"bytes", (None, "unexpected value type bytes")),
    ],
)
def test_as_text(value, want):
    assert as_text(value) == want


def test_as_text_of_a_huge_int_is_a_problem():
    assert as_text(10**100_000) == (None, "number too large")


def test_as_text_of_an_unserialisable_object():
    loop: dict = {}
    loop["self"] = loop
    assert as_text(loop) == (None, "unreadable object")


@pytest.mark.parametrize(
    "value, want",
    [
        ("220.0000", Decimal("220.0000")),
        (" 5 ", Decimal("5")),
        ("+3", Decimal("3")),
        (".5", Decimal("0.5")),
        ("5.", Decimal("5")),
        (7, Decimal("7")),
        (str(MAX_NUMBER), Decimal(MAX_NUMBER)),
    ],
)
def test_parse_decimal_reads_numbers(value, want):
    assert parse_decimal(value) == (want, None)


@pytest.mark.parametrize(
    "value, problem",
    [
        ("1e5", "is not a number"),
        ("1_000", "is not a number"),
        ("١٢", "is not a number"),
        ("abc", "is not a number"),
        ("NaN", "is not a number"),
        ("-1", "is negative"),
        (str(MAX_NUMBER + 1), "is out of range"),
    ],
)
def test_parse_decimal_refuses_garbage(value, problem):
    number, found = parse_decimal(value)
    assert number is None
    assert problem in found


def test_parse_decimal_blank_and_missing_are_nothing_without_a_problem():
    assert parse_decimal("") == (None, None)
    assert parse_decimal("  ") == (None, None)
    assert parse_decimal(None) == (None, None)


def test_parse_decimal_negative_when_allowed():
    assert parse_decimal("-114", allow_negative=True) == (Decimal("-114"), None)


@pytest.mark.parametrize("value, want", [("5", 5), (" 5 ", 5), ("5.0", 5), (3, 3), ("0", 0)])
def test_parse_int_reads_whole_numbers(value, want):
    assert parse_int(value) == (want, None)
    assert isinstance(parse_int(value)[0], int)


@pytest.mark.parametrize(
    "value, problem", [("5.5", "is not a whole number"), ("-2", "is negative"), ("x", "is not a number")]
)
def test_parse_int_refuses(value, problem):
    number, found = parse_int(value)
    assert number is None and problem in found


def test_parse_int_negative_codes_when_allowed():
    assert parse_int("-114", allow_negative=True) == (-114, None)


def test_json_get_is_case_insensitive_and_takes_the_first_name_present():
    data = {"SMSID": "a", "codeResult": "100"}
    assert json_get(data, "smsid") == "a"
    assert json_get(data, "CodeResult") == "100"
    assert json_get(data, "missing", "coderesult") == "100"
    assert json_get(data, "missing") is None
    assert json_get(["not", "a", "dict"], "x") is None
    assert json_get(None, "x") is None


@pytest.mark.parametrize("value, want", [(" a ", "a"), ("", None), ("   ", None), (None, None), (5, "5")])
def test_text_of(value, want):
    assert text_of(value) == want


@pytest.mark.parametrize("value, want", [("5", 5), (5, 5), ("5.5", None), ("x", None), (None, None), ("-1", None)])
def test_int_of(value, want):
    assert int_of(value) == want


@pytest.mark.parametrize(
    "value, want",
    [
        ("1", True),
        (1, True),
        ("true", True),
        ("TRUE", True),
        (True, True),
        ("0", False),
        (0, False),
        ("false", False),
        (" false ", False),
        ("yes", None),
        ("", None),
        (None, None),
        ("2", None),
    ],
)
def test_flag_of(value, want):
    assert flag_of(value) is want
