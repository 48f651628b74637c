"""tracker.dashboard.reasons: a failure code's class, its meaning in the reader's language (from the
bilingual tables of tracker/esms/codes.py), and the advice."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.support import make_settings
from tracker import create_app
from tracker.dashboard import reasons
from tracker.db import make_engine
from tracker.esms import codes


@pytest.fixture(scope="module")
def speak(sqlite_url, tmp_path_factory):
    app = create_app(make_settings(sqlite_url, tmp_path_factory.mktemp("reasons")), engine=make_engine(sqlite_url))

    @contextmanager
    def in_language(lang: str):
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            yield

    return in_language


@pytest.mark.parametrize(
    "code, cls",
    [
        ("-114", "unreachable"),
        (" -114 ", "unreachable"),
        ("99", "unreachable"),
        ("789", "template"),
        ("-1121", "template"),
        ("101", "account"),
        ("799", "oa"),
        ("-133", "retry_later"),
        ("transport", "retry_later"),
        ("http_503", "retry_later"),
        ("timeout", "final"),
        ("send_failed", "final"),
        ("12345", "unknown"),
        ("http_5030", "unknown"),
        (None, None),
        ("", None),
        ("  ", None),
    ],
)
def test_reason_class_is_the_code_tables(code, cls):
    assert reasons.reason_class(code) == cls
    if code and code.strip():
        assert cls == codes.error_class(code.strip())  # one table: codes.py decides


def test_every_class_has_a_label_and_advice():
    assert set(reasons.CLASS_LABELS) == set(codes.CLASSES)
    assert set(reasons.ADVICE) | {"retry_later"} == set(codes.CLASSES)


def test_every_retry_later_code_has_a_when_the_dashboard_words():
    from tracker.esms.code_table import ESMS
    from tracker.esms.zalo_table import ZALO

    whens = {e.when for e in [*ESMS.values(), *ZALO.values()] if e.cls == "retry_later"}
    assert whens <= set(reasons.RETRY_ADVICE)


@pytest.mark.parametrize(
    "code, cls", [("-114", "unreachable"), ("789", "template"), ("zzz", "unknown"), ("101", "account")]
)
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_advice_is_the_classs_advice_in_the_readers_language(speak, lang, code, cls):
    with speak(lang):
        assert reasons.advice(code) == str(reasons.ADVICE[cls])
        assert reasons.advice(None) == ""


@pytest.mark.parametrize(
    "code, english",
    [
        ("-133", "after 06:00 Vietnam time"),
        ("-144", "the next day"),
        ("160", "after a second"),
        ("-100", "in a few minutes"),
        ("http_502", "once eSMS answers"),
    ],
)
def test_retry_later_advice_says_when(speak, code, english):
    with speak("en"):
        assert english in reasons.advice(code)
    with speak("vi"):
        assert reasons.advice(code) and english not in reasons.advice(code)


def test_advice_in_vietnamese_is_translated(speak):
    with speak("vi"):
        assert reasons.advice("-114").startswith("Không thể liên lạc")
        assert reasons.class_label("template") == "mẫu tin"
    with speak("en"):
        assert reasons.advice("-114").startswith("This person cannot be reached by Zalo")
        assert reasons.class_label("retry_later") == "retry later" and reasons.class_label(None) == ""


@pytest.mark.parametrize(
    "lang, code, text",
    [
        ("en", "-114", codes.describe("-114")),
        ("en", "http_503", "eSMS answered HTTP 503"),
        ("vi", "http_503", "eSMS trả về HTTP 503"),
        ("en", "zzz", "Unknown code zzz"),
        ("vi", "zzz", "Mã không xác định zzz"),
        ("en", " -114 ", codes.describe("-114")),
        ("en", None, ""),
        ("vi", "", ""),
    ],
)
def test_meaning(speak, lang, code, text):
    with speak(lang):
        assert reasons.meaning(code) == text


def test_meaning_in_vietnamese_comes_from_the_bilingual_table(speak):
    with speak("vi"):
        assert reasons.meaning("-114") == codes.describe_vi("-114") != codes.describe("-114")
        assert reasons.meaning("789") == codes.describe_vi("789")
