"""What eSMS result codes, Zalo ZNS error codes and the tracker's own codes mean, and what to do.

The tables are tracker/esms/code_table.py (eSMS CodeResults, esms-api/bang-ma-loi.md) and
tracker/esms/zalo_table.py (Zalo's ZNS table). Every code has a Vietnamese and an English
meaning and a class (code_table.CLASSES); a code in no table is classed ``unknown`` and says
so. ``describe()`` keeps its old English-only answer for the callers that show a meaning.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from tracker.esms.code_table import (
    ACCOUNT,
    AFTER_6AM,
    CLASSES,
    ESMS,
    FINAL,
    NEXT_DAY,
    NEXT_SECOND,
    OA,
    OK,
    RETRY_LATER,
    SOON,
    TEMPLATE,
    UNKNOWN,
    UNREACHABLE,
    WHEN_REACHABLE,
    Entry,
)
from tracker.esms.zalo_table import ZALO

__all__ = [
    "CLASSES",
    "CLIENT_CODES",
    "CODE_RESULTS",
    "OWN_CODES",
    "ZALO_ERRORS",
    "Entry",
    "advice",
    "describe",
    "describe_vi",
    "error_class",
    "lookup",
    "pauses",
    "retry_after",
]

# English meanings by code, as before the bilingual table (kept for existing callers).
CODE_RESULTS: dict[str, str] = {code: entry.en for code, entry in ESMS.items()}
ZALO_ERRORS: dict[str, str] = {code: entry.en for code, entry in ZALO.items()}

# Codes the tracker itself writes into error_code.
TRANSPORT = "transport"
TIMEOUT = "timeout"
SEND_FAILED = "send_failed"
STATUS4 = "status4"
_OWN: dict[str, Entry] = {
    TRANSPORT: Entry(
        "Ngừng gửi sau nhiều lần lỗi kết nối tới eSMS",
        "Sending given up after repeated transport failures",
        RETRY_LATER,
        WHEN_REACHABLE,
    ),
    TIMEOUT: Entry(
        "Không có trạng thái cuối trong thời hạn theo dõi", "No final status within the tracking horizon", FINAL
    ),
    SEND_FAILED: Entry("eSMS báo tin gửi thất bại", "eSMS reported the message as failed", FINAL),
    STATUS4: Entry("eSMS từ chối tin (SendStatus 4)", "eSMS rejected the message (SendStatus 4)", FINAL),
}
OWN_CODES: dict[str, str] = {code: entry.en for code, entry in _OWN.items()}

# Per-attempt codes of the HTTP client (SendResult.code); "timeout" is in OWN_CODES.
_CLIENT: dict[str, Entry] = {
    "connection": Entry("Không kết nối được tới eSMS", "Could not connect to eSMS", RETRY_LATER, WHEN_REACHABLE),
    "bad_response": Entry(
        "eSMS trả lời không đọc được", "eSMS gave an answer that could not be understood", RETRY_LATER, WHEN_REACHABLE
    ),
}
CLIENT_CODES: dict[str, str] = {code: entry.en for code, entry in _CLIENT.items()}

_HTTP_CODE = re.compile(r"http_([0-9]{3})")

# What a person should do, by class (English: the API's language; the dashboard translates).
_ADVICE: dict[str, str] = {
    OK: "Nothing to do.",
    FINAL: "Nothing to do: sending this message again would end the same way.",
    RETRY_LATER: "Send it again later",
    ACCOUNT: "Fix the eSMS account (keys, balance, price list, IP whitelist, activation). Sending pauses "
    "for the whole account and resumes by itself once eSMS accepts again.",
    OA: "Fix the Zalo OA at eSMS (OAID active and added to the account, its permissions). Sending pauses "
    "for that OA and resumes by itself once eSMS accepts again.",
    TEMPLATE: "Fix the template or its parameters, then send again.",
    UNREACHABLE: "This person cannot be reached by Zalo: reach them another way (SMS, a call, e-mail).",
    UNKNOWN: "This code is in neither eSMS's nor Zalo's table: read the raw answer in the message's events.",
}

VIETNAM = timezone(timedelta(hours=7))


def lookup(code: str | None) -> Entry | None:
    """The table entry of any code the tracker may store, or None when no table knows it."""
    if code is None:
        return None
    key = str(code).strip()
    for table in (_OWN, ESMS, ZALO, _CLIENT):
        if key in table:
            return table[key]
    match = _HTTP_CODE.fullmatch(key)
    if match:
        status = match.group(1)
        return Entry(f"eSMS trả lời HTTP {status}", f"eSMS answered HTTP {status}", RETRY_LATER, WHEN_REACHABLE)
    return None


def describe(code: str | None) -> str:
    """Meaning of any code the tracker may store, in English words."""
    if code is None:
        return "No code"
    entry = lookup(code)
    return entry.en if entry else f"Unknown code {str(code).strip()}"


def describe_vi(code: str | None) -> str:
    """Meaning of any code, in Vietnamese."""
    if code is None:
        return "Không có mã"
    entry = lookup(code)
    return entry.vi if entry else f"Mã không xác định {str(code).strip()}"


def error_class(code: str | None) -> str | None:
    """The class of a code (code_table.CLASSES); None for no code, ``unknown`` for one no table has."""
    if code is None:
        return None
    entry = lookup(code)
    return entry.cls if entry else UNKNOWN


def advice(code: str | None) -> str | None:
    """What a person should do about a code, in English; None for no code."""
    cls = error_class(code)
    if cls is None:
        return None
    if cls == RETRY_LATER:
        entry = lookup(code)
        when = entry.when if entry and entry.when else SOON
        return f"{_ADVICE[RETRY_LATER]} {when}."
    return _ADVICE[cls]


def retry_after(code: str | None, now: datetime) -> datetime | None:
    """When a retry_later code's message may be sent again (aware UTC), or None when not known."""
    entry = lookup(code)
    if entry is None or entry.cls != RETRY_LATER:
        return None
    local = now.astimezone(VIETNAM)
    if entry.when == AFTER_6AM:
        # Before 06:00: today at 06:00; from 22:00: tomorrow's; in the day: at once.
        at = local.replace(hour=6, minute=0, second=0, microsecond=0)
        if local.hour >= 22:
            at += timedelta(days=1)
        return max(at, local).astimezone(UTC)
    if entry.when == NEXT_DAY:
        at = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return at.astimezone(UTC)
    if entry.when == NEXT_SECOND:
        return now + timedelta(seconds=1)
    if entry.when == SOON:
        return now + timedelta(minutes=5)
    return None


def pauses(code: str | None) -> str | None:
    """Which scope a send's CodeResult pauses: ``account``, ``oa``, or None.

    Only eSMS CodeResults pause: a Zalo code comes after eSMS accepted, for one message.
    """
    if code is None:
        return None
    entry = ESMS.get(str(code).strip())
    if entry is not None and entry.cls in (ACCOUNT, OA):
        return entry.cls
    return None
