"""The simulator's settings and their validated update from JSON.

The defaults are eSMS as its documents describe it (esms-api/callback-url.md: one callback
with the final status); everything that departs from that is asked for by a setting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OUTCOMES: tuple[str, ...] = ("delivered", "failed", "rejected")

# Fields holding a probability; each must stay within [0, 1].
RATE_FIELDS: frozenset[str] = frozenset(
    {
        "drop_callback_rate",
        "duplicate_callback_rate",
        "reorder_rate",
        "send_5xx_rate",
        "send_timeout_rate",
        "early_callback_rate",
        "delivered_rate",
        "failed_rate",
        "rejected_rate",
        "natural_duplicate_rate",
        "natural_late_rate",
        "natural_lost_rate",
    }
)

# Never echoed back by the control API, even though they are fake credentials.
SECRET_FIELDS: frozenset[str] = frozenset({"secret_key"})


@dataclass
class SimSettings:
    """How the fake eSMS behaves; every field can be changed at runtime."""

    seed: int | None = None
    # Multiplies every callback delay (not timeout_delay); 0 = as fast as possible.
    speed: float = 1.0
    # When set, only this pair is accepted; otherwise any non-empty pair is.
    api_key: str | None = None
    secret_key: str | None = None
    # None: any TempID made of digits is configured.
    templates: set[str] | None = None
    # None: any OAID is added to the account; otherwise sends from others get 799.
    oa_ids: set[str] | None = None
    # Also call back the non-final SendStatus values (1, 2, 7) a message passes through.
    # eSMS calls back once, with the final status (callback-url.md); real traffic may still
    # carry the others, so the tracker's tests ask for them here.
    intermediate_statuses: bool = False
    # Fault injection (the chaos test); all off by default.
    drop_callback_rate: float = 0.0
    duplicate_callback_rate: float = 0.0
    reorder_rate: float = 0.0
    send_5xx_rate: float = 0.0
    send_timeout_rate: float = 0.0
    early_callback_rate: float = 0.0
    # How long an injected send timeout holds the (already accepted) response.
    timeout_delay: float = 15.0
    # Outcome mix; normalised, so they need not sum to exactly 1. "rejected" is SendStatus 4,
    # which no eSMS sample shows: off unless asked for.
    delivered_rate: float = 0.90
    failed_rate: float = 0.10
    rejected_rate: float = 0.0
    # Seconds a 1001 failure ("not online within the template's timeout") takes, scaled by
    # speed; GetZnsTemplateInfo reports it as Timeout (its sample: 7200000 ms).
    template_timeout: float = 7200.0
    # None: journey tokens never expire; otherwise a journey (OAID, phone, OrderId) sent to
    # again this many seconds after its first message fails with Zalo's -150.
    journey_token_ttl: float | None = None
    # Account balance (GetBalance_json); a send the balance cannot pay for gets 103.
    balance: float = 100_000_000.0
    # ZNS per OA per day (ZNS/GetQuota); sends beyond it fail with Zalo's -144.
    daily_quota: int = 100_000
    # Per-attempt HTTP timeout of a callback; only timeouts are retried.
    callback_timeout: float = 5.0
    callback_retries: int = 5
    callback_retry_delay: float = 2.0
    # Realism that exists without fault injection (set to 0 for exact sequences).
    natural_duplicate_rate: float = 0.03
    natural_late_rate: float = 0.03
    natural_lost_rate: float = 0.01
    # eSMS blocks a repeated RequestId for 24 hours.
    request_id_ttl: float = 86400.0
    # 160 above the documented rates: QueryZnsStatus 100/s, GetZaloMessageStatus 30/s, GetCallback 20/s.
    tps_limits: bool = True
    # Phone (as sent) -> CodeResult forced on its sends, e.g. {"0901000789": "789"}.
    forced_codes: dict[str, str] = field(default_factory=dict)
    # Phone (as sent) -> "delivered" | "failed" | "rejected", optionally ":<zalo code>".
    forced_outcomes: dict[str, str] = field(default_factory=dict)


_NUMBERS = frozenset(
    {"speed", "timeout_delay", "callback_timeout", "callback_retry_delay", "request_id_ttl"}
    | {"template_timeout", "balance"}
)
_OPTIONAL_NUMBERS = frozenset({"journey_token_ttl"})


class SettingsError(ValueError):
    """A control-API update named an unknown field or gave a bad value."""


def _coerce(name: str, value: Any) -> Any:
    if name in RATE_FIELDS:
        rate = float(value)
        if not 0.0 <= rate <= 1.0:
            raise SettingsError(f"{name} must be between 0 and 1")
        return rate
    if name in _NUMBERS or (name in _OPTIONAL_NUMBERS and value is not None):
        number = float(value)
        if number < 0:
            raise SettingsError(f"{name} must not be negative")
        return number
    if name in _OPTIONAL_NUMBERS:
        return None
    if name in {"callback_retries", "daily_quota"}:
        return max(0, int(value))
    if name == "seed":
        return None if value is None else int(value)
    if name in {"api_key", "secret_key"}:
        return None if value in (None, "") else str(value)
    if name in {"templates", "oa_ids"}:
        if value is None:
            return None
        if not isinstance(value, (list, tuple, set)):
            raise SettingsError(f"{name} must be a list or null")
        return {str(v) for v in value}
    if name in {"tps_limits", "intermediate_statuses"}:
        if not isinstance(value, (bool, int)):
            raise SettingsError(f"{name} must be true or false")
        return bool(value)
    if name in {"forced_codes", "forced_outcomes"}:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise SettingsError(f"{name} must be an object")
        mapping = {str(k): str(v) for k, v in value.items()}
        if name == "forced_outcomes":
            for outcome in mapping.values():
                if outcome.split(":", 1)[0] not in OUTCOMES:
                    raise SettingsError(f"forced_outcomes values must be one of {OUTCOMES}")
        return mapping
    raise SettingsError(f"unknown setting {name!r}")


def updated(settings: SimSettings, changes: dict[str, Any]) -> SimSettings:
    """A copy of ``settings`` with ``changes`` applied; raises SettingsError."""
    known = {f.name for f in dataclasses.fields(SimSettings)}
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in known:
            raise SettingsError(f"unknown setting {name!r}")
        try:
            clean[name] = _coerce(name, value)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{name}: {exc}") from exc
    return dataclasses.replace(settings, **clean)


def public_view(settings: SimSettings) -> dict[str, Any]:
    """Settings as JSON, with the secret masked."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(SimSettings):
        value = getattr(settings, f.name)
        if f.name in SECRET_FIELDS and value is not None:
            value = "***"
        elif isinstance(value, set):
            value = sorted(value)
        elif isinstance(value, dict):
            value = dict(value)
        out[f.name] = value
    return out
