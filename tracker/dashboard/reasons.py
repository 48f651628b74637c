"""Failure reasons on the dashboard: what a code means, its class and what to do, in the reader's language.

One table decides: :mod:`tracker.esms.codes` (eSMS's and Zalo's codes and the tracker's own,
each with its Vietnamese and English meaning and its class). The dashboard shows the meaning
of the reader's language, so no catalog entry is needed for them; the class names and the
advice per class (and, for ``retry_later``, per "when") go through the catalog. A code of no
table is ``unknown``; the client's ``http_<status>`` codes (``http_503`` …) are classed by codes.py too
(``retry_later``, once eSMS can be reached).
"""

from __future__ import annotations

import re

from flask_babel import get_locale, gettext, lazy_gettext, lazy_pgettext

from tracker.esms import code_table, codes

_HTTP_CODE = re.compile(r"http_([0-9]{3})")

# The classes' names as the dashboard shows them (codes.CLASSES, in their order).
CLASS_LABELS = {
    code_table.OK: lazy_pgettext("error class", "success"),
    code_table.FINAL: lazy_pgettext("error class", "final"),
    code_table.RETRY_LATER: lazy_pgettext("error class", "retry later"),
    code_table.ACCOUNT: lazy_pgettext("error class", "eSMS account"),
    code_table.OA: lazy_pgettext("error class", "Zalo OA"),
    code_table.TEMPLATE: lazy_pgettext("error class", "template"),
    code_table.UNREACHABLE: lazy_pgettext("error class", "unreachable"),
    code_table.UNKNOWN: lazy_pgettext("error class", "unknown"),
}
# What a person should do, per class: the same judgement as codes.advice, in the reader's language.
ADVICE = {
    code_table.OK: lazy_gettext("Nothing to do."),
    code_table.FINAL: lazy_gettext("Nothing to do: sending this message again would end the same way."),
    code_table.ACCOUNT: lazy_gettext(
        "Fix the eSMS account (API keys, balance, price list, IP whitelist, activation) in the eSMS portal. "
        "Sending pauses for the whole account and resumes by itself once eSMS accepts again."
    ),
    code_table.OA: lazy_gettext(
        "Fix the Zalo OA at eSMS (the OAID active and added to the account, its permissions). Sending pauses "
        "for that OA and resumes by itself once eSMS accepts again."
    ),
    code_table.TEMPLATE: lazy_gettext(
        "Fix the template or its parameters (approved, belonging to this OA, values within their limits), "
        "then send again."
    ),
    code_table.UNREACHABLE: lazy_gettext(
        "This person cannot be reached by Zalo: reach them another way (SMS, a call, e-mail)."
    ),
    code_table.UNKNOWN: lazy_gettext(
        "This code is in neither eSMS's nor Zalo's table: read the raw answer in the message's events, or ask "
        "eSMS support giving the SMSID."
    ),
}
# retry_later's advice says when (code_table's "when" of the code).
RETRY_ADVICE = {
    code_table.SOON: lazy_gettext("A passing problem: send it again in a few minutes."),
    code_table.NEXT_SECOND: lazy_gettext("Too many requests a second: send it again after a second."),
    code_table.AFTER_6AM: lazy_gettext(
        "Zalo sends no ZNS between 22:00 and 06:00: send it again after 06:00 Vietnam time."
    ),
    code_table.NEXT_DAY: lazy_gettext(
        "A daily quota is used up: send it again the next day (quotas restart at 00:00 Vietnam time)."
    ),
    code_table.WHEN_REACHABLE: lazy_gettext(
        "eSMS could not be reached: the tracker retries by itself; send it again once eSMS answers."
    ),
}
# Classes whose failed messages the dashboard offers to resend (the message page's button).
RESEND_CLASSES = frozenset({code_table.RETRY_LATER, code_table.TEMPLATE})


def reason_class(code: str | None) -> str | None:
    """The class of ``code`` (codes.error_class); None without a code."""
    if not code or not str(code).strip():
        return None
    return codes.error_class(str(code).strip())


def class_label(cls: str | None) -> str:
    """A class's name in the reader's language ("" for none)."""
    return str(CLASS_LABELS.get(cls, cls)) if cls else ""


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
    """What to do about ``code``, in the reader's language ("" without a code)."""
    cls = reason_class(code)
    if cls is None:
        return ""
    if cls == code_table.RETRY_LATER:
        entry = codes.lookup(str(code).strip())
        return str(RETRY_ADVICE[entry.when if entry and entry.when in RETRY_ADVICE else code_table.SOON])
    return str(ADVICE[cls])
