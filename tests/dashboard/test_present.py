"""tracker.dashboard.present: how values look (cells, status and outcome badges, labels, error texts, JSON),
in Vietnamese (the default) and English."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.support import make_settings
from tracker import create_app
from tracker import status as st
from tracker.dashboard import present, reasons
from tracker.db import make_engine
from tracker.esms import codes


@pytest.fixture(scope="module")
def speak(sqlite_url, tmp_path_factory):
    app = create_app(make_settings(sqlite_url, tmp_path_factory.mktemp("present")), engine=make_engine(sqlite_url))

    @contextmanager
    def in_language(lang: str):
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            yield

    return in_language


def test_every_status_is_in_exactly_one_group_and_has_a_label():
    members = [s for group in present.GROUPS.values() for s in group]
    assert len(members) == len(set(members)) == len(present.STATUS_LABELS)
    assert set(present.GROUP_LABELS) == set(present.GROUPS)
    assert present.GROUP_OF[st.SENT] == "in_flight" and present.GROUP_OF[st.QUEUED] == "queued"


@pytest.mark.parametrize(
    "args, kwargs, expected",
    [
        (("x",), {}, {"t": "x"}),
        ((None,), {}, {"t": ""}),
        ((12,), {}, {"t": "12"}),
        (("x", "/m/1", "err"), {}, {"t": "x", "href": "/m/1", "cls": "err"}),
        (("x",), {"pre": True, "title": "tip"}, {"t": "x", "pre": True, "title": "tip"}),
        (("x", "", None), {"pre": False, "title": ""}, {"t": "x"}),
    ],
)
def test_cell_keeps_only_what_is_given(args, kwargs, expected):
    assert present.cell(*args, **kwargs) == expected


@pytest.mark.parametrize(
    "lang, status, text, cls",
    [
        ("en", st.DELIVERED, "delivered", "badge s-delivered"),
        ("en", st.PENDING_APPROVAL, "pending approval", "badge s-in_flight"),
        ("en", st.QUEUED, "queued", "badge s-queued"),
        ("vi", st.DELIVERED, "Đã nhận", "badge s-delivered"),
        ("en", "mystery", "mystery", "badge s-other"),
        ("vi", "mystery", "mystery", "badge s-other"),
    ],
)
def test_status_cell_is_a_badge_in_the_readers_language(speak, lang, status, text, cls):
    with speak(lang):
        assert present.status_cell(status) == {"t": text, "cls": cls}


@pytest.mark.parametrize("status", [None, ""])
def test_no_status_is_a_dash_without_badge(speak, status):
    with speak("en"):
        assert present.status_cell(status) == {"t": "—"}


def test_vietnamese_status_words_differ_from_the_contracts(speak):
    with speak("vi"):
        shown = {s: present.status_cell(s)["t"] for s in present.STATUS_LABELS}
    assert all(shown[s] != s for s in shown), shown


@pytest.mark.parametrize(
    "lang, outcome, text",
    [
        ("en", "stale", "stale"),
        ("vi", "stale", "đã cũ"),
        ("en", "new-thing", "new-thing"),
    ],
)
def test_outcome_cell(speak, lang, outcome, text):
    with speak(lang):
        assert present.outcome_cell(outcome) == {"t": text, "cls": f"badge o-{outcome}"}


@pytest.mark.parametrize(
    "lang, word, shown",
    [
        ("en", "csv", "CSV file"),
        ("en", "cli", "command line"),
        ("en", "other", "other"),
        ("en", None, ""),
    ],
)
def test_label_translates_known_words_and_keeps_unknown_ones(speak, lang, word, shown):
    with speak(lang):
        assert present.label(present.SOURCE_LABELS, word) == shown


def test_labels_in_vietnamese(speak):
    with speak("vi"):
        assert present.label(present.SOURCE_LABELS, "cli") != "command line"
        assert present.label(present.KIND_LABELS, "callback") != "callback"


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_error_text_is_code_meaning_and_what_was_said(speak, lang):
    with speak(lang):
        meaning = reasons.meaning("-114")
        assert present.error_text("-114") == f"-114: {meaning}"
        assert present.error_text("-114", "User rejected") == f"-114: {meaning} (User rejected)"
        # A message that only repeats the meaning (translated or the English one) is left out.
        assert present.error_text("-114", meaning) == f"-114: {meaning}"
        assert present.error_text("-114", codes.describe("-114")) == f"-114: {meaning}"
        assert present.error_text(None, "anything") == "" and present.error_text("", None) == ""


def test_error_text_in_vietnamese_is_not_english(speak):
    with speak("vi"):
        assert codes.describe("-114") not in present.error_text("-114")


@pytest.mark.parametrize(
    "value, kwargs, text",
    [
        (None, {}, ""),
        ({}, {}, ""),
        ([], {}, ""),
        ({"b": 1, "a": "Lan"}, {}, '{\n "a": "Lan",\n "b": 1\n}'),
        ({"a": None, "b": "", "c": [], "d": {}, "e": 0}, {"skip_empty": True}, '{\n "e": 0\n}'),
        ({"a": None}, {"skip_empty": True}, ""),
        ({"a": None}, {}, '{\n "a": null\n}'),
        (["Nguyễn"], {}, '[\n "Nguyễn"\n]'),
    ],
)
def test_pretty_json(value, kwargs, text):
    assert present.pretty_json(value, **kwargs) == text


def test_formatters_are_re_exported_from_formats(speak):
    with speak("vi"):
        assert present.number(1234) == "1.234"
        assert present.money(220).replace("\xa0", " ") == "220 ₫"
        assert present.percent(1, 2) == "50,0%"
        assert present.duration(10).replace("\xa0", " ") == "10,0 giây"
    with speak("en"):
        assert present.number(1234) == "1,234" and present.duration(10) == "10.0s"
