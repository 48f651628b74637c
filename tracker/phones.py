"""Vietnamese phone numbers: parse any usual form, store E.164, send eSMS's national form."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normalize(raw: str) -> str:
    """E.164 (``+84901888484``) for a Vietnamese mobile number; ValueError says why not."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("a phone number is required")
    if len(raw) > 32:
        raise ValueError("too long to be a phone number")
    try:
        num = phonenumbers.parse(raw, "VN")
    except NumberParseException:
        raise ValueError("not a phone number") from None
    if num.country_code != 84:
        raise ValueError("not a Vietnamese number (+84)")
    if not phonenumbers.is_valid_number(num):
        raise ValueError("not a valid Vietnamese number")
    if phonenumbers.number_type(num) not in _MOBILE:
        raise ValueError("not a Vietnamese mobile number")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def to_esms(e164: str) -> str:
    """The national form eSMS expects: ``+84901888484`` -> ``0901888484``."""
    return "0" + e164.removeprefix("+84")


def e164_or_none(raw: str | None) -> str | None:
    """A number eSMS reported, as E.164, or None when it is not one (a Zalo user id)."""
    if not raw:
        return None
    try:
        return normalize(raw)
    except ValueError:
        return None
