"""Input problems found outside the dashboard (phone numbers, CSV files, pydantic), in the reader's language.

The validators (tracker/phones.py, tracker/sending/bulk.py, tracker/schemas.py, pydantic)
speak English to the API and the CLI, which keep their words. The dashboard shows the same
problems translated through the catalog, keyed by the English text; the ones with numbers
or names in them are matched by pattern. A problem not known here is shown as it came.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext


def N_(text: str) -> str:
    """Marks ``text`` for the catalog (Babel's ``N_`` keyword) without translating it here."""
    return text


# Exact English texts of the validators.
_EXACT = {
    N_("a phone number is required"),
    N_("too long to be a phone number"),
    N_("not a phone number"),
    N_("not a Vietnamese number (+84)"),
    N_("not a valid Vietnamese number"),
    N_("not a Vietnamese mobile number"),
    N_("must not contain NUL characters"),
    N_("the file is empty"),
    N_("give the parameters either as 'params' or as param1..paramN, not both"),
    N_("param columns must be numbered param1..paramN without gaps"),
    N_('must be a JSON array of strings, e.g. ["Lan", "DH1"]'),
    N_("required (ESMS_OAID is not set)"),
    N_("unknown field"),
    N_("Field required"),
    N_("Input should be a valid string"),
    N_("Input should be a valid list"),
    N_("Input should be a valid boolean"),
    N_("String should have at least 1 character"),
}
# Texts with values in them: the English pattern, and the catalog's text for it.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"expected (?P<want>\d+) columns, got (?P<got>\d+)"), N_("expected %(want)s columns, got %(got)s")),
    (re.compile(r"the file is not UTF-8 \(byte (?P<byte>\d+)\)"), N_("the file is not UTF-8 (byte %(byte)s)")),
    (re.compile(r"unknown column (?P<name>.+)"), N_("unknown column %(name)s")),
    (re.compile(r"missing column (?P<name>.+)"), N_("missing column %(name)s")),
    (re.compile(r"column (?P<name>.+) appears twice"), N_("column %(name)s appears twice")),
    (
        re.compile(r"String should have at most (?P<n>\d+) characters?"),
        N_("String should have at most %(n)s characters"),
    ),
    # A value that breaks its template (tracker/esms/templates.py), named by the template's variable.
    (
        re.compile(r"(?P<name>[^:]+): at most (?P<n>\d+) characters, got (?P<got>\d+)"),
        N_("%(name)s: at most %(n)s characters, got %(got)s"),
    ),
    (
        re.compile(r"(?P<name>[^:]+): a number, digits 0-9 only \(at most 12\)"),
        N_("%(name)s: a number, digits 0-9 only (at most 12)"),
    ),
    (re.compile(r"(?P<name>[^:]+): a date as dd/MM/yyyy"), N_("%(name)s: a date as dd/MM/yyyy")),
    (
        re.compile(r"template (?P<id>\S+) has (?P<n>\d+) parameters?: (?P<names>.*)"),
        N_("template %(id)s has %(n)s parameters: %(names)s"),
    ),
    (
        re.compile(r"List should have at most (?P<n>\d+) items? after validation, not (?P<got>\d+)"),
        N_("List should have at most %(n)s items, not %(got)s"),
    ),
]
# "field: problem", as QueueError joins them.
_FIELD = re.compile(r"(?P<field>[a-z_][a-z0-9_.\[\]]*): (?P<rest>.+)")


def _one(text: str) -> str:
    if text in _EXACT:
        return gettext(text)
    for pattern, msgid in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            values: dict[str, Any] = match.groupdict()
            return gettext(msgid, **values)
    match = _FIELD.fullmatch(text)
    if match and (match["rest"] in _EXACT or any(p.fullmatch(match["rest"]) for p, _m in _PATTERNS)):
        return f"{match['field']}: {_one(match['rest'])}"
    return text


def translate(text: str) -> str:
    """``text`` in the request's language, part by part (the validators join several with "; ")."""
    return "; ".join(_one(part) for part in text.split("; "))
