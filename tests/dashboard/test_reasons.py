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
        ("-114", "recipient"),
        (" -114 ", "recipient"),
        ("99", "recipient"),
        ("789", "template"),
        ("-124", "account"),
        ("transport", "temporary"),
        ("http_503", "temporary"),
        ("http_429", "temporary"),
        ("timeout", "no_report"),
        ("send_failed", "provider"),
        ("12345", "unknown"),
        ("http_5030", "unknown"),
        (None, None),
        ("", None),
    ],
)
def test_reason_class(code, cls):
    assert reasons.reason_class(code) == cls


def test_every_class_has_advice():
    assert set(reasons._CLASS_OF.values()) | {"unknown"} == set(reasons.ADVICE)


@pytest.mark.parametrize(
    "code, cls", [("-114", "recipient"), ("789", "template"), ("zzz", "unknown"), ("http_500", "temporary")]
)
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_advice_is_the_classs_advice_in_the_readers_language(speak, lang, code, cls):
    with speak(lang):
        assert reasons.advice(code) == str(reasons.ADVICE[cls])
        assert reasons.advice(None) == ""
    if lang == "en":
        with speak(lang):
            assert reasons.advice("-114").startswith("The recipient's side")


def test_advice_in_vietnamese_is_translated(speak):
    with speak("vi"):
        assert reasons.advice("-114").startswith("Do phía người nhận")


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
