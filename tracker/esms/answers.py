"""What eSMS's status APIs answer, as the client hands it on: one StatusAnswer per message, and
GetCallback's list of them; with the JSON keys each field is read from."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tracker.esms.values import flag_of, int_of, parse_decimal, text_of


@dataclass
class StatusAnswer:
    """One message's status as a status API reported it, or why there is none."""

    ok: bool
    code: str | None
    smsid: str | None = None
    send_status: int | None = None
    send_success: int | None = None
    send_failed: int | None = None
    total_price: Decimal | None = None
    total_receiver: int | None = None
    total_sent: int | None = None
    error_info: str | None = None
    final: bool | None = None
    zalo_msg_id: str | None = None
    type_id: int | None = None
    telco_id: int | None = None
    phone: str | None = None
    partner_ids: str | None = None
    oa_id: str | None = None
    template_id: str | None = None
    callback_url: str | None = None
    transport: bool = False
    error: str | None = None
    http_status: int | None = None
    elapsed_ms: float = 0.0
    raw: dict[str, Any] = field(default_factory=dict)

    def to_callback_params(self) -> dict[str, str]:
        """The answer as callback parameters, so `parse_callback` applies the same rules."""
        pairs = {
            "SMSID": self.smsid,
            "SendStatus": self.send_status,
            "SendSuccess": self.send_success,
            "SendFailed": self.send_failed,
            "TotalPrice": self.total_price,
            "TotalReceiver": self.total_receiver,
            "TotalSent": self.total_sent,
            "TypeId": self.type_id,
            "telcoid": self.telco_id,
            "phonenumber": self.phone,
            "partnerids": self.partner_ids or self.zalo_msg_id,
            "error_info": self.error_info,
            "oaid": self.oa_id,
            "tempid": self.template_id,
        }
        return {key: str(value) for key, value in pairs.items() if value is not None}


@dataclass
class GetCallbackResult:
    """Answer of ZaloCallback/GetCallback: one StatusAnswer per SMSID eSMS knows."""

    ok: bool
    code: str | None
    answers: list[StatusAnswer] = field(default_factory=list)
    error: str | None = None
    transport: bool = False
    http_status: int | None = None
    elapsed_ms: float = 0.0


# StatusAnswer field -> (parser, JSON keys in any of the three status APIs).
ANSWER_FIELDS: dict[str, tuple[Any, ...]] = {
    "smsid": (text_of, "SMSID", "RefId"),
    "send_status": (int_of, "SendStatus"),
    "send_success": (int_of, "SendSuccess"),
    "send_failed": (int_of, "SendFailed"),
    "total_price": (lambda v: parse_decimal(v)[0], "TotalPrice"),
    "total_receiver": (int_of, "TotalReceiver"),
    "total_sent": (int_of, "TotalSent"),
    "error_info": (text_of, "ErrorInfo", "error_info"),
    "final": (flag_of, "FinalStatus"),
    "zalo_msg_id": (text_of, "ZaloMsgId"),
    "type_id": (int_of, "TypeId"),
    "telco_id": (int_of, "Telcoid"),
    "phone": (text_of, "PhoneNumber", "Phone"),
    "partner_ids": (text_of, "Partnerids"),
    "oa_id": (text_of, "OAId"),
    "template_id": (text_of, "ZnsTempId", "TempId"),
    "callback_url": (text_of, "CallbackUrl"),
}
