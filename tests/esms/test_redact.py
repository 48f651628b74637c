"""tracker.esms.redact: credentials dropped from stored requests/answers and scrubbed from urllib3's logs."""

from __future__ import annotations

import logging

import pytest

from tracker.esms import redact
from tracker.esms.redact import REDACTED, remember, scrub


def test_scrub_drops_credential_keys_whatever_their_case():
    body = {"ApiKey": "k", "SecretKey": "s", "apikey": "k", "SECRETKEY": "s", "Phone": "0901888484"}
    assert scrub(body, ()) == {"Phone": "0901888484"}


def test_scrub_replaces_secrets_inside_strings_nested_in_lists_and_dicts():
    value = {"url": "https://x/?ApiKey=KEY123&SecretKey=SEC456", "list": ["KEY123", {"deep": "aKEY123b"}], "n": 5}
    assert scrub(value, ("KEY123", "SEC456")) == {
        "url": f"https://x/?ApiKey={REDACTED}&SecretKey={REDACTED}",
        "list": [REDACTED, {"deep": f"a{REDACTED}b"}],
        "n": 5,
    }


def test_scrub_ignores_empty_secrets_and_leaves_other_values_alone():
    assert scrub("abc", ("",)) == "abc"
    assert scrub(None, ("x",)) is None
    assert scrub(3.5, ("3",)) == 3.5


@pytest.fixture
def urllib3_records():
    """What urllib3's connection pool logger hands its handlers, after its filters."""
    logger = logging.getLogger("urllib3.connectionpool")
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    saved = set(redact._SECRETS)
    yield seen
    logger.removeHandler(handler)
    logger.setLevel(level)
    redact._SECRETS.clear()
    redact._SECRETS.update(saved)


def test_remembered_secrets_are_scrubbed_from_urllib3_log_lines_in_every_encoded_form(urllib3_records):
    remember("key with/slash+plus", "", "SECRET-9")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s "GET /x?ApiKey=%s&SecretKey=%s&b=%s HTTP/1.1" 200',
        "https://rest.esms.vn:443",
        "key%20with%2Fslash%2Bplus",
        "SECRET-9",
        "key+with%2Fslash%2Bplus",
    )
    (record,) = urllib3_records
    line = record.getMessage()
    assert "SECRET-9" not in line and "slash" not in line
    assert line.count(REDACTED) == 3
    assert line.startswith("https://rest.esms.vn:443")


def test_a_record_that_cannot_be_formatted_passes_the_filter_unchanged():
    remember("SECRET-9")
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1, "%d items", ("x",), None)
    assert redact._redact_urllib3(record) is True
    assert (record.msg, record.args) == ("%d items", ("x",))


def test_other_loggers_are_not_touched(caplog):
    remember("SECRET-9")
    with caplog.at_level(logging.INFO, logger="somewhere.else"):
        logging.getLogger("somewhere.else").info("SECRET-9")
    assert caplog.records[-1].getMessage() == "SECRET-9"
