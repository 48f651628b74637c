"""The eSMS HTTP client against a scripted local HTTP server (eSMS is the edge we do not own)."""

from __future__ import annotations

import json
import logging
import threading
import time
from decimal import Decimal

import pytest

from tests.esms.support import API_KEY, SECRET_KEY, SMSID, Reply
from tests.support import free_port
from tracker.esms.callback import parse_callback
from tracker.esms.client import EsmsClient, GetCallbackResult, StatusAnswer


def send(client: EsmsClient, **overrides):
    args = dict(
        phone="0901888484",
        params=["Nguyen Van A", "12345"],
        order_id="order-1",
        template_id="2056446",
        oa_id="4097311281936189049",
        request_id="req-1",
        callback_url="https://tracker.example/webhooks/esms/tok",
    )
    return client.send_journey(**{**args, **overrides})


def assert_no_secrets(*things: object) -> None:
    for thing in things:
        text = repr(thing)
        assert API_KEY not in text and SECRET_KEY not in text


# -- sending ----------------------------------------------------------------


def test_send_request_body_exact(fake, client):
    result = send(client)
    assert fake.seen[0].method == "POST"
    assert fake.seen[0].path == "/MainService.svc/json/SendZaloMessage_V4_post_json/"
    assert fake.seen[0].headers["Content-Type"] == "application/json"
    assert fake.json() == {
        "ApiKey": API_KEY,
        "SecretKey": SECRET_KEY,
        "Phone": "0901888484",
        "Params": ["Nguyen Van A", "12345"],
        "IsJourney": True,
        "OrderId": "order-1",
        "TempID": "2056446",
        "OAID": "4097311281936189049",
        "RequestId": "req-1",
        "CallbackUrl": "https://tracker.example/webhooks/esms/tok",
    }
    assert b'"IsJourney": true' in fake.seen[0].body
    assert result.request == {k: v for k, v in fake.json().items() if k not in ("ApiKey", "SecretKey")}


@pytest.mark.parametrize(
    "overrides, present, absent",
    [
        ({"sandbox": True}, {"Sandbox": "1"}, ["campaignid"]),
        ({"sandbox": False}, {}, ["Sandbox", "campaignid"]),
        ({"campaign_id": "spring"}, {"campaignid": "spring"}, ["Sandbox"]),
        ({"campaign_id": None}, {}, ["campaignid"]),
        ({"callback_url": None}, {}, ["CallbackUrl"]),
        ({"request_id": "r" * 50}, {"RequestId": "r" * 50}, []),
        ({"params": []}, {"Params": []}, []),
    ],
)
def test_send_optional_fields(fake, client, overrides, present, absent):
    send(client, **overrides)
    body = fake.json()
    for key, value in present.items():
        assert body[key] == value
    for key in absent:
        assert key not in body
    assert body["IsJourney"] is True and "RequestId" in body


@pytest.mark.parametrize(
    "reply, outcome, code, smsid, message",
    [
        (Reply({"CodeResult": "100", "CountRegenerate": 0, "SMSID": SMSID}), "accepted", "100", SMSID, None),
        (Reply({"CodeResult": 100, "SMSID": SMSID}), "accepted", "100", SMSID, None),
        (
            Reply({"CodeResult": "101", "CountRegenerate": 0, "ErrorMessage": "Authorize Failed"}),
            "rejected",
            "101",
            None,
            "Authorize Failed",
        ),
        (
            Reply({"CodeResult": "124", "CountRegenerate": 0}),
            "rejected",
            "124",
            None,
            "Duplicate RequestId (within 24 hours)",
        ),
        (
            Reply({"CodeResult": "789", "ErrorMessage": "TemplateId is not config"}),
            "rejected",
            "789",
            None,
            "TemplateId is not config",
        ),
        (
            Reply({"CodeResult": "100", "CountRegenerate": 0}),
            "transport",
            "bad_response",
            None,
            "eSMS answered 100 without an SMSID",
        ),
        (Reply({"Something": "else"}), "transport", "bad_response", None, "eSMS answer has no CodeResult"),
        (
            Reply("<html>Service Unavailable</html>"),
            "transport",
            "bad_response",
            None,
            "eSMS answered with something that is not JSON",
        ),
        (Reply("", status=200), "transport", "bad_response", None, "eSMS answered with something that is not JSON"),
        (
            Reply({"CodeResult": "100", "SMSID": SMSID}, status=500),
            "transport",
            "http_500",
            None,
            "eSMS answered HTTP 500",
        ),
        (Reply("Bad gateway", status=502), "transport", "http_502", None, "eSMS answered HTTP 502"),
        (Reply("slow down", status=429), "transport", "http_429", None, "eSMS answered HTTP 429"),
        (Reply("not here", status=404), "transport", "http_404", None, "eSMS answered with something that is not JSON"),
    ],
)
def test_send_answer_mapping(fake, client, reply, outcome, code, smsid, message):
    fake.script(reply)
    result = send(client)
    assert (result.outcome, result.code, result.smsid, result.error_message) == (outcome, code, smsid, message)
    assert result.http_status == reply.status
    assert result.elapsed_ms > 0
    assert result.response_text is not None


