"""ZNS templates as eSMS lists them, and the check of a message's Params against them (pure).

GetTemplate (esms-api/ham-truy-xuat-va-dang-ky/ham-lay-danh-sach-template-zalo.md) lists an
OA's templates: ``ZNSTemplates[]`` of ``TempId``, ``TempName``, ``TempContent`` and
``ZNSTempDetail[]`` of ``{Limit, Param, ParamLevel, RequireType}``. ``Limit`` is the most
characters a value may have ("going over it is a wrong template": 790); ``RequireType`` is
``type_text``, ``type_number`` (digits 0-9 only, at most 12), ``type_date`` (``dd/MM/yyyy``)
or ``type_cta_url``. The page documents ``Limit`` and ``ParamLevel`` as strings and shows
numbers, so both are read either way.

What the check refuses, parameter by parameter: more values than the template has variables
(a variable that appears twice is passed once: SendZaloMessage_V4's Params), a value over its
``Limit``, a ``type_number`` that is not 1-12 digits, a ``type_date`` that is not a day as
``dd/MM/yyyy``. Fewer values are not refused: eSMS documents nothing about them, and eSMS has
the last word (789/790) on everything the listing does not say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

TYPE_TEXT, TYPE_NUMBER, TYPE_DATE, TYPE_CTA_URL = "type_text", "type_number", "type_date", "type_cta_url"
_NUMBER = re.compile(r"[0-9]{1,12}")
_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


@dataclass(frozen=True)
class Variable:
    """One of a template's variables: its name, the most characters, its RequireType."""

    name: str
    limit: int | None
    require_type: str


@dataclass(frozen=True)
class Template:
    temp_id: str
    name: str
    variables: tuple[Variable, ...]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list, bool)) else str(value).strip()


def _template(entry: Any) -> Template | None:
    if not isinstance(entry, dict):
        return None
    temp_id = _text(entry.get("TempId", entry.get("Tempid")))
    details = entry.get("ZNSTempDetail")
    if not temp_id or not isinstance(details, list):
        return None
    ordered = sorted(
        (d for d in details if isinstance(d, dict) and _text(d.get("Param"))),
        key=lambda d: _int(d.get("ParamLevel")) or 0,
    )  # sorted() keeps listing order on ties
    variables: dict[str, Variable] = {}
    for detail in ordered:
        name = _text(detail.get("Param"))
        limit = _int(detail.get("Limit"))
        variables.setdefault(
            name, Variable(name, limit if limit and limit > 0 else None, _text(detail.get("RequireType")) or TYPE_TEXT)
        )
    return Template(temp_id, _text(entry.get("TempName")), tuple(variables.values()))


def parse_listing(answer: Any) -> dict[str, Template] | None:
    """The templates of a GetTemplate answer by id, or None when it lists nothing usable
    (a CodeResult other than 100, or not the documented shape): then nothing is checked."""
    if not isinstance(answer, dict) or _text(answer.get("CodeResult")) != "100":
        return None
    entries = answer.get("ZNSTemplates")
    if not isinstance(entries, list):
        return None
    found = (_template(e) for e in entries)
    return {t.temp_id: t for t in found if t is not None}


def _fits(variable: Variable, value: str) -> str | None:
    """Why ``value`` breaks ``variable``, or None."""
    if variable.limit is not None and len(value) > variable.limit:
        return f"{variable.name}: at most {variable.limit} characters, got {len(value)}"
    if variable.require_type == TYPE_NUMBER and not _NUMBER.fullmatch(value):
        return f"{variable.name}: a number, digits 0-9 only (at most 12)"
    if variable.require_type == TYPE_DATE:
        match = _DATE.fullmatch(value)
        try:
            if match is None:
                raise ValueError
            date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        except ValueError:
            return f"{variable.name}: a date as dd/MM/yyyy"
    return None


def violations(template: Template, params: Sequence[str]) -> dict[str, str]:
    """``{"params[i]": why}`` for every value that breaks the template (0-based, as the API's
    other field errors); empty when they fit."""
    out: dict[str, str] = {}
    for i, value in enumerate(params):
        if i >= len(template.variables):
            out[f"params[{i}]"] = (
                f"template {template.temp_id} has {len(template.variables)} "
                f"parameter{'s' if len(template.variables) != 1 else ''}: "
                f"{', '.join(v.name for v in template.variables) or 'none'}"
            )
            continue
        why = _fits(template.variables[i], value)
        if why is not None:
            out[f"params[{i}]"] = why
    return out
