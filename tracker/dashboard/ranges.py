"""The overview's time ranges (last hour, today, 24 hours, 7 and 30 days, custom) on the tracker's clock.

"Today" starts at local midnight in TRACKER_TIMEZONE, and a custom range's times are
read as local times; the bounds themselves are UTC instants, as stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from tracker.dashboard import formats
from tracker.db import utcnow

PRESETS = {
    "1h": lazy_gettext("Last hour"),
    "today": lazy_gettext("Today"),
    "24h": lazy_gettext("Last 24 hours"),
    "7d": lazy_gettext("Last 7 days"),
    "30d": lazy_gettext("Last 30 days"),
    "custom": lazy_gettext("Custom"),
}
DEFAULT = "24h"
_SPANS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# Keeps a custom range from asking for years of daily bars.
MAX_CUSTOM = timedelta(days=400)


@dataclass(frozen=True)
class Range:
    key: str
    since: datetime
    until: datetime
    error: str | None = None
    since_text: str = ""
    until_text: str = ""

    @property
    def label(self) -> str:
        if self.key == "custom":
            return f"{formats.when_minutes(self.since)} – {formats.when_minutes(self.until)}"
        return str(PRESETS[self.key])

    def args(self) -> dict[str, str]:
        """Query arguments that name this range again (for links and the live endpoint)."""
        if self.key == "custom":
            return {"range": "custom", "since": self.since_text, "until": self.until_text}
        return {} if self.key == DEFAULT else {"range": self.key}


def parse_time(raw: str | None) -> datetime | None:
    """A time from a form or a link (local unless it has an offset), as UTC; None when empty."""
    return formats.parse_local(raw)


def local_midnight(now: datetime) -> datetime:
    """The start of ``now``'s day on the tracker's clock, as an instant."""
    day = formats.local(now).date()
    return datetime.combine(day, time(0), tzinfo=formats.zone()).astimezone(UTC)


def from_args(args: Mapping[str, str], now: datetime | None = None) -> Range:
    """The range named by ``range`` (and ``since``/``until`` for custom); the default when invalid."""
    now = now or utcnow()
    key = args.get("range") or DEFAULT
    if key == "custom":
        since_text, until_text = args.get("since", ""), args.get("until", "")
        try:
            since, until = parse_time(since_text), parse_time(until_text) or now
        except ValueError:
            return _preset(DEFAULT, now, error=_("The custom range's times could not be read."))
        if since is None:
            return _preset(DEFAULT, now, error=_("A custom range needs a start time."))
        if until <= since:
            return _preset(DEFAULT, now, error=_("A custom range must end after it starts."))
        if until - since > MAX_CUSTOM:
            return _preset(
                DEFAULT, now, error=_("A custom range may span at most %(days)s days.", days=MAX_CUSTOM.days)
            )
        return Range("custom", since, until, since_text=since_text, until_text=until_text or "")
    if key not in PRESETS:
        return _preset(DEFAULT, now, error=_("Unknown range; showing the last 24 hours."))
    return _preset(key, now)


def _preset(key: str, now: datetime, error: str | None = None) -> Range:
    since = local_midnight(now) if key == "today" else now - _SPANS[key]
    # The end is exclusive; a microsecond later keeps a message stored "now" inside.
    return Range(
        key,
        since,
        now + timedelta(microseconds=1),
        error=error,
        since_text=formats.input_value(since),
        until_text=formats.input_value(now),
    )
