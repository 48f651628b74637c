"""The overview's time ranges (last hour, today, 24 hours, 7 and 30 days, custom), all in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping

from tracker.db import utcnow

PRESETS: dict[str, str] = {
    "1h": "Last hour",
    "today": "Today (UTC)",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "custom": "Custom",
}
DEFAULT = "24h"
_SPANS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# Keeps a custom range from asking for years of daily bars.
MAX_CUSTOM = timedelta(days=400)
INPUT_FORMAT = "%Y-%m-%dT%H:%M"


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
            return f"{self.since:%Y-%m-%d %H:%M} – {self.until:%Y-%m-%d %H:%M} UTC"
        return PRESETS[self.key]

    def args(self) -> dict[str, str]:
        """Query arguments that name this range again (for links and the live endpoint)."""
        if self.key == "custom":
            return {"range": "custom", "since": self.since_text, "until": self.until_text}
        return {} if self.key == DEFAULT else {"range": self.key}


def parse_time(raw: str | None) -> datetime | None:
    """A datetime-local value (or ISO 8601) as UTC; None when empty; ValueError when unreadable."""
    if not raw or not raw.strip():
        return None
    value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def from_args(args: Mapping[str, str], now: datetime | None = None) -> Range:
    """The range named by ``range`` (and ``since``/``until`` for custom); the default when invalid."""
    now = now or utcnow()
    key = args.get("range") or DEFAULT
    if key == "custom":
        since_text, until_text = args.get("since", ""), args.get("until", "")
        try:
            since, until = parse_time(since_text), parse_time(until_text) or now
        except ValueError:
            return _preset(DEFAULT, now, error="The custom range's times could not be read.")
        if since is None:
            return _preset(DEFAULT, now, error="A custom range needs a start time.")
        if until <= since:
            return _preset(DEFAULT, now, error="A custom range must end after it starts.")
        if until - since > MAX_CUSTOM:
            return _preset(DEFAULT, now, error=f"A custom range may span at most {MAX_CUSTOM.days} days.")
        return Range("custom", since, until, since_text=since_text, until_text=until_text or "")
    if key not in PRESETS:
        return _preset(DEFAULT, now, error="Unknown range; showing the last 24 hours.")
    return _preset(key, now)


def _preset(key: str, now: datetime, error: str | None = None) -> Range:
    if key == "today":
        since = now.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        since = now - _SPANS[key]
    # The end is exclusive; a microsecond later keeps a message stored "now" inside.
    return Range(key, since, now + timedelta(microseconds=1), error=error,
                 since_text=f"{since:{INPUT_FORMAT}}", until_text=f"{now:{INPUT_FORMAT}}")
