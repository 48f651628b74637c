"""Numbers, money, percentages, times and durations in the reader's locale and the tracker's time zone.

Everything goes through Babel's CLDR data for the request's locale (Flask-Babel picks it,
see :mod:`tracker.dashboard.i18n`): Vietnamese reads ``1.234.567 ₫``, ``57,1%`` and
``05/06/2024 23:30``; English (British conventions, so that a date reads day first in both
languages) ``₫1,234,567``, ``57.1%`` and ``05/06/2024 23:30``. Times are shown in
TRACKER_TIMEZONE; the API keeps UTC.

Outside a request (unit tests, the CLI) the defaults apply: Vietnamese, Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, dates, lists, numbers, units
from flask import current_app, has_app_context
from flask_babel import get_locale

from tracker.config import DEFAULT_LANGUAGE, DEFAULT_TIMEZONE

# Formats follow the language. English uses the British locale: day before month, like
# Vietnamese, so a reader who switches language never reads 05/06 the other way round.
FORMAT_LOCALES = {"vi": "vi_VN", "en": "en_GB"}
# Times in links between pages (local, no offset): a wire format, never shown as text.
WIRE_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Babel pattern fields -> strptime, to read back the times the forms show.
_STRPTIME = {"d": "%d", "M": "%m", "y": "%Y", "H": "%H", "m": "%M", "s": "%S"}
# Widths asked of the locale's numeric fields: dd/MM/yyyy HH:mm rather than d/M/y H:mm.
_WIDE = {"d": 2, "M": 2, "y": 4, "H": 2}
DASH = "—"


def locale() -> Locale:
    return get_locale() or _parsed(FORMAT_LOCALES[DEFAULT_LANGUAGE])


@cache
def _parsed(name: str) -> Locale:
    return Locale.parse(name)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """TRACKER_TIMEZONE (validated when the settings were loaded)."""
    if has_app_context() and "SETTINGS" in current_app.config:
        return _zone(current_app.config["SETTINGS"].timezone)
    return _zone(DEFAULT_TIMEZONE)


def local(value: datetime) -> datetime:
    """A stored (UTC) time on the tracker's clock."""
    return _aware(value).astimezone(zone())


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive UTC on some paths.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_local(raw: str | None) -> datetime | None:
    """A time typed as the forms show it (``05/06/2024 23:30``, local), or ISO 8601, as UTC.

    ISO without an offset is local time too (links between pages carry it); with an offset,
    it is taken as given. None when empty; ValueError when unreadable.
    """
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = _parse_shown(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone())
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 00:00 at UTC+7 is before year 1 in UTC
        raise ValueError(f"out of range: {text!r}") from None


def _parse_shown(text: str) -> datetime:
    # Every language's pattern: a form may be sent after the reader switched language.
    for name in dict.fromkeys([str(locale()), *FORMAT_LOCALES.values()]):
        for time_skeleton in ("Hms", "Hm"):
            fmt = _strptime(_pattern(name, "yMd", time_skeleton))
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise ValueError(f"not a time: {text!r}")


@cache
def _strptime(pattern: str) -> str:
    return "".join(
        _STRPTIME[value[0]] if kind == "field" else value.replace("%", "%%")
        for kind, value in dates.tokenize_pattern(pattern)
    )


@cache
def _strftime(pattern: str) -> str | None:
    """The same pattern for strftime when it has only two-digit numeric fields (and yyyy); else None."""
    tokens = dates.tokenize_pattern(pattern)
    if any(
        kind == "field" and (value[0] not in _STRPTIME or value[1] != (4 if value[0] == "y" else 2))
        for kind, value in tokens
    ):
        return None
    return _strptime(pattern)


def input_value(value: datetime, seconds: bool = False) -> str:
    """A time as the forms' time fields show it (the page's own format), on the tracker's clock.

    Text fields, not ``datetime-local``: a browser draws those in its own locale (11/29/2026,
    11:28 PM in an English browser), so a Vietnamese page would show two date formats.
    """
    return when(value) if seconds else when_minutes(value)


def input_hint() -> str:
    """What to type into a time field (``dd/MM/yyyy HH:mm``), from the same locale data."""
    return _pattern(str(locale()), "yMd", "Hm")


def wire(value: datetime) -> str:
    """A time for a link to another page: local, ISO 8601 without an offset."""
    return f"{local(value):{WIRE_FORMAT}}"


# -- numbers ----------------------------------------------------------------------------------


def number(n: int | float | Decimal | None) -> str:
    if n is None:
        return DASH
    loc = locale()
    return _number_pattern(str(loc), "decimal").apply(n, loc)


