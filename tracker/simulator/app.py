"""The Flask app: eSMS's HTTP endpoints (send, status queries, GetCallback, GetTemplate)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from tracker.simulator import wire
from tracker.simulator.control import control
from tracker.simulator.fake_esms import FakeEsms, Message
from tracker.simulator.plan import Step
from tracker.simulator.settings import SimSettings
from tracker.simulator.validate import auth_ok

BASE = "/MainService.svc/json"
MAX_LIST_REFID = 200
# eSMS documents no code for an over-long ListRefid; 99 is its generic error.
CODE_LIST_TOO_LONG = 99

# (TempId, name, [(param, max length)]): what GetTemplate lists when templates is None.
DEFAULT_TEMPLATES: tuple[tuple[str, str, list[tuple[str, int]]], ...] = (
    ("2056446", "Order confirmed", [("customer_name", 30), ("order_code", 30), ("order_date", 20)]),
    ("523194", "Out for delivery", [("customer_name", 30), ("order_code", 30), ("eta", 20)]),
    ("300001", "Delivered, rate your order", [("customer_name", 30), ("order_code", 30)]),
)

esms = Blueprint("esms", __name__)


def _fake_esms() -> FakeEsms:
    return current_app.extensions["simulator"]  # type: ignore[no-any-return]


def _body() -> dict[str, Any]:
    # eSMS reads the body as JSON whatever the Content-Type says.
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else {}


def _reached(smsid: str) -> tuple[Message, Step] | None:
    """The message and its current status, or None when eSMS cannot report it yet (105)."""
    message = _fake_esms().find(smsid)
    step = message.current_step() if message else None
    return (message, step) if message and step else None


@esms.route(f"{BASE}/SendZaloMessage_V4_post_json/", methods=["POST"], strict_slashes=False)
def send() -> Any:
    outcome = _fake_esms().handle_send(_body())
    if outcome.body is None:
        return Response("<h1>503 Service Unavailable</h1>", status=outcome.http_status, mimetype="text/html")
    return jsonify(outcome.body), outcome.http_status


@esms.get(f"{BASE}/GetSendStatus", strict_slashes=False)
def get_send_status() -> Any:
    fake, args = _fake_esms(), request.args
    if not auth_ok(fake.settings, args.get("ApiKey"), args.get("SecretKey")):
        return {"CodeResponse": "101", "ErrorMessage": wire.error_message("101")}
    ref = args.get("RefId", "").strip()
    if not ref:
        return {"CodeResponse": "851", "ErrorMessage": wire.error_message("851")}
    found = _reached(ref)
    if found is None:
        return {"CodeResponse": "105", "ErrorMessage": wire.error_message("105")}
    message, step = found
    return {
        "CodeResponse": "100",
        "SMSID": message.smsid,
        "SendFailed": step.send_failed,
        "SendStatus": step.send_status,
        "SendSuccess": step.send_success,
        "TotalPrice": step.total_price,
        "TotalReceiver": 1,
        "TotalSent": step.total_sent,
    }


@esms.route(f"{BASE}/QueryZnsStatus/", methods=["POST"], strict_slashes=False)
def query_zns_status() -> Any:
    fake, body = _fake_esms(), _body()
    if not auth_ok(fake.settings, body.get("ApiKey"), body.get("SecretKey")):
        return {"CodeResult": "101", "ErrorMessage": wire.error_message("101")}
    if fake.settings.tps_limits and not fake.query_limiter.allow():
        return {"CodeResult": "160", "ErrorMessage": wire.error_message("160")}
    smsid = str(body.get("SmsId") or "").strip()
    if not smsid:
        return {"CodeResult": "851", "ErrorMessage": wire.error_message("851")}
    found = _reached(smsid)
    if found is None:
        return {"CodeResult": "105", "ErrorMessage": wire.error_message("105")}
    message, step = found
    assert message.plan is not None  # _reached only returns planned (non-sandbox) messages
    return {
        "CodeResult": "100",
        "Data": {
            # "0" delivered, the Zalo code on failure, null while no result exists.
            "ErrorInfo": str(message.plan.zalo_code) if step.final else None,
            "FinalStatus": "1" if step.final else "0",
            "SMSID": message.smsid,
            "SendFailed": step.send_failed,
            "SendStatus": step.send_status,
            "SendSuccess": step.send_success,
            "TotalPrice": step.total_price,
            "TotalReceiver": 1,
            "TotalSent": step.total_sent,
            "ZaloMsgId": step.partner_id or None,
        },
    }


@esms.route("/ZaloCallback/GetCallback", methods=["POST"], strict_slashes=False)
def get_callback() -> Any:
    fake, body = _fake_esms(), _body()
    if not auth_ok(fake.settings, body.get("ApiKey"), body.get("SecretKey")):
        return {"Code": 101, "Message": wire.error_message("101"), "Data_callback": []}
    if fake.settings.tps_limits and not fake.callback_limiter.allow():
        return {"Code": 160, "Message": wire.error_message("160"), "Data_callback": []}
    refs = body.get("ListRefid")
    if not isinstance(refs, list) or not refs:
        return {"Code": 851, "Message": "ListRefid is required", "Data_callback": []}
    if len(refs) > MAX_LIST_REFID:
        return {"Code": CODE_LIST_TOO_LONG, "Message": "ListRefid holds more than 200 SMSIDs", "Data_callback": []}
    entries = []
    for ref in refs:
        found = _reached(str(ref))
        # Only messages sent with a CallbackUrl have callback data at eSMS.
        if found is None or not found[0].request.callback_url:
            continue
        message, step = found
        entries.append(
            {
                "SMSID": message.smsid,
                "SendFailed": step.send_failed,
                "SendSuccess": step.send_success,
                "SendStatus": step.send_status,
                "TotalPrice": step.total_price,
                "TypeId": message.type_id,
                "Telcoid": message.telco_id,
                "PhoneNumber": message.request.phone,
                "CallbackUrl": message.request.callback_url,
                "Partnerids": step.partner_id,
                # Exactly what the callback carried, in the same encoding.
                "ErrorInfo": step.error_info,
                "OAId": message.request.oa_id,
                "ZnsTempId": message.request.template_id,
            }
        )
    return {"Code": 100, "Message": "Success", "Data_callback": entries}


@esms.route(f"{BASE}/GetTemplate/", methods=["POST"], strict_slashes=False)
def get_template() -> Any:
    fake, body = _fake_esms(), _body()
    if not auth_ok(fake.settings, body.get("ApiKey"), body.get("SecretKey")):
        return {"CodeResult": "101", "ErrorMessage": wire.error_message("101")}
    configured = fake.settings.templates
    if configured is None:
        listed = list(DEFAULT_TEMPLATES)
    else:
        generic = [("customer_name", 30), ("order_code", 30)]
        listed = [(tid, f"Template {tid}", generic) for tid in sorted(configured)]
    return {
        "CodeResult": "100",
        "OAId": str(body.get("OAId") or ""),
        "ZNSTemplates": [
            {
                "TempId": tid,
                "TempName": name,
                "Status": "ENABLE",
                "Params": [
                    {"Name": p, "Type": "STRING", "MaxLength": n, "MinLength": 0, "Require": True} for p, n in params
                ],
            }
            for tid, name, params in listed
        ],
    }


@esms.get("/")
def index() -> Any:
    root = request.host_url.rstrip("/")
    return {
        "service": "eSMS simulator",
        "ESMS_BASE_URL": root + BASE,
        "ESMS_STATUS_URL": root,
        "control": root + "/_sim/",
    }


def create_simulator_app(settings: SimSettings | None = None) -> Flask:
    """The fake eSMS; ``app.extensions["simulator"]`` is its :class:`FakeEsms`."""
    app = Flask("tracker.simulator")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep eSMS's field order
    app.extensions["simulator"] = FakeEsms(settings or SimSettings())
    app.register_blueprint(esms)
    app.register_blueprint(control)
    return app
