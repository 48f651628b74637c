"""Decoding a report's error_info: Zalo's JSON object, in whichever of eSMS's encodings it came."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_DECODER = json.JSONDecoder()
# Each round peels one layer (a JSON string wrapper or one URL-encoding).
_MAX_UNWRAP = 8


@dataclass(frozen=True)
class ErrorInfo:
    """A decoded error_info: Zalo's JSON object, trailing text, or what went wrong."""

    data: dict[str, Any] | None = None
    note: str | None = None
    problem: str | None = None


def _clean_note(rest: str) -> str | None:
    # eSMS glues a timestamp on with "____"; free text follows the JSON directly.
    note = rest.strip().lstrip("_").strip()
    return note or None


def decode_error_info(value: str) -> ErrorInfo:
    """Decode error_info in any of the encodings eSMS uses (REFERENCE section 2)."""
    if not isinstance(value, str):
        return ErrorInfo(problem="error_info is not text")
    text, outer_note = value.strip(), None
    for _ in range(_MAX_UNWRAP):
        if not text:
            return ErrorInfo(note=outer_note, problem="error_info is empty")
        try:
            obj, end = _DECODER.raw_decode(text)
        except (ValueError, RecursionError):
            decoded = unquote(text) if _PERCENT.search(text) else text
            if decoded == text:
                return ErrorInfo(note=outer_note, problem="error_info is not JSON")
            text = decoded.strip()
            continue
        rest = text[end:]
        note = _clean_note(rest) or outer_note
        if isinstance(obj, str):
            # JSON quoted inside a JSON string: unwrap and look again.
            text, outer_note = obj.strip(), note
            continue
        if isinstance(obj, dict):
            return ErrorInfo(data=obj, note=note)
        if isinstance(obj, int) and not isinstance(obj, bool) and (not rest.strip() or rest.startswith("_")):
            # A bare Zalo code, the way the status APIs give it ("0", "1001", "-114").
            return ErrorInfo(data={"error": obj}, note=note)
        if obj is None and not rest.strip():
            return ErrorInfo(note=outer_note)
        return ErrorInfo(note=outer_note, problem="error_info is not a JSON object")
    return ErrorInfo(problem="error_info is encoded too many times")
