"""The Flask app: eSMS's send endpoint, its status and account APIs, and the test-only control API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from tracker.simulator.account_api import account_api
from tracker.simulator.control import control
from tracker.simulator.fake_esms import FakeEsms
from tracker.simulator.flask_util import body, fake_esms
from tracker.simulator.settings import SimSettings
from tracker.simulator.status_api import status_api
from tracker.simulator.wire import BASE

esms = Blueprint("esms", __name__)


@esms.route(f"{BASE}/SendZaloMessage_V4_post_json/", methods=["POST"], strict_slashes=False)
def send() -> Any:
    """esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md: HTTP 200 and a JSON CodeResult, even for
    errors (FakeEsms.handle_send); only an injected fault answers a bare 503."""
    outcome = fake_esms().handle_send(body())
    if outcome.body is None:
        return Response("<h1>503 Service Unavailable</h1>", status=outcome.http_status, mimetype="text/html")
    return jsonify(outcome.body), outcome.http_status


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
    for blueprint in (esms, status_api, account_api, control):
        app.register_blueprint(blueprint)
    return app
