"""The simulator's settings (tracker/simulator/settings.py): defaults, the validated update, the public view.

The defaults follow esms-api/callback-url.md (repository devesms/gitbook_esms_for_develop_v2):
one callback, with the final status; everything else is asked for by a setting.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tracker.simulator.settings import RATE_FIELDS, SECRET_FIELDS, SettingsError, SimSettings, public_view, updated

FIELDS = {f.name for f in dataclasses.fields(SimSettings)}


def test_defaults_follow_esms() -> None:
    """callback-url.md: one callback, final status; no eSMS sample shows a SendStatus 4, so
    rejections are off; the natural duplicate, late and lost callbacks are on."""
    defaults = SimSettings()
    assert defaults.intermediate_statuses is False and defaults.rejected_rate == 0.0
    assert defaults.natural_duplicate_rate > 0 and defaults.natural_late_rate > 0 and defaults.natural_lost_rate > 0
    assert defaults.template_timeout == 7200.0  # GetZnsTemplateInfo's sample Timeout, 7200000 ms


def test_the_rate_and_secret_fields_are_settings() -> None:
    assert RATE_FIELDS <= FIELDS and SECRET_FIELDS <= FIELDS
    assert all(isinstance(getattr(SimSettings(), name), float) for name in RATE_FIELDS)


@pytest.mark.parametrize(
    ("name", "value", "stored"),
    [
        ("drop_callback_rate", "0.5", 0.5),
        ("drop_callback_rate", 1, 1.0),
        ("speed", "2", 2.0),
        ("balance", 0, 0.0),
        ("journey_token_ttl", "30", 30.0),
        ("journey_token_ttl", None, None),
        ("callback_retries", -3, 0),
        ("daily_quota", "7", 7),
        ("seed", "42", 42),
        ("seed", None, None),
        ("api_key", "", None),
        ("secret_key", 123, "123"),
        ("templates", ["111", 222], {"111", "222"}),
        ("oa_ids", None, None),
        ("tps_limits", 0, False),
        ("intermediate_statuses", True, True),
        ("forced_codes", {"0901": 789}, {"0901": "789"}),
        ("forced_codes", None, {}),
        ("forced_outcomes", {"0901": "failed:-118"}, {"0901": "failed:-118"}),
    ],
)
def test_updated_coerces_each_kind_of_field(name: str, value: Any, stored: Any) -> None:
    before = SimSettings()
    after = updated(before, {name: value})
    assert getattr(after, name) == stored
    assert after is not before and getattr(before, name) == getattr(SimSettings(), name)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nonsense": 1}, "unknown setting 'nonsense'"),
        ({"drop_callback_rate": 2}, "between 0 and 1"),
        ({"failed_rate": -0.1}, "between 0 and 1"),
        ({"delivered_rate": "lots"}, "delivered_rate:"),
        ({"template_timeout": -1}, "must not be negative"),
        ({"journey_token_ttl": -1}, "must not be negative"),
        ({"templates": "111"}, "a list or null"),
        ({"intermediate_statuses": "yes"}, "true or false"),
        ({"forced_codes": ["0901"]}, "an object"),
        ({"forced_outcomes": {"0901": "lost"}}, "forced_outcomes values"),
        ({"daily_quota": "many"}, "daily_quota:"),
    ],
)
def test_updated_refuses_unknown_fields_and_bad_values(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        updated(SimSettings(), changes)


def test_public_view_is_json_with_the_secret_masked() -> None:
    settings = SimSettings(secret_key="s3cret", api_key="k", templates={"2", "1"}, forced_codes={"0901": "789"})
    view = public_view(settings)
    assert set(view) == FIELDS
    assert view["secret_key"] == "***" and view["api_key"] == "k"
    assert view["templates"] == ["1", "2"] and view["oa_ids"] is None
    assert view["forced_codes"] == {"0901": "789"} and view["forced_codes"] is not settings.forced_codes
    assert public_view(SimSettings())["secret_key"] is None
