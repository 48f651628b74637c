"""HTTP client for eSMS: journey sends and the three status queries, keys kept out of sight."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from tracker.esms import codes, redact
from tracker.esms.answers import ANSWER_FIELDS, GetCallbackResult, StatusAnswer
from tracker.esms.values import json_get, text_of

# The answers' types are re-exported: callers have always imported them from here.
__all__ = [
    "ACCEPTED",
    "MAX_CALLBACK_IDS",
    "REJECTED",
    "TRANSPORT",
    "ClientSettings",
    "EsmsClient",
    "GetCallbackResult",
    "SendResult",
    "StatusAnswer",
    "make_client",
]

log = logging.getLogger("tracker.esms")

ACCEPTED, REJECTED, TRANSPORT = "accepted", "rejected", "transport"
MAX_RESPONSE_CHARS = 4000
MAX_CALLBACK_IDS = 200


@dataclass
class SendResult:
    """What one send attempt came to: accepted, rejected, or a transport failure."""

    outcome: str
    code: str | None
    smsid: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    elapsed_ms: float = 0.0
    request: dict[str, Any] = field(default_factory=dict)
    response_text: str | None = None


@dataclass
class _Reply:
    elapsed_ms: float = 0.0
    http_status: int | None = None
    text: str | None = None
    data: Any = None
    failure: str | None = None  # transport code; None when a JSON answer arrived
    detail: str | None = None

    def no_code(self) -> str:
        """Transport code for a reply that carries no eSMS result code."""
        status = self.http_status or 0
        return self.failure or (f"http_{status}" if status >= 400 else "bad_response")


class EsmsClient:
    """Talks to eSMS over one pooled `requests.Session`; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        status_url: str,
        api_key: str,
        secret_key: str,
        timeout: float = 10.0,
        *,
        pool_size: int = 32,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.status_url = status_url.rstrip("/")
        self.timeout = timeout
        self._api_key, self._secret_key = api_key, secret_key
        redact.remember(api_key, secret_key)
        self._session = requests.Session()
        # No adapter-level retries: the worker retries sends itself, with the same RequestId.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 32), max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"EsmsClient(base_url={self.base_url!r}, status_url={self.status_url!r})"

    def close(self) -> None:
        self._session.close()

    def _scrub(self, value: Any) -> Any:
        return redact.scrub(value, (self._secret_key, self._api_key))

    def _credentials(self) -> dict[str, str]:
        return {"ApiKey": self._api_key, "SecretKey": self._secret_key}

    def _call(self, method: str, url: str, *, body: Any = None, params: Any = None) -> _Reply:
        started = time.monotonic()
        try:
            response = self._session.request(method, url, json=body, params=params, timeout=self.timeout)
        except requests.Timeout:
            reply = _Reply(failure="timeout", detail=f"no answer within {self.timeout:g} s")
        except (requests.RequestException, ValueError, OSError) as exc:
            # Never the exception's text: it holds the URL, and GetSendStatus URLs hold the keys.
            reply = _Reply(failure="connection", detail=f"could not reach eSMS ({type(exc).__name__})")
        else:
            reply = self._read(response)
        reply.elapsed_ms = (time.monotonic() - started) * 1000
        log.info(
            "eSMS %s %s -> %s in %.0f ms",
            method,
            urlsplit(url).path,
            reply.http_status or reply.failure,
            reply.elapsed_ms,
        )
        return reply

    def _read(self, response: requests.Response) -> _Reply:
        status = response.status_code
        text = response.content.decode("utf-8", "replace")
        # Scrub before truncating, so a key cut in half at the limit cannot survive.
        reply = _Reply(http_status=status, text=self._scrub(text)[:MAX_RESPONSE_CHARS])
        if status >= 500 or status == 429:
            reply.failure, reply.detail = f"http_{status}", f"eSMS answered HTTP {status}"
            return reply
        try:
            reply.data = json.loads(text)
        except (ValueError, RecursionError):
            reply.failure = f"http_{status}" if status >= 400 else "bad_response"
            reply.detail = "eSMS answered with something that is not JSON"
        return reply

    def send_journey(
        self,
        *,
        phone: str,
        params: list[str],
        order_id: str,
        template_id: str,
        oa_id: str,
        request_id: str,
        callback_url: str | None,
        campaign_id: str | None = None,
        sandbox: bool = False,
    ) -> SendResult:
        """Send one journey ZNS message; never raises on network or eSMS trouble."""
        body: dict[str, Any] = {
            **self._credentials(),
            "Phone": phone,
            "Params": list(params),
            "IsJourney": True,
            "OrderId": order_id,
            "TempID": template_id,
            "OAID": oa_id,
            "RequestId": request_id,
        }
        if campaign_id:
            body["campaignid"] = campaign_id
        if callback_url:
            body["CallbackUrl"] = callback_url
        if sandbox:
            body["Sandbox"] = "1"
        reply = self._call("POST", f"{self.base_url}/SendZaloMessage_V4_post_json/", body=body)
        result = SendResult(
            TRANSPORT,
            reply.failure,
            error_message=reply.detail,
            http_status=reply.http_status,
            elapsed_ms=reply.elapsed_ms,
            request=self._scrub(body),
            response_text=reply.text,
        )
        if reply.failure:
            return result
        code = text_of(json_get(reply.data, "CodeResult"))
        message = self._scrub(text_of(json_get(reply.data, "ErrorMessage")))
        smsid = text_of(json_get(reply.data, "SMSID"))
        if code is None:
            result.code, result.error_message = reply.no_code(), "eSMS answer has no CodeResult"
        elif code != "100":
            result.outcome, result.code = REJECTED, code
            result.error_message = message or codes.describe(code)
        elif smsid is None:
            # Accepted but unnamed: only the callback can tell us the SMSID, so retry safely.
            result.code, result.error_message = "bad_response", "eSMS answered 100 without an SMSID"
        else:
            result.outcome, result.code, result.smsid, result.error_message = ACCEPTED, code, smsid, None
        return result

    def _answer(self, entry: dict[str, Any], code: str, reply: _Reply) -> StatusAnswer:
        values: dict[str, Any] = {name: parse(json_get(entry, *keys)) for name, (parse, *keys) in ANSWER_FIELDS.items()}
        return StatusAnswer(
            ok=code == "100",
            code=code,
            http_status=reply.http_status,
            elapsed_ms=reply.elapsed_ms,
            raw=self._scrub(entry),
            **values,
        )

    def _status(self, reply: _Reply, entry: Any, code_keys: tuple[str, ...]) -> StatusAnswer:
        code = None if reply.failure else text_of(json_get(reply.data, *code_keys))
        raw = self._scrub(reply.data) if isinstance(reply.data, dict) else {}
        common: dict[str, Any] = {"http_status": reply.http_status, "elapsed_ms": reply.elapsed_ms, "raw": raw}
        if code is None:
            return StatusAnswer(
                ok=False,
                code=reply.no_code(),
                transport=True,
                error=reply.detail or "eSMS answer has no result code",
                **common,
            )
        if code != "100":
            message = self._scrub(text_of(json_get(reply.data, "ErrorMessage", "Message")))
            return StatusAnswer(ok=False, code=code, error=message or codes.describe(code), **common)
        if not isinstance(entry, dict):
            return StatusAnswer(
                ok=False,
                code="bad_response",
                transport=True,
                error="eSMS answered 100 without the message's data",
                **common,
            )
        answer = self._answer(entry, code, reply)
        answer.raw = raw
        return answer

    def post_json(self, path: str, fields: dict[str, Any]) -> _Reply:
        """POST ``fields`` and the credentials to {base_url}/{path} (the calls in tracker.esms.lookups)."""
        return self._call("POST", f"{self.base_url}/{path}", body={**self._credentials(), **fields})

    def scrub(self, value: Any) -> Any:
        """``value`` with the credentials taken out."""
        return self._scrub(value)

    def get_send_status(self, smsid: str) -> StatusAnswer:
        """GetSendStatus: counters and SendStatus of a message of the last 7 days."""
        params = {"RefId": smsid, **self._credentials()}
        reply = self._call("GET", f"{self.base_url}/GetSendStatus", params=params)
        return self._status(reply, reply.data, ("CodeResponse", "CodeResult"))

    def query_zns_status(self, smsid: str, sms_type: str = "25") -> StatusAnswer:
        """QueryZnsStatus: the Zalo outcome (ErrorInfo) and whether it is final (FinalStatus).

        ``sms_type`` "24" or "25" (tracker.esms.lookups.query_sms_type picks it per message)."""
        body = {**self._credentials(), "SmsId": smsid, "SmsType": sms_type}
        reply = self._call("POST", f"{self.base_url}/QueryZnsStatus/", body=body)
        return self._status(reply, json_get(reply.data, "Data"), ("CodeResult", "CodeResponse"))

    def get_callbacks(self, smsids: list[str], oa_id: str) -> GetCallbackResult:
        """ZaloCallback/GetCallback: the callback data eSMS holds for up to 200 SMSIDs."""
        if len(smsids) > MAX_CALLBACK_IDS:
            raise ValueError(f"at most {MAX_CALLBACK_IDS} SMSIDs per GetCallback, got {len(smsids)}")
        if not smsids:
            return GetCallbackResult(ok=True, code=None)
        body = {**self._credentials(), "ListRefid": list(smsids), "OAId": oa_id}
        reply = self._call("POST", f"{self.status_url}/ZaloCallback/GetCallback", body=body)
        result = GetCallbackResult(ok=False, code=None, http_status=reply.http_status, elapsed_ms=reply.elapsed_ms)
        code = None if reply.failure else text_of(json_get(reply.data, "Code", "CodeResult"))
        if code is None:
            result.code, result.transport = reply.no_code(), True
            result.error = reply.detail or "eSMS answer has no Code"
        elif code != "100":
            result.code = code
            message = self._scrub(text_of(json_get(reply.data, "Message", "ErrorMessage")))
            result.error = message or codes.describe(code)
        else:
            entries = json_get(reply.data, "Data_callback")
            result.ok, result.code = True, code
            result.answers = [
                self._answer(entry, code, reply)
                for entry in (entries if isinstance(entries, list) else [])
                if isinstance(entry, dict)
            ]
        return result


class ClientSettings(Protocol):
    """What `make_client` reads: tracker.config.Settings has it, and this package need not import that."""

    @property
    def esms_base_url(self) -> str: ...
    @property
    def esms_status_url(self) -> str: ...
    @property
    def esms_api_key(self) -> str: ...
    @property
    def esms_secret_key(self) -> str: ...
    @property
    def send_timeout(self) -> float: ...


def make_client(settings: ClientSettings) -> EsmsClient:
    """The client the settings describe, for the worker and the CLI."""
    return EsmsClient(
        settings.esms_base_url,
        settings.esms_status_url,
        settings.esms_api_key,
        settings.esms_secret_key,
        timeout=settings.send_timeout,
    )
