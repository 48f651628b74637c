"""GetTemplate (tracker/esms/template_api.py): an OA's templates by id, or None on any failure,
never an exception, and never the keys in the log."""

from __future__ import annotations

import logging
import socket
from types import SimpleNamespace

import requests

from tracker.esms import template_api
from tracker.esms.templates import Template, Variable

LISTING = {
    "CodeResult": "100",
    "ZNSTemplates": [
        {
            "TempId": "300001",
            "TempName": "Nhắc",
            "ZNSTempDetail": [{"Limit": "30", "Param": "order_code", "ParamLevel": "1", "RequireType": "type_text"}],
        }
    ],
}


class Response:
    def __init__(self, status_code: int, body=None, error: Exception | None = None):
        self.status_code, self._body, self._error = status_code, body, error

    def json(self):
        if self._error:
            raise self._error
        return self._body


class Session:
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def post(self, url, json, timeout):
        self.calls.append((url, json, timeout))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def client_settings(**changes) -> SimpleNamespace:
    """What get_templates reads of ClientSettings (a Protocol)."""
    values = dict(
        esms_base_url="http://esms.invalid/MainService.svc/json",
        esms_status_url="",
        esms_api_key="KEY-1",
        esms_secret_key="SECRET-1",
        send_timeout=5.0,
    )
    values.update(changes)
    return SimpleNamespace(**values)


def test_the_request_is_the_documented_body_to_get_template():
    session = Session(Response(200, LISTING))
    assert template_api.get_templates(client_settings(), "OA1", 1.5, session=session) == {
        "300001": Template("300001", "Nhắc", (Variable("order_code", 30, "type_text"),))
    }
    ((url, body, timeout),) = session.calls
    assert url == "http://esms.invalid/MainService.svc/json/GetTemplate/"
    assert body == {"ApiKey": "KEY-1", "SecretKey": "SECRET-1", "OAId": "OA1", "SmsType": "24"}
    assert timeout == 1.5


def test_an_error_status_or_a_refusal_is_no_listing():
    assert template_api.get_templates(client_settings(), "OA1", 1, session=Session(Response(500, LISTING))) is None
    refused = Response(200, {"CodeResult": "101", "ErrorMessage": "Authorize Failed"})
    assert template_api.get_templates(client_settings(), "OA1", 1, session=Session(refused)) is None


def test_transport_failures_and_bad_json_are_none_never_an_exception():
    for failure in (requests.ConnectionError("down"), requests.Timeout("slow"), OSError("boom")):
        assert template_api.get_templates(client_settings(), "OA1", 1, session=Session(failure)) is None
    not_json = Response(200, error=ValueError("Expecting value"))
    assert template_api.get_templates(client_settings(), "OA1", 1, session=Session(not_json)) is None


def test_an_unreachable_esms_over_real_http_is_none():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert template_api.get_templates(client_settings(esms_base_url=f"http://127.0.0.1:{port}"), "OA1", 1) is None


def test_the_log_names_the_outcome_but_never_the_keys(caplog):
    caplog.set_level(logging.INFO, logger="tracker.esms")
    template_api.get_templates(client_settings(), "OA1", 1, session=Session(requests.ConnectionError("KEY-1 SECRET-1")))
    template_api.get_templates(client_settings(), "OA1", 1, session=Session(Response(503, None)))
    text = caplog.text
    assert "unreachable (ConnectionError)" in text and "no listing (HTTP 503)" in text
    assert "KEY-1" not in text and "SECRET-1" not in text
