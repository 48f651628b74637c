"""eSMS edge of the tracker: HTTP client, callback parsing, SendStatus mapping, codes (no Flask, no DB)."""

from tracker.esms.answers import GetCallbackResult, StatusAnswer
from tracker.esms.callback import Callback, parse_callback
from tracker.esms.client import EsmsClient, SendResult, make_client
from tracker.esms.codes import CODE_RESULTS, ZALO_ERRORS, describe
from tracker.esms.error_info import ErrorInfo, decode_error_info
from tracker.esms.statuses import from_send_status

__all__ = [
    "CODE_RESULTS",
    "ZALO_ERRORS",
    "Callback",
    "ErrorInfo",
    "EsmsClient",
    "GetCallbackResult",
    "SendResult",
    "StatusAnswer",
    "decode_error_info",
    "describe",
    "from_send_status",
    "make_client",
    "parse_callback",
]
