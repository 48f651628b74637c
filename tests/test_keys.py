"""Per-purpose keys (issue 12, attack 2): HKDF as RFC 5869 defines it, and no key serves two purposes."""

from __future__ import annotations

from tracker import keys


def test_hkdf_matches_rfc_5869_test_case_1():
    okm = keys.hkdf(bytes([0x0B]) * 22, bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


def test_each_purpose_has_its_own_key():
    secret = "s" * 32
    derived = {keys.derive(secret, info) for info in (keys.CALLBACK_TOKENS, keys.SESSIONS, keys.PHONE_SEARCH)}
    assert len(derived) == 3 and secret.encode() not in derived
    assert keys.derive("t" * 32, keys.SESSIONS) != keys.derive(secret, keys.SESSIONS)
