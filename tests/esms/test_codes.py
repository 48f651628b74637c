"""Meanings of eSMS, Zalo and tracker codes."""

from __future__ import annotations

import pytest

from tracker.esms import codes

# Every code of REFERENCE section 3.
REFERENCE_CODES = [
    "99", "100", "101", "102", "103", "108", "118", "124", "140", "143", "160",
    "204", "789", "790", "791", "799", "801", "802", "105", "851", "854",
]


@pytest.mark.parametrize("code", REFERENCE_CODES)
def test_every_reference_code_has_a_meaning(code):
    assert code in codes.CODE_RESULTS
    assert codes.describe(code) == codes.CODE_RESULTS[code]
    assert not codes.describe(code).startswith("Unknown")


def test_no_code_results_beyond_the_reference():
    assert set(codes.CODE_RESULTS) == set(REFERENCE_CODES)


@pytest.mark.parametrize(
    "code, words",
    [
        ("100", "accepted"),
        ("101", "ApiKey"),
        ("124", "Duplicate RequestId"),
        ("789", "Template not configured"),
        ("-108", "Phone number is invalid"),
        ("-114", "inactive"),
        ("-118", "does not exist"),
        ("-124", "access token"),
        ("-131", "not approved"),
        ("1001", "not online"),
        ("0", "Delivered"),
        ("transport", "transport failures"),
        ("timeout", "No final status"),
        ("send_failed", "failed"),
        ("status4", "SendStatus 4"),
        ("connection", "connect"),
        ("bad_response", "could not be understood"),
        ("http_503", "HTTP 503"),
        ("http_429", "HTTP 429"),
    ],
)
def test_describe_known_codes(code, words):
    assert words.lower() in codes.describe(code).lower()


@pytest.mark.parametrize(
    "code, expected",
    [
        ("12345", "Unknown code 12345"),
        ("-999", "Unknown code -999"),
        ("http_abc", "Unknown code http_abc"),
        ("", "Unknown code "),
        (None, "No code"),
    ],
)
def test_describe_unknown_codes(code, expected):
    assert codes.describe(code) == expected


@pytest.mark.parametrize("code", [" 101 ", " -114"])
def test_describe_ignores_surrounding_space(code):
    assert codes.describe(code) == codes.describe(code.strip())


@pytest.mark.parametrize("table", [codes.CODE_RESULTS, codes.ZALO_ERRORS, codes.OWN_CODES])
def test_tables_are_plain_words(table):
    for code, meaning in table.items():
        assert code == code.strip() and meaning and meaning == meaning.strip()


def test_own_codes_do_not_collide_with_esms_or_zalo_codes():
    assert not set(codes.OWN_CODES) & (set(codes.CODE_RESULTS) | set(codes.ZALO_ERRORS))
    assert not set(codes.CODE_RESULTS) & set(codes.ZALO_ERRORS)
