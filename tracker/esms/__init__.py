"""eSMS edge of the tracker: callback parsing, code meanings and the HTTP client (no Flask, no DB)."""

from tracker.esms.callback import Callback, ErrorInfo, decode_error_info, parse_callback
from tracker.esms.client import EsmsClient, GetCallbackResult, SendResult, StatusAnswer
from tracker.esms.codes import CODE_RESULTS, ZALO_ERRORS, describe

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
    "parse_callback",
]