def test_send_timeout(fake):
    fake.script(Reply({"CodeResult": "100", "SMSID": SMSID}, delay=1.0))
    c = EsmsClient(fake.url, fake.url, API_KEY, SECRET_KEY, timeout=0.2)
    started = time.monotonic()
    result = send(c)
    assert time.monotonic() - started < 0.9
    assert (result.outcome, result.code, result.http_status) == ("transport", "timeout", None)
    assert result.error_message == "no answer within 0.2 s"
    assert 150 < result.elapsed_ms < 900
    c.close()


def test_send_connection_refused():
    url = f"http://127.0.0.1:{free_port()}"
    c = EsmsClient(url, url, API_KEY, SECRET_KEY, timeout=1.0)
    result = send(c)
    assert (result.outcome, result.code, result.http_status, result.smsid) == ("transport", "connection", None, None)
    assert result.error_message.startswith("could not reach eSMS (")
    assert result.response_text is None
    assert_no_secrets(result)


def test_trailing_slash_of_base_url(fake):
    for base in (fake.url, fake.url + "/", fake.url + "/MainService.svc/json"):
        c = EsmsClient(base, fake.url, API_KEY, SECRET_KEY)
        send(c)
        assert "//" not in fake.seen[-1].path
        assert fake.seen[-1].path.endswith("/SendZaloMessage_V4_post_json/")
        c.close()


def test_credentials_never_returned(fake, client, caplog):
    echo = f'{{"CodeResult":"101","ErrorMessage":"bad key {API_KEY} / {SECRET_KEY}","x":"{"y" * 5000}"}}'
    fake.script(Reply(echo))
    with caplog.at_level(logging.DEBUG):
        result = send(client)
    assert "ApiKey" not in result.request and "SecretKey" not in result.request
    assert result.response_text.count("***") == 2 and len(result.response_text) == 4000
    assert_no_secrets(result, result.request, result.response_text, result.error_message, client)
    assert API_KEY not in caplog.text and SECRET_KEY not in caplog.text
    assert "eSMS POST /MainService.svc/json/SendZaloMessage_V4_post_json/ -> 200 in" in caplog.text


def test_connection_pool_is_large_enough_for_a_thread_pool(client):
    for scheme in ("http://", "https://"):
        assert client._session.get_adapter(scheme + "x")._pool_maxsize >= 32


def test_send_threads_share_one_client(fake, client):
    fake.script(Reply({"CodeResult": "100", "SMSID": SMSID}, delay=0.05))
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(send(client, request_id=f"r{i}"))) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 40 and all(r.outcome == "accepted" for r in results)
    assert sorted(json.loads(s.body)["RequestId"] for s in fake.seen) == sorted(f"r{i}" for i in range(40))


# -- status queries -----------------------------------------------------------

SEND_STATUS = {
    "CodeResponse": "100",
    "SMSID": SMSID,
    "SendFailed": 0,
    "SendStatus": 5,
    "SendSuccess": 1,
    "TotalPrice": 850.0,
    "TotalReceiver": 1,
    "TotalSent": 1,
}
ZNS_STATUS = {
    "CodeResult": "100",
    "Data": {
        "ErrorInfo": "0",
        "FinalStatus": "1",
        "SMSID": SMSID,
        "SendFailed": 0,
        "SendStatus": 5,
        "SendSuccess": 1,
        "TotalPrice": 330.0,
        "TotalReceiver": 1,
        "TotalSent": 1,
        "ZaloMsgId": "zmsg-1",
    },
}
CALLBACK_ENTRY = {
    "SMSID": SMSID,
    "SendFailed": 1,
    "SendSuccess": 0,
    "SendStatus": 5,
    "TotalPrice": 0,
    "TypeId": 27,
    "Telcoid": 2,
    "PhoneNumber": "0901888484",
    "CallbackUrl": "https://tracker.example/webhooks/esms/tok",
    "Partnerids": "p-1",
    "ErrorInfo": '{"error":-114,"message":"User is inactive"}',
    "OAId": "4097311281936189049",
    "ZnsTempId": "2056446",
}


