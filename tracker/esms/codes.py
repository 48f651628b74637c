"""What eSMS result codes, Zalo ZNS error codes and the tracker's own codes mean."""

from __future__ import annotations

import re

# eSMS CodeResult / CodeResponse values that matter for Zalo sends (REFERENCE section 3).
CODE_RESULTS: dict[str, str] = {
    "99": "Phone number is blocked",
    "100": "Request accepted by eSMS",
    "101": "Wrong ApiKey or SecretKey",
    "102": "No price list for the account",
    "103": "Balance too low",
    "105": "SMSID not found (a just-sent message is not queryable at once)",
    "108": "Phone number format is invalid",
    "118": "Message type not supported",
    "124": "Duplicate RequestId (within 24 hours)",
    "140": "Caller's IP address is not whitelisted",
    "143": "Account inactive or locked",
    "160": "Too many requests per second (status queries)",
    "204": "OAID does not exist",
    "789": "Template not configured for this OAID",
    "790": "Wrong ZNS template",
    "791": "OAID or TempID missing",
    "799": "OAID inactive, wrong, or not added to the account",
    "801": "Over-quota mode does not allow scheduled sends",
    "802": "OA not allowed to send in over-quota mode",
    "851": "MessageId or SMSID missing",
    "854": "No data found",
}

# Zalo ZNS results carried in a callback's error_info or a status query's ErrorInfo.
# Only codes whose meaning is well established are listed; others fall back to
# "Unknown code ...", which is better than a confident wrong explanation.
ZALO_ERRORS: dict[str, str] = {
    "0": "Delivered (Zalo success)",
    "-100": "Zalo unknown error",
    "-101": "Zalo application is invalid",
    "-102": "Zalo application does not exist",
    "-103": "Zalo application is not activated",
    "-104": "Zalo application secret key is invalid",
    "-105": "Zalo application is not linked to any OA",
    "-106": "Zalo method not supported",
    "-107": "Zalo message id is invalid",
    "-108": "Phone number is invalid",
    "-109": "ZNS template id is invalid",
    "-110": "Recipient's Zalo version is not supported",
    "-111": "ZNS template has no data",
    "-112": "ZNS template data is invalid",
    "-114": "User is inactive, rejected the message, uses an outdated Zalo version, "
    "or another Zalo internal error",
    "-115": "Out of ZNS quota (insufficient balance)",
    "-116": "Message text is invalid",
    "-117": "OA or app has no permission to use this template",
    "-118": "Zalo account does not exist or is deactivated",
    "-119": "Zalo account cannot receive ZNS messages",
    "-124": "Zalo access token is invalid",
    "-131": "ZNS template is not approved",
    "-133": "This ZNS template cannot be sent at night",
    "-137": "Zalo charge failed",
    "-139": "User refused to receive this type of ZNS message",
    "1001": "User was not online on Zalo within the allowed time",
}

# Codes the tracker itself writes into error_code.
TRANSPORT = "transport"
TIMEOUT = "timeout"
SEND_FAILED = "send_failed"
STATUS4 = "status4"
OWN_CODES: dict[str, str] = {
    TRANSPORT: "Sending given up after repeated transport failures",
    TIMEOUT: "No final status within the tracking horizon",
    SEND_FAILED: "eSMS reported the message as failed",
    STATUS4: "eSMS rejected the message (SendStatus 4)",
}

# Per-attempt codes of the HTTP client (SendResult.code); "timeout" is in OWN_CODES.
CLIENT_CODES: dict[str, str] = {
    "connection": "Could not connect to eSMS",
    "bad_response": "eSMS gave an answer that could not be understood",
}

_HTTP_CODE = re.compile(r"http_([0-9]{3})")


def describe(code: str | None) -> str:
    """Meaning of any code the tracker may store, in words."""
    if code is None:
        return "No code"
    key = str(code).strip()
    for table in (OWN_CODES, CODE_RESULTS, ZALO_ERRORS, CLIENT_CODES):
        if key in table:
            return table[key]
    match = _HTTP_CODE.fullmatch(key)
    if match:
        return f"eSMS answered HTTP {match.group(1)}"
    return f"Unknown code {key}"
