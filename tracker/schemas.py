"""Validation of what clients send (pydantic), shared by the API, CLI and CSV import."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    StrictBool,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from tracker import phones

MAX_PARAMS = 30
MAX_PARAM_CHARS = 1000

Short = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class NewMessage(BaseModel):
    """A journey message to queue (SPEC section 3)."""

    # No whitespace stripping: params must reach eSMS exactly as given.
    model_config = ConfigDict(extra="forbid")

    phone: Annotated[StrictStr, Field(description="Vietnamese mobile in any usual form", examples=["0901888484"])]
    template_id: Short
    oa_id: Short | None = None
    params: Annotated[list[Annotated[StrictStr, Field(max_length=MAX_PARAM_CHARS)]], Field(max_length=MAX_PARAMS)]
    order_id: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    campaign_id: Annotated[StrictStr, Field(min_length=1, max_length=254)] | None = None
    request_id: Annotated[StrictStr, Field(min_length=1, max_length=50)] | None = None
    sandbox: StrictBool | None = None
    # The phone as the client wrote it when it was an old 11-digit number that ``phone`` holds
    # converted (issue 11): queue.py keeps it in the message's "queue" event. Not a field, so
    # no client can set it.
    _phone_given: str | None = PrivateAttr(default=None)

    @property
    def phone_given(self) -> str | None:
        return self._phone_given

    @model_validator(mode="wrap")
    @classmethod
    def _keep_old_phone(cls, data: Any, handler: ModelWrapValidatorHandler[NewMessage]) -> NewMessage:
        model = handler(data)
        raw = data.get("phone") if isinstance(data, dict) else None
        if isinstance(raw, str) and phones.converted(raw) is not None:
            model._phone_given = raw
        return model

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return phones.normalize(value)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text refuses NUL: let it through and it comes back as a 500.
        if any(isinstance(t, str) and "\0" in t for t in (value if isinstance(value, list) else [value])):
            raise ValueError("must not contain NUL characters")
        return value


def field_errors(exc: ValidationError) -> dict[str, str]:
    """pydantic's errors as ``{"field": "message"}``, the first message per field."""
    out: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        name = str(loc[0]) if loc else "body"
        if len(loc) > 1:
            name += "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        out.setdefault(name, msg)
    return out
