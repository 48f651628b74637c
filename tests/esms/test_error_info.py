"""tracker.esms.error_info: decoding a report's error_info in each of eSMS's encodings, never raising.

The four encodings: a JSON object as is, a JSON object quoted inside a JSON string, a JSON object
URL-encoded once more with a ``____`` timestamp glued on (all three from eSMS's own sample callbacks
in tests/data/callback-samples.txt), and a bare Zalo code (the status APIs).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.support import CALLBACK_SAMPLES
from tracker.esms.error_info import ErrorInfo, decode_error_info

SAMPLES = CALLBACK_SAMPLES.read_text().splitlines()


def sample_error_info(line: int) -> str:
    """error_info of a sample line, as the web framework hands it over (URL-decoded once)."""
    return parse_qs(SAMPLES[line].split("?", 1)[1])["error_info"][0]


def test_plain_json_object_from_the_samples():
    raw = sample_error_info(8)
    assert raw.startswith("{")
    info = decode_error_info(raw)
    assert info.problem is None and info.note is None
    assert info.data["error"] == 0
    assert info.data["data"]["status"] == 1


def test_json_object_quoted_inside_a_json_string_from_the_samples():
    raw = sample_error_info(2)
    assert raw.startswith('"{\\"error')
    info = decode_error_info(raw)
    assert info.problem is None
    assert info.data["error"] == -114
    assert info.data["message"].startswith("User is inactive")


def test_url_encoded_again_with_a_timestamp_from_the_samples():
    raw = sample_error_info(4)
    assert raw.startswith("%7B") and "____" in raw
    info = decode_error_info(raw)
    assert info.problem is None
    assert info.data == {
        "data": {"message_id": "e1a60e8890be9de4c4ab", "user_id": "31215806834323092"},
        "error": 0,
        "message": "Success",
    }
    assert info.note == "24/04/2024 16:58:01"


@pytest.mark.parametrize(
    "raw, code", [("0", 0), ("1001", 1001), ("-114", -114), (" -114 ", -114), ("-114____24/04/2024", -114)]
)
def test_bare_zalo_code(raw, code):
    assert decode_error_info(raw).data == {"error": code}


@pytest.mark.parametrize(
    "raw, data, note",
    [
        ('{"error": 0}', {"error": 0}, None),
        ('{"error": 0} trailing words', {"error": 0}, "trailing words"),
        ('{"error": 0}____01/01/2024 10:00:00', {"error": 0}, "01/01/2024 10:00:00"),
        ('"{\\"error\\": 5}"____01/01', {"error": 5}, "01/01"),
        ("%257B%2522error%2522%253A7%257D", {"error": 7}, None),
    ],
)
def test_objects_and_their_notes(raw, data, note):
    assert decode_error_info(raw) == ErrorInfo(data=data, note=note)


@pytest.mark.parametrize(
    "raw, problem",
    [
        ("", "error_info is empty"),
        ("   ", "error_info is empty"),
        ("not json at all", "error_info is not JSON"),
        ("[1, 2]", "error_info is not a JSON object"),
        ("true", "error_info is not a JSON object"),
        ("1.5", "error_info is not a JSON object"),
        ("12 apples", "error_info is not a JSON object"),
        ('"' * 1 + "plain text" + '"', "error_info is not JSON"),
        (None, "error_info is not text"),
        (42, "error_info is not text"),
    ],
)
def test_what_is_not_an_object_is_a_problem_not_an_exception(raw, problem):
    info = decode_error_info(raw)
    assert info.data is None
    assert info.problem == problem


def test_null_is_no_data_and_no_problem():
    assert decode_error_info("null") == ErrorInfo()


def test_too_many_layers_give_up():
    raw = '{"error": 1}'
    for _ in range(12):
        raw = raw.replace("%", "%25").replace("{", "%7B").replace("}", "%7D").replace('"', "%22")
    assert decode_error_info(raw).problem == "error_info is encoded too many times"


def test_deeply_nested_json_does_not_raise():
    info = decode_error_info("[" * 100_000)
    assert info.data is None and info.problem
