"""tracker.dashboard.problems: the validators' English problems (phones, CSV files, pydantic) in the reader's
language: exact texts, texts with values (by pattern), "field: problem", several joined by "; ", unknown ones."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.support import make_settings
from tracker import create_app
from tracker.dashboard import problems
from tracker.db import make_engine


@pytest.fixture(scope="module")
def speak(sqlite_url, tmp_path_factory):
    app = create_app(make_settings(sqlite_url, tmp_path_factory.mktemp("problems")), engine=make_engine(sqlite_url))

    @contextmanager
    def in_language(lang: str):
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            yield

    return in_language


def test_n_marks_without_translating():
    assert problems.N_("not a phone number") == "not a phone number"


@pytest.mark.parametrize(
    "english, vietnamese",
    [
        ("not a phone number", "không phải số điện thoại"),
        ("expected 5 columns, got 3", "cần 5 cột, nhưng có 3"),
        ("phone: not a phone number", "phone: không phải số điện thoại"),
        ("params[0]: expected 5 columns, got 3", "params[0]: cần 5 cột, nhưng có 3"),
        ("not a phone number; expected 5 columns, got 3", "không phải số điện thoại; cần 5 cột, nhưng có 3"),
        # A value that breaks its template (tracker/esms/templates.py), named by its variable.
        ("order_code: at most 30 characters, got 31", "order_code: tối đa 30 ký tự, nhưng có 31"),
        ("amount: a number, digits 0-9 only (at most 12)", "amount: phải là số, chỉ gồm chữ số 0-9 (tối đa 12)"),
        ("due_date: a date as dd/MM/yyyy", "due_date: phải là ngày dạng dd/MM/yyyy"),
        (
            "template 300001 has 3 parameters: order_code, amount, due_date",
            "mẫu 300001 có 3 tham số: order_code, amount, due_date",
        ),
    ],
)
def test_known_problems_are_translated_part_by_part(speak, english, vietnamese):
    with speak("vi"):
        assert problems.translate(english) == vietnamese


@pytest.mark.parametrize("text", sorted(problems._EXACT))
def test_every_exact_text_has_a_vietnamese_translation(speak, text):
    with speak("vi"):
        assert problems.translate(text) != text
    with speak("en"):
        assert problems.translate(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "expected 5 columns, got 3",
        "the file is not UTF-8 (byte 17)",
        "unknown column foo",
        "missing column phone",
        "column phone appears twice",
        "String should have at most 20 characters",
        "String should have at most 1 character",
        "List should have at most 3 items after validation, not 5",
    ],
)
def test_texts_with_values_keep_their_values(speak, text):
    with speak("vi"):
        shown = problems.translate(text)
    assert shown != text
    for value in ("5", "3", "17", "foo", "phone", "20"):
        if value in text.split():
            assert value in shown


def test_english_reader_gets_the_same_words(speak):
    with speak("en"):
        assert (
            problems.translate("phone: not a phone number; unknown column foo")
            == "phone: not a phone number; unknown column foo"
        )
        assert (
            problems.translate("List should have at most 3 items after validation, not 5")
            == "List should have at most 3 items, not 5"
        )


@pytest.mark.parametrize(
    "text",
    [
        "something nobody foresaw",
        "phone: something nobody foresaw",
        "Not A Phone Number",
        "",
        "expected five columns, got 3",
    ],
)
def test_unknown_problems_are_shown_as_they_came(speak, text):
    with speak("vi"):
        assert problems.translate(text) == text


def test_a_known_part_is_translated_beside_an_unknown_one(speak):
    with speak("vi"):
        assert problems.translate("whatever; not a phone number") == "whatever; không phải số điện thoại"