def test_get_send_status(fake, client, caplog):
    fake.script(Reply(SEND_STATUS))
    with caplog.at_level(logging.DEBUG):
        answer = client.get_send_status(SMSID)
    seen = fake.seen[0]
    assert (seen.method, seen.path) == ("GET", "/MainService.svc/json/GetSendStatus")
    assert seen.query == {"RefId": [SMSID], "ApiKey": [API_KEY], "SecretKey": [SECRET_KEY]}
    assert (answer.ok, answer.code, answer.smsid, answer.send_status) == (True, "100", SMSID, 5)
    assert (answer.send_success, answer.send_failed, answer.total_price) == (1, 0, Decimal("850.0"))
    assert answer.final is None and answer.error_info is None and answer.transport is False
    assert answer.raw == SEND_STATUS
    # the URL carries the keys: neither the answer nor any log line may show them
    assert_no_secrets(answer)
    assert API_KEY not in caplog.text and SECRET_KEY not in caplog.text
    assert "Secret%2BKey" not in caplog.text
    assert "ApiKey=***&SecretKey=***" in caplog.text  # urllib3's own debug line, scrubbed
    assert "GetSendStatus -> 200" in caplog.text
    cb = parse_callback(answer.to_callback_params())
    assert (cb.status, cb.smsid, cb.total_price, cb.problems) == ("delivered", SMSID, Decimal("850.0"), ())


def test_query_zns_status(fake, client):
    fake.script(Reply(ZNS_STATUS))
    answer = client.query_zns_status(SMSID)
    seen = fake.seen[0]
    assert (seen.method, seen.path) == ("POST", "/MainService.svc/json/QueryZnsStatus/")
    # A journey's SmsType is undocumented: 25, as the page's own sample (README).
    assert fake.json() == {"ApiKey": API_KEY, "SecretKey": SECRET_KEY, "SmsId": SMSID, "SmsType": "25"}
    assert (answer.ok, answer.code, answer.final, answer.error_info) == (True, "100", True, "0")
    assert (answer.zalo_msg_id, answer.total_price, answer.send_status) == ("zmsg-1", Decimal("330.0"), 5)
    assert answer.raw == ZNS_STATUS
    params = answer.to_callback_params()
    assert params["partnerids"] == "zmsg-1" and params["error_info"] == "0"
    cb = parse_callback(params)
    assert (cb.status, cb.zalo_error, cb.error_code) == ("delivered", 0, None)
    client.query_zns_status(SMSID, sms_type="24")
    assert fake.json()["SmsType"] == "24"


def test_query_zns_status_user_not_online(fake, client):
    data = {**ZNS_STATUS["Data"], "ErrorInfo": "1001", "SendSuccess": 0, "SendFailed": 1}
    fake.script(Reply({"CodeResult": "100", "Data": data}))
    cb = parse_callback(client.query_zns_status(SMSID).to_callback_params())
    assert (cb.status, cb.error_code) == ("failed", "1001")
    assert cb.error_message == "User was not online on Zalo within the allowed time"


def test_get_callbacks(fake, client):
    fake.script(Reply({"Code": 100, "Message": "Success", "Data_callback": [CALLBACK_ENTRY, "junk"]}))
    result = client.get_callbacks([SMSID, "other"], "4097311281936189049")
    seen = fake.seen[0]
    assert (seen.method, seen.path) == ("POST", "/ZaloCallback/GetCallback")
    assert fake.json() == {
        "ApiKey": API_KEY,
        "SecretKey": SECRET_KEY,
        "ListRefid": [SMSID, "other"],
        "OAId": "4097311281936189049",
    }
    assert isinstance(result, GetCallbackResult)
    assert (result.ok, result.code, result.error, len(result.answers)) == (True, "100", None, 1)
    answer = result.answers[0]
    assert (answer.smsid, answer.type_id, answer.telco_id, answer.phone) == (SMSID, 27, 2, "0901888484")
    assert (answer.oa_id, answer.template_id, answer.partner_ids) == ("4097311281936189049", "2056446", "p-1")
    assert answer.callback_url == "https://tracker.example/webhooks/esms/tok"
    assert answer.raw == CALLBACK_ENTRY
    cb = parse_callback(answer.to_callback_params())
    assert (cb.status, cb.error_code, cb.error_message, cb.telco) == ("failed", "-114", "User is inactive", "Mobifone")
    assert cb.problems == ()


