"""tracker.schemas: what a new message may carry (NewMessage) and pydantic's errors as field messages; pure."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tracker.schemas import MAX_PARAM_CHARS, MAX_PARAMS, NewMessage, field_errors

GOOD = {"phone": "0901888484", "template_id": "523194", "params": ["Nguyễn Văn An", " DH1 "], "order_id": "DH1"}


def errors_of(**changes) -> dict[str, str]:
    body = {**GOOD, **changes}
    body = {k: v for k, v in body.items() if v is not ...}
    with pytest.raises(ValidationError) as caught:
        NewMessage.model_validate(body)
    return field_errors(caught.value)


def test_a_good_message_is_kept_as_given_with_its_phone_in_e164():
    msg = NewMessage.model_validate({**GOOD, "oa_id": "1", "campaign_id": "c", "request_id": "r", "sandbox": True})
    assert msg.phone == "+84901888484"
    assert msg.params == ["Nguyễn Văn An", " DH1 "]  # not stripped: eSMS gets them exactly
    assert (msg.oa_id, msg.campaign_id, msg.request_id, msg.sandbox) == ("1", "c", "r", True)


def test_optional_fields_default_to_none():
    msg = NewMessage.model_validate(GOOD)
    assert (msg.oa_id, msg.campaign_id, msg.request_id, msg.sandbox) == (None, None, None, None)


@pytest.mark.parametrize("phone", ["0901888484", "+84901888484", "84901888484", "090 188 8484"])
def test_usual_phone_forms_are_accepted(phone):
    assert NewMessage.model_validate({**GOOD, "phone": phone}).phone == "+84901888484"


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"phone": ...}, "phone", "Field required"),
        ({"phone": "12"}, "phone", "not"),
        ({"phone": "+14155550100"}, "phone", "not a Vietnamese number (+84)"),
        ({"phone": 901888484}, "phone", "Input should be a valid string"),
        ({"template_id": ""}, "template_id", "at least 1 character"),
        ({"template_id": "x" * 65}, "template_id", "at most 64 characters"),
        ({"template_id": 523194}, "template_id", "Input should be a valid string"),
        ({"oa_id": "x" * 65}, "oa_id", "at most 64 characters"),
        ({"order_id": ...}, "order_id", "Field required"),
        ({"order_id": "x" * 129}, "order_id", "at most 128 characters"),
        ({"campaign_id": "x" * 255}, "campaign_id", "at most 254 characters"),
        ({"request_id": "x" * 51}, "request_id", "at most 50 characters"),
        ({"request_id": ""}, "request_id", "at least 1 character"),
        ({"sandbox": "yes"}, "sandbox", "Input should be a valid boolean"),
        ({"sandbox": 1}, "sandbox", "Input should be a valid boolean"),
        ({"params": "a"}, "params", "Input should be a valid list"),
        ({"params": ["a"] * (MAX_PARAMS + 1)}, "params", f"at most {MAX_PARAMS} items"),
        ({"params": ["a", 5]}, "params[1]", "Input should be a valid string"),
        ({"params": ["x" * (MAX_PARAM_CHARS + 1)]}, "params[0]", f"at most {MAX_PARAM_CHARS} characters"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"order_id": "DH\0"}, "order_id", "must not contain NUL characters"),
        ({"params": ["ok", "a\0b"]}, "params", "must not contain NUL characters"),
    ],
)
def test_each_bad_field_is_named_with_its_message(changes, field, message):
    errors = errors_of(**changes)
    assert field in errors, errors
    assert message in errors[field]


def test_limits_themselves_are_allowed():
    NewMessage.model_validate(
        {
            **GOOD,
            "params": ["x" * MAX_PARAM_CHARS] * MAX_PARAMS,
            "template_id": "x" * 64,
            "order_id": "x" * 128,
            "campaign_id": "x" * 254,
            "request_id": "x" * 50,
        }
    )


def test_field_errors_keeps_the_first_message_per_field_and_strips_value_error():
    errors = errors_of(phone="abc", template_id="", order_id=5)
    assert set(errors) == {"phone", "template_id", "order_id"}
    assert not errors["phone"].startswith("Value error")
    assert all(isinstance(m, str) for m in errors.values())


def test_field_errors_of_a_body_that_is_not_an_object():
    with pytest.raises(ValidationError) as caught:
        NewMessage.model_validate(["not", "an", "object"])
    assert list(field_errors(caught.value)) == ["body"]
