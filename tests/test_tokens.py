"""Per-message callback tokens: round trip, forgery, other secrets, CallbackUrl shape."""

import pytest

from tracker import tokens

SECRET = "s" * 32


def test_round_trip():
    assert tokens.verify(tokens.make(SECRET, 42), (SECRET,)) == 42


def test_old_secret_still_verifies_when_listed():
    token = tokens.make("old-secret-0123456789", 7)
    assert tokens.verify(token, (SECRET,)) is None
    assert tokens.verify(token, (SECRET, "old-secret-0123456789")) == 7


@pytest.mark.parametrize(
    "token",
    [
        "",
        "42",
        "42.",
        ".abc",
        "x.abcdefghijklmnopqrstuv",
        "-1.abcdefghijklmnopqrstuv",
        "1" * 19 + ".abcdefghijklmnopqrstuv",
    ],
)
def test_malformed_tokens_are_refused(token):
    assert tokens.verify(token, (SECRET,)) is None


def test_signature_is_bound_to_the_message_id():
    sig = tokens.make(SECRET, 1).split(".")[1]
    assert tokens.verify(f"2.{sig}", (SECRET,)) is None
    forged = tokens.make(SECRET, 1)[:-1] + ("A" if not tokens.make(SECRET, 1).endswith("A") else "B")
    assert tokens.verify(forged, (SECRET,)) is None


def test_callback_url_has_no_query_string_and_survives_esms_appending_one():
    url = tokens.callback_url("https://t.example/", SECRET, 5)
    assert url.startswith("https://t.example/webhooks/esms/5.") and "?" not in url
