"""Reading the values eSMS sends, in callbacks and JSON answers: text, counts, prices, flags; never raising.

The callback parser and the client's status answers share these, so both read a value the same way.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

MAX_NUMBER = 10**12

# Plain decimal notation only: exponents, underscores and non-ASCII digits are
# what garbage looks like, not what eSMS sends.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def as_text(value: object) -> tuple[str | None, str | None]:
    """Turn a parameter value of any type into text; returns (text, problem)."""
    if value is None or isinstance(value, str):
        return value, None
    if isinstance(value, (int, float, Decimal)):
        try:
            return str(value), None
        except ValueError:  # an int with more digits than Python will print
            return None, "number too large"
    if isinstance(value, (list, tuple)):
        if not value:
            return None, None
        text, problem = as_text(value[0])
        return text, problem or ("several values given; first kept" if len(value) > 1 else None)
    if isinstance(value, dict):
        # A JSON POST may carry error_info as an object rather than text.
        try:
            return json.dumps(value, default=str), None
        except (TypeError, ValueError, RecursionError):
            return None, "unreadable object"
    return None, f"unexpected value type {type(value).__name__}"


def parse_decimal(value: object, *, allow_negative: bool = False) -> tuple[Decimal | None, str | None]:
    """Parse a price-like number; returns (value, problem), never raises."""
    text, problem = as_text(value)
    if text is None:
        return None, problem
    text = text.strip()
    if not text:
        return None, None
    if not _NUMBER.fullmatch(text):
        return None, f"{text[:40]!r} is not a number"
    number = Decimal(text)
    if abs(number) > MAX_NUMBER:
        return None, f"{text[:40]} is out of range"
    if number < 0 and not allow_negative:
        return None, f"{text[:40]} is negative"
    return number, None


def parse_int(value: object, *, allow_negative: bool = False) -> tuple[int | None, str | None]:
    """Parse a count, id or code ("5", " 5 ", "5.0"); returns (value, problem), never raises."""
    number, problem = parse_decimal(value, allow_negative=allow_negative)
    if number is None:
        return None, problem
    if number != number.to_integral_value():
        return None, f"{str(number)[:40]} is not a whole number"
    return int(number), None


def json_get(data: Any, *names: str) -> Any:
    """First of `names` present in a JSON object, keys compared case-insensitively."""
    if not isinstance(data, dict):
        return None
    lowered = {str(k).lower(): v for k, v in data.items()}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def text_of(value: Any) -> str | None:
    """A JSON answer's value as stripped text; None when absent or blank."""
    text = as_text(value)[0]
    return (text.strip() or None) if text is not None else None


def int_of(value: Any) -> int | None:
    """A JSON answer's value as a whole number; None when absent or not one."""
    return parse_int(value)[0]


def flag_of(value: Any) -> bool | None:
    """A JSON answer's 1/0 or true/false flag; None when it is neither."""
    return {"1": True, "true": True, "0": False, "false": False}.get((text_of(value) or "").lower())
