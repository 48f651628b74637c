"""Failure reasons on the dashboard: what a code means, in the reader's language, and what to do about it.

The meanings themselves live in :mod:`tracker.esms.codes`, whose tables hold each code's
Vietnamese and English meaning side by side (from eSMS's and Zalo's own tables, both written
in Vietnamese first): the dashboard shows the one of the reader's language, so no catalog
entry is needed for them. Only the codes of no table ("unknown code …") go through the catalog.

Codes fall into a few classes, each with one piece of advice: what an operator can do about
a message that ended that way.
"""

from __future__ import annotations

import re

from flask_babel import get_locale, gettext, lazy_gettext

from tracker.esms import codes

_HTTP_CODE = re.compile(r"http_([0-9]{3})")

# Which class each known code belongs to. Codes not listed are "unknown".
_CLASS_OF: dict[str, str] = {
    **dict.fromkeys(("99", "108", "-108", "-110", "-114", "-118", "-119", "-139", "1001"), "recipient"),
    **dict.fromkeys(
        ("118", "204", "789", "790", "791", "799", "-109", "-111", "-112", "-116", "-117", "-131", "-133"), "template"
    ),
    **dict.fromkeys(
        (
            "101",
            "102",
            "103",
            "140",
            "143",
            "801",
            "802",
            "-101",
            "-102",
            "-103",
            "-104",
            "-105",
            "-106",
            "-115",
            "-124",
            "-137",
        ),
        "account",
    ),
    **dict.fromkeys(("transport", "connection", "bad_response", "160", "-100", "124"), "temporary"),
    **dict.fromkeys(("timeout", "105", "851", "854"), "no_report"),
    **dict.fromkeys(("send_failed", "status4"), "provider"),
}
ADVICE = {
    "recipient": lazy_gettext(
        "The recipient's side: check the phone number and that its owner uses Zalo. Sending the same message "
        "again rarely helps; reach the customer another way (SMS or a call)."
    ),
    "template": lazy_gettext(
        "Template or OA set-up: check in the eSMS portal that the template is approved, belongs to this OA and "
        "gets the right parameters, then send again."
    ),
    "account": lazy_gettext(
        "The eSMS account: check the API keys, the balance, the ZNS quota and the IP whitelist in the eSMS "
        "portal, or ask eSMS support."
    ),
    "temporary": lazy_gettext(
        "A temporary problem on the way to eSMS: the tracker retries by itself. If it keeps happening, check the "
        "network and eSMS's service status."
    ),
    "no_report": lazy_gettext(
        "No delivery report came in time: look the message up by its SMSID in the eSMS portal before sending it again."
    ),
    "provider": lazy_gettext("eSMS reported the failure without a reason: ask eSMS support, giving the SMSID."),
    "unknown": lazy_gettext("An unlisted code: look it up in eSMS's code table or ask eSMS support, giving the SMSID."),
}


def reason_class(code: str | None) -> str | None:
    if not code:
        return None
    key = str(code).strip()
    if _HTTP_CODE.fullmatch(key):
        return "temporary"
    return _CLASS_OF.get(key, "unknown")


def meaning(code: str | None) -> str:
    """What ``code`` means, in the request's language ("" without a code)."""
    if not code:
        return ""
    key = str(code).strip()
    english = codes.describe(key)
    match = _HTTP_CODE.fullmatch(key)
    if match:
        return gettext("eSMS answered HTTP %(status)s", status=match.group(1))
    if codes.lookup(key) is None:
        return gettext("Unknown code %(code)s", code=key)
    locale = get_locale()
    return codes.describe_vi(key) if locale is not None and locale.language == "vi" else english


def advice(code: str | None) -> str:
    cls = reason_class(code)
    return str(ADVICE[cls]) if cls else ""
