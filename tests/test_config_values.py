"""tracker.config_values: each reader of one variable, table by table: typed values, defaults, one-line errors."""

from __future__ import annotations

import ipaddress

import pytest

from tracker.config_values import (
    MIN_SECRET,
    ConfigError,
    _float,
    _forward_secret,
    _int,
    _language,
    _networks,
    _old_secret,
    _probe_cap,
    _timezone,
    _url,
    flag,
)


@pytest.mark.parametrize("raw, want", [("", 7), ("  ", 7), ("12", 12), (" 3 ", 3), ("0", 0)])
def test_int_reads_whole_numbers_and_defaults(raw, want):
    assert _int({"X": raw}, "X", 7) == want


@pytest.mark.parametrize("raw", ["1.5", "soon", "-1"])
def test_int_refuses_what_is_not_a_whole_number_at_or_over_its_minimum(raw):
    with pytest.raises(ConfigError, match=r"^X must"):
        _int({"X": raw}, "X", 7, minimum=0)


@pytest.mark.parametrize("raw, want", [("", 2.0), ("0.5", 0.5), ("3", 3.0)])
def test_float_reads_positive_numbers(raw, want):
    assert _float({"Y": raw}, "Y", 2.0) == want


@pytest.mark.parametrize("raw", ["0", "-2", "fast"])
def test_float_refuses_zero_negatives_and_words(raw):
    with pytest.raises(ConfigError, match=r"^Y must"):
        _float({"Y": raw}, "Y", 2.0)


@pytest.mark.parametrize(
    "raw, want",
    [
        ("", False),
        ("0", False),
        ("no", False),
        ("off", False),
        ("false", False),
        ("1", True),
        ("yes", True),
        ("ON", True),
        ("true", True),
    ],
)
def test_flag_table(raw, want):
    assert flag({"F": raw}, "F") is want


def test_flag_refuses_anything_else():
    with pytest.raises(ConfigError, match="F must be 0 or 1"):
        flag({"F": "maybe"}, "F")


def test_url_strips_the_trailing_slash_and_needs_http():
    assert _url({"U": "https://a.example/x/"}, "U", None) == "https://a.example/x"
    assert _url({}, "U", "http://d.example") == "http://d.example"
    assert _url({}, "U", None) is None
    with pytest.raises(ConfigError, match="U must be an http"):
        _url({"U": "ftp://a.example"}, "U", None)


def test_networks_reads_a_cidr_list_and_bare_addresses():
    got = _networks({"N": "10.0.0.0/8, 192.0.2.7,2001:db8::/32"}, "N")
    assert got == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    with pytest.raises(ConfigError, match="N must be a comma-separated list"):
        _networks({"N": "10.0.0.0/33"}, "N")


@pytest.mark.parametrize("raw, want", [("", "vi"), ("vi", "vi"), ("en", "en"), ("EN", "en")])
def test_language_defaults_to_vietnamese(raw, want):
    assert _language({"TRACKER_LANGUAGE": raw}) == want


def test_language_and_timezone_refuse_unknown_values():
    with pytest.raises(ConfigError, match="TRACKER_LANGUAGE"):
        _language({"TRACKER_LANGUAGE": "fr"})
    with pytest.raises(ConfigError, match="TRACKER_TIMEZONE"):
        _timezone({"TRACKER_TIMEZONE": "Mars/Olympus"})
    assert _timezone({}) == "Asia/Ho_Chi_Minh"
    assert _timezone({"TRACKER_TIMEZONE": "Europe/Paris"}) == "Europe/Paris"


def test_old_secret_must_differ_and_be_long_enough():
    current = "c" * MIN_SECRET
    assert _old_secret({}, current) is None
    assert _old_secret({"TRACKER_SECRET_KEY_OLD": "o" * 20}, current) == "o" * 20
    for bad in ("short", current):
        with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY_OLD"):
            _old_secret({"TRACKER_SECRET_KEY_OLD": bad}, current)


def test_forward_secret_is_required_with_a_forward_url_and_unlike_the_main_key():
    main = "m" * MIN_SECRET
    assert _forward_secret({}, None, main, None) is None
    good = "f" * MIN_SECRET
    assert _forward_secret({"TRACKER_FORWARD_SECRET": good}, "https://r.example", main, None) == good
    for env in ({}, {"TRACKER_FORWARD_SECRET": "short"}, {"TRACKER_FORWARD_SECRET": main}):
        with pytest.raises(ConfigError, match="TRACKER_FORWARD_SECRET"):
            _forward_secret(env, "https://r.example", main, None)


def test_probe_cap_is_at_most_a_minute():
    assert _probe_cap({}) <= 60
    assert _probe_cap({"TRACKER_PAUSE_PROBE_CAP": "60"}) == 60
    with pytest.raises(ConfigError, match="TRACKER_PAUSE_PROBE_CAP"):
        _probe_cap({"TRACKER_PAUSE_PROBE_CAP": "61"})