def test_get_callbacks_limits(fake, client):
    with pytest.raises(ValueError) as info:
        client.get_callbacks([str(i) for i in range(201)], "oa")
    assert API_KEY not in str(info.value)
    assert client.get_callbacks([], "oa") == GetCallbackResult(ok=True, code=None)
    assert fake.seen == []
    fake.script(Reply({"Code": 100, "Data_callback": []}))
    assert client.get_callbacks([str(i) for i in range(200)], "oa").ok
    assert len(fake.json()["ListRefid"]) == 200


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_send_status(SMSID),
        lambda c: c.query_zns_status(SMSID),
        lambda c: c.get_callbacks([SMSID], "oa"),
    ],
    ids=["GetSendStatus", "QueryZnsStatus", "GetCallback"],
)
@pytest.mark.parametrize(
    "reply, ok, code, transport, error",
    [
        (
            Reply(
                {
                    "CodeResponse": "105",
                    "CodeResult": "105",
                    "Code": 105,
                    "ErrorMessage": "not found",
                    "Message": "not found",
                }
            ),
            False,
            "105",
            False,
            "not found",
        ),
        (
            Reply({"CodeResponse": "160", "CodeResult": "160", "Code": 160}),
            False,
            "160",
            False,
            "Too many requests per second (status queries)",
        ),
        (Reply("oops", status=503), False, "http_503", True, "eSMS answered HTTP 503"),
        (Reply("<html/>"), False, "bad_response", True, "eSMS answered with something that is not JSON"),
        (Reply({"nothing": 1}), False, "bad_response", True, None),
    ],
)
def test_status_call_failures(fake, client, call, reply, ok, code, transport, error):
    fake.script(reply)
    answer = call(client)
    assert (answer.ok, answer.code, answer.transport) == (ok, code, transport)
    if error:
        assert answer.error == error
    assert_no_secrets(answer)


def test_status_calls_timeout_and_refused(fake):
    fake.script(Reply(SEND_STATUS, delay=1.0))
    slow = EsmsClient(fake.url, fake.url, API_KEY, SECRET_KEY, timeout=0.2)
    for answer in (slow.get_send_status(SMSID), slow.query_zns_status(SMSID)):
        assert (answer.ok, answer.code, answer.transport) == (False, "timeout", True)
        assert_no_secrets(answer)
    assert slow.get_callbacks([SMSID], "oa").code == "timeout"
    url = f"http://127.0.0.1:{free_port()}"
    dead = EsmsClient(url, url, API_KEY, SECRET_KEY, timeout=1.0)
    answer = dead.get_send_status(SMSID)
    assert (answer.ok, answer.code, answer.transport) == (False, "connection", True)
    assert_no_secrets(answer, answer.error)
    assert dead.get_callbacks([SMSID], "oa").transport


def test_query_zns_status_without_data(fake, client):
    fake.script(Reply({"CodeResult": "100"}))
    answer = client.query_zns_status(SMSID)
    assert (answer.ok, answer.code, answer.transport) == (False, "bad_response", True)


def test_client_without_credentials_still_works(fake):
    # Simulator mode may leave the keys unset.
    c = EsmsClient(fake.url, fake.url, "", None, timeout=1.0)  # type: ignore[arg-type]
    assert send(c).outcome == "accepted"
    c.close()


def test_to_callback_params_skips_unknowns():
    assert StatusAnswer(ok=False, code="timeout").to_callback_params() == {}
    params = StatusAnswer(
        ok=True, code="100", smsid="s", send_status=2, total_price=Decimal("1.50")
    ).to_callback_params()
    assert params == {"SMSID": "s", "SendStatus": "2", "TotalPrice": "1.50"}