@cache
def _number_pattern(name: str, kind: str) -> numbers.NumberPattern:
    """The locale's decimal or currency pattern, parsed once (Babel parses it on every call)."""
    loc = Locale.parse(name)
    return numbers.parse_pattern(loc.decimal_formats[None] if kind == "decimal" else loc.currency_formats["standard"])


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` with one decimal, in the locale's percent pattern."""
    if not whole:
        return DASH
    return _percent_pattern(str(locale())).apply(part / whole, locale())


@cache
def _percent_pattern(name: str) -> numbers.NumberPattern:
    pattern = numbers.parse_pattern(Locale.parse(name).percent_formats[None].pattern)
    pattern.frac_prec = (1, 1)  # one decimal: 57.1 % tells more than 57 %
    return pattern


def money(value: Decimal | float | int | None) -> str:
    """Prices as eSMS charges them, in đồng; fractions (rare) are shown rather than rounded away."""
    if value is None:
        return DASH
    amount = Decimal(str(value))
    amount = amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
    loc = locale()
    return _number_pattern(str(loc), "currency").apply(amount, loc, currency="VND", decimal_quantization=False)


# -- times ------------------------------------------------------------------------------------


def _widened(pattern: str) -> str:
    out = []
    for kind, value in dates.tokenize_pattern(pattern):
        if kind == "field" and value[0] in _WIDE and value[1] <= 2:  # numeric fields only, not "MMM"
            value = (value[0], max(value[1], _WIDE[value[0]]))
        out.append((kind, value))
    return dates.untokenize_pattern(out)


@cache
def _pattern(name: str, date_skeleton: str, time_skeleton: str) -> str:
    """The locale's own date and time patterns, numeric date fields widened (as ICU does).

    Date before time in both languages: it is how eSMS's portal and Vietnamese offices write
    it (``05/06/2024 23:30``), although CLDR's Vietnamese puts the time first.
    """
    loc = Locale.parse(name)
    parts = [_widened(loc.datetime_skeletons[date_skeleton].pattern)] if date_skeleton else []
    if time_skeleton:
        parts.append(_widened(loc.datetime_skeletons[time_skeleton].pattern))
    return " ".join(parts)


def _format(value: datetime | None, date_skeleton: str, time_skeleton: str) -> str:
    if value is None:
        return DASH
    loc = locale()
    pattern = _pattern(str(loc), date_skeleton, time_skeleton)
    fast = _strftime(pattern)
    # Numbers only (both languages' patterns are): strftime writes the same text six times faster,
    # which a CSV export of many rows notices.
    return local(value).strftime(fast) if fast else dates.format_datetime(local(value), pattern, locale=loc)


def when_function() -> Callable[[datetime | None], str]:
    """:func:`when` with the request's locale and zone looked up once, for a loop over many rows."""
    pattern = _strftime(_pattern(str(locale()), "yMd", "Hms"))
    if pattern is None:
        return when
    tz = zone()
    return lambda value: DASH if value is None else _aware(value).astimezone(tz).strftime(pattern)


def when(value: datetime | None) -> str:
    """``05/06/2024 23:30:12``: lists, fields and timelines (seconds matter between callbacks)."""
    return _format(value, "yMd", "Hms")


def when_minutes(value: datetime | None) -> str:
    """``05/06/2024 23:30``: range labels."""
    return _format(value, "yMd", "Hm")


def when_short(value: datetime | None) -> str:
    """``05/06 23:30:12``: a journey's timeline, where the year only repeats itself."""
    return _format(value, "Md", "Hms")


def clock(value: datetime) -> str:
    """``23:30:12``: when a live page was last updated."""
    return _format(value, "", "Hms")


def skeleton(value: datetime, name: str) -> str:
    """A chart label: ``Hm`` (23:00), ``Md`` (05/06) or ``MdHm``, on the tracker's clock."""
    if name == "MdHm":
        return _format(value, "Md", "Hm")
    if name == "Md":
        return _format(value, "Md", "")
    return _format(value, "", name)


def zone_label(now: datetime) -> tuple[str, str]:
    """The zone's IANA name and its current offset in the locale's words (``GMT+07:00``)."""
    here = local(now)
    return zone().key, dates.get_timezone_gmt(here, locale=locale())


# -- durations --------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """``10,0 giây`` / ``10.0s``, ``3 phút 4 giây`` / ``3m 4s``: CLDR's narrow duration units."""
    if seconds is None:
        return DASH
    loc = locale()
    if seconds < 60:
        return units.format_unit(seconds, "duration-second", length="narrow", format="#,##0.0", locale=loc)
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        parts = [(minutes, "minute"), (sec, "second")]
    elif hours < 48:
        parts = [(hours, "hour"), (minutes, "minute")]
    else:
        parts = [(hours // 24, "day"), (hours % 24, "hour")]
    words = [units.format_unit(n, f"duration-{unit}", length="narrow", locale=loc) for n, unit in parts]
    return lists.format_list(words, style="unit-narrow", locale=loc)
