"""Hypothesis: the callback parser and error_info decoder never raise and always give storable results."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as s

from tracker.esms.callback import Callback, parse_callback
from tracker.esms.error_info import decode_error_info

KNOWN = [
    "SMSID",
    "SendStatus",
    "SendSuccess",
    "SendFailed",
    "TotalPrice",
    "TotalReceiver",
    "TotalSent",
    "RequestId",
    "TypeId",
    "telcoid",
    "phonenumber",
    "partnerids",
    "error_info",
    "oaid",
    "tempid",
]

numberish = s.one_of(
    s.integers(min_value=-(10**30), max_value=10**30).map(str),
    s.decimals(allow_nan=True, allow_infinity=True).map(str),
    s.floats().map(repr),
    s.sampled_from(["", " 5 ", "5.0", "1e400", "-0", "٥", "²", "0x10", "1_000", "NaN", "inf", "5" * 5000]),
)
text = s.text(max_size=300)
value = s.one_of(text, numberish)
# Known names in any case, plus anything at all.
key = s.one_of(s.sampled_from(KNOWN).flatmap(lambda k: s.sampled_from([k, k.lower(), k.upper(), f" {k} "])), text)
params = s.dictionaries(key, value, max_size=25)
# What a JSON POST can hold: any JSON value, not only text.
json_value = s.recursive(
    s.none() | s.booleans() | s.integers() | s.floats() | text,
    lambda inner: s.lists(inner, max_size=4) | s.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)

FUZZ = settings(
    max_examples=int(os.environ.get("TRACKER_FUZZ_PROPS_N", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def strings(value: object):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def storable(cb: Callback) -> None:
    """What the webhook stores must serialise as JSON and hold no NUL (PostgreSQL refuses it)."""
    assert not any("\0" in t for t in strings(json.loads(json.dumps(cb.to_dict()))))
    assert cb.status is None or cb.smsid
    for problem in cb.problems:
        assert isinstance(problem, str) and len(problem) < 500


@FUZZ
@given(params)
@example({"SMSID": "a", "SendStatus": "5", "SendSuccess": "1" * 5000})
@example({"error_info": "[" * 100000})
@example({"error_info": "%25" * 3000 + "7B"})
@example({"SMSID": "\x00", "SendStatus": "5\x00"})
def test_parse_callback_never_raises_on_text(p):
    storable(parse_callback(p))


@FUZZ
@given(s.dictionaries(s.one_of(text, s.integers(), s.none()), json_value, max_size=15))
def test_parse_callback_never_raises_on_json_values(p):
    storable(parse_callback(p))


@settings(max_examples=200, deadline=None)
@given(s.one_of(s.none(), s.integers(), s.lists(text), s.just(object())))
def test_parse_callback_survives_non_mappings(p):
    cb = parse_callback(p)  # type: ignore[arg-type]
    assert cb.status is None and cb.problems


@FUZZ
@given(s.one_of(text, s.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
@example("{" * 50000)
@example('"' * 10000)
@example("%22" * 5000)
def test_decode_error_info_never_raises(raw):
    info = decode_error_info(raw)
    assert info.data is None or isinstance(info.data, dict)


zalo_result = s.fixed_dictionaries({"error": s.integers(min_value=-300, max_value=0), "message": s.text(max_size=80)})


@settings(max_examples=500, deadline=None)
@given(zalo_result, s.sampled_from(["plain", "quoted", "twice", "trailing"]))
def test_decode_error_info_reads_every_encoding_esms_uses(obj, encoding):
    raw = json.dumps(obj)
    encoded = {
        "plain": raw,
        "quoted": json.dumps(raw),
        "twice": quote(quote(raw, safe=""), safe="") + "____24/04/2024 16:58:01",
        "trailing": raw + "Object reference not set to an instance of an object.",
    }[encoding]
    assert decode_error_info(encoded).data == obj
