"""Parse one eSMS delivery callback into typed fields, never raising."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from tracker import status as st
from tracker.esms import codes
from tracker.esms.error_info import decode_error_info
from tracker.esms.statuses import VALID_SEND_STATUSES, from_send_status
from tracker.esms.values import as_text, parse_decimal, parse_int

MAX_VALUE_CHARS = 4096
MAX_EXTRA_PARAMS = 100
# Widths of the columns these land in (tracker/models/messages.py); anything longer is not eSMS's, and
# PostgreSQL would refuse it with an error (a 5xx, and a lost callback).
MAX_PRICE = 10**10
_COLUMN_CHARS = {"smsid": 64, "partner_ids": 64, "oa_id": 64, "template_id": 64}
TELCOS: dict[int, str] = {
    1: "Viettel",
    2: "Mobifone",
    3: "Vinaphone",
    4: "Vietnamobile",
    5: "Gtel",
    6: "Itel",
    7: "Reddi",
    9: "Zalo UID",
}

# Lower-case parameter -> (display name, Callback field).
_TEXT_PARAMS = {
    "smsid": ("SMSID", "smsid"),
    "requestid": ("RequestId", "request_id"),
    "phonenumber": ("phonenumber", "phone"),
    "partnerids": ("partnerids", "partner_ids"),
    "oaid": ("oaid", "oa_id"),
    "tempid": ("tempid", "template_id"),
    "error_info": ("error_info", "error_info_raw"),
}
_INT_PARAMS = {
    "sendstatus": ("SendStatus", "send_status"),
    "sendsuccess": ("SendSuccess", "send_success"),
    "sendfailed": ("SendFailed", "send_failed"),
    "totalreceiver": ("TotalReceiver", "total_receiver"),
    "totalsent": ("TotalSent", "total_sent"),
    "typeid": ("TypeId", "type_id"),
    "telcoid": ("telcoid", "telco_id"),
}
_PRICE_PARAM = "totalprice"
_KNOWN = frozenset(_TEXT_PARAMS) | frozenset(_INT_PARAMS) | {_PRICE_PARAM}


@dataclass(frozen=True)
class Callback:
    """One delivery callback, parsed; `problems` lists everything that was wrong with it."""

    smsid: str | None = None
    send_status: int | None = None
    send_success: int | None = None
    send_failed: int | None = None
    total_price: Decimal | None = None
    total_receiver: int | None = None
    total_sent: int | None = None
    request_id: str | None = None
    type_id: int | None = None
    telco_id: int | None = None
    phone: str | None = None
    partner_ids: str | None = None
    oa_id: str | None = None
    template_id: str | None = None
    error_info_raw: str | None = None
    zalo_error: int | None = None
    zalo_message: str | None = None
    zalo_data: dict[str, Any] | None = None
    error_info_note: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def status(self) -> str | None:
        """The tracker status word, or None when the callback carries no usable status."""
        if self.smsid is None or self.send_status not in VALID_SEND_STATUSES:
            return None
        return from_send_status(self.send_status, self.send_success, self.send_failed)

    @property
    def telco(self) -> str | None:
        if self.telco_id is None:
            return None
        return TELCOS.get(self.telco_id, str(self.telco_id))

    def _error(self) -> tuple[str | None, str | None]:
        status = self.status
        if status not in (st.FAILED, st.REJECTED):
            return None, None
        if self.zalo_error:  # a non-zero Zalo code is the most precise reason there is
            code = str(self.zalo_error)
            return code, self.zalo_message or codes.describe(code)
        code = codes.SEND_FAILED if status == st.FAILED else codes.STATUS4
        return code, codes.describe(code)

    @property
    def error_code(self) -> str | None:
        return self._error()[0]

    @property
    def error_message(self) -> str | None:
        return self._error()[1]

    def to_dict(self) -> dict[str, Any]:
        """Parsed and derived fields, JSON-safe (price as a string)."""
        # Shallow: dataclasses.asdict deep-copies every field, which cost the webhook as much
        # as parsing the callback (bench/README.md). Nothing below the dicts is ever changed.
        out: dict[str, Any] = {name: getattr(self, name) for name in _FIELD_NAMES}
        out["extra"] = dict(self.extra)
        if self.zalo_data is not None:
            out["zalo_data"] = dict(self.zalo_data)
        out["total_price"] = None if self.total_price is None else str(self.total_price)
        out["problems"] = list(self.problems)
        out["status"] = self.status
        out["telco"] = self.telco
        out["error_code"], out["error_message"] = self._error()
        return out


_FIELD_NAMES = tuple(f.name for f in fields(Callback))


def _items(params: object, problems: list[str]) -> list[tuple[object, object]]:
    if isinstance(params, Mapping) or hasattr(params, "items"):
        try:
            return list(params.items())
        except Exception:  # a broken mapping is still just a bad callback
            pass
    problems.append("callback parameters are not a mapping")
    return []


def _without_nul(value: Any) -> Any:
    # Decoded JSON may hold "\u0000", which PostgreSQL JSON and text columns refuse.
    if isinstance(value, str):
        return value.replace("\0", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _parse(params: Mapping[str, str]) -> Callback:
    problems: list[str] = []
    values: dict[str, str | None] = {}
    extra: dict[str, str] = {}
    seen: set[str] = set()
    dropped = False
    for key, raw in _items(params, problems):
        name = key if isinstance(key, str) else (as_text(key)[0] or "")
        lower = name.strip().lower()
        label = name[:60].replace("\0", "")  # problems are stored; NUL never is
        if lower in seen:
            problems.append(f"{label!r} given more than once; first kept")
            continue
        seen.add(lower)
        text, problem = as_text(raw)
        if problem:
            problems.append(f"{label}: {problem}")
        if text is not None and len(text) > MAX_VALUE_CHARS:
            text = text[:MAX_VALUE_CHARS]
            problems.append(f"{label}: value truncated to {MAX_VALUE_CHARS} characters")
        if text is not None and "\0" in text:
            # PostgreSQL text cannot hold NUL; a stored callback must never fail on it.
            text = text.replace("\0", "")
            problems.append(f"{label}: NUL characters removed")
        if lower in _KNOWN:
            values[lower] = text
        elif len(extra) < MAX_EXTRA_PARAMS:
            extra[name[:MAX_VALUE_CHARS].replace("\0", "")] = text or ""
        elif not dropped:
            dropped = True
            problems.append(f"more than {MAX_EXTRA_PARAMS} unknown parameters; the rest dropped")

    fields: dict[str, Any] = {}
    for lower, (_, attr) in _TEXT_PARAMS.items():
        fields[attr] = (values.get(lower) or "").strip() or None
        if attr in _COLUMN_CHARS and fields[attr] and len(fields[attr]) > _COLUMN_CHARS[attr]:
            problems.append(f"{_TEXT_PARAMS[lower][0]}: longer than {_COLUMN_CHARS[attr]} characters; ignored")
            fields[attr] = None
    if fields["smsid"] is None:
        problems.append("SMSID is missing")

    for lower, (label, attr) in _INT_PARAMS.items():
        number, problem = parse_int(values.get(lower))
        fields[attr] = number
        if problem:
            problems.append(f"{label}: {problem}")
        elif attr == "send_status" and number is None:
            problems.append("SendStatus is missing")
        elif attr == "send_status" and number not in VALID_SEND_STATUSES:
            problems.append(f"SendStatus {number} is not one of 1, 2, 4, 5, 7")

    fields["total_price"], problem = parse_decimal(values.get(_PRICE_PARAM))
    if fields["total_price"] is not None and fields["total_price"] >= MAX_PRICE:
        fields["total_price"], problem = None, f"{fields['total_price']} is out of range"
    if problem:
        problems.append(f"TotalPrice: {problem}")

    if fields["error_info_raw"] is not None:
        info = decode_error_info(fields["error_info_raw"])
        fields["error_info_note"] = info.note
        if info.problem:
            problems.append(info.problem)
        data = _without_nul(info.data or {})
        if "error" in data:
            fields["zalo_error"], problem = parse_int(data["error"], allow_negative=True)
            if problem:
                problems.append(f"error_info error: {problem}")
        message = data.get("message")
        fields["zalo_message"] = (message.strip() or None) if isinstance(message, str) else None
        inner = data.get("data")
        fields["zalo_data"] = inner if isinstance(inner, dict) else None

    return Callback(**fields, extra=extra, problems=tuple(problems))


def parse_callback(params: Mapping[str, str]) -> Callback:
    """Parse one callback's parameters (keys in any case, values URL-decoded once)."""
    try:
        return _parse(params)
    except Exception as exc:  # a webhook must store what it got, never fail on it
        return Callback(problems=(f"callback could not be parsed ({type(exc).__name__})",))
