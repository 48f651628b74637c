"""Vietnamese phone numbers: parse any usual form, store E.164, send eSMS's national form.

Numbers still written in the pre-2018 11-digit form (``0168 812 3456``) are converted to
their current prefix (``038 812 3456``) before anything else: Vietnam moved every 11-digit
mobile number to 10 digits between September and November 2018, and CRM data still holds
the old ones. phonenumbers knows only today's plan, so it refuses them; the table below
does the conversion, phonenumbers the rest.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)

# The 2018 conversion: the old prefix (without the trunk 0) -> the new one, per network.
VIETTEL = {"162": "32", "163": "33", "164": "34", "165": "35", "166": "36", "167": "37", "168": "38", "169": "39"}
MOBIFONE = {"120": "70", "121": "79", "122": "77", "126": "76", "128": "78"}
VINAPHONE = {"123": "83", "124": "84", "125": "85", "127": "81", "129": "82"}
VIETNAMOBILE = {"186": "56", "188": "58"}
GMOBILE = {"199": "59"}
CONVERTED_PREFIXES: dict[str, str] = {**VIETTEL, **MOBIFONE, **VINAPHONE, **VIETNAMOBILE, **GMOBILE}

# What people put between digits; anything else leaves the number to phonenumbers.
_SEPARATORS = re.compile(r"[\s().-]")


def _old_national(raw: str) -> str | None:
    """The 10 digits after the trunk 0 of an old 11-digit mobile number in any usual form
    (``01688123456``, ``841688123456``, ``+84 168 812 3456``, ``00841688123456``), or None."""
    text = _SEPARATORS.sub("", raw)
    for prefix, length in (("+84", 13), ("0084", 14), ("84", 12), ("0", 11), ("", 10)):
        if text.startswith(prefix) and len(text) == length:
            rest = text[len(prefix) :]
            if rest.isascii() and rest.isdigit() and rest[:3] in CONVERTED_PREFIXES:
                return rest
    return None


def converted(raw: str) -> str | None:
    """E.164 of an old 11-digit number under its current prefix (``01688123456`` ->
    ``+84388123456``), or None when ``raw`` is not written in the old form."""
    old = _old_national(raw) if isinstance(raw, str) else None
    if old is None:
        return None
    return "+84" + CONVERTED_PREFIXES[old[:3]] + old[3:]


def normalize(raw: str) -> str:
    """E.164 (``+84901888484``) for a Vietnamese mobile number; ValueError says why not.

    An old 11-digit number comes back under its current prefix (see :func:`converted`).
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("a phone number is required")
    if len(raw) > 32:
        raise ValueError("too long to be a phone number")
    try:
        num = phonenumbers.parse(converted(raw) or raw, "VN")
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
