"""The test-only control API under /_sim/: ground truth, statistics, runtime config, error windows,
reset, idle. Not part of eSMS: nothing here imitates a documented endpoint."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, request

from tracker.simulator.account import WindowError
from tracker.simulator.fake_esms import FakeEsms
from tracker.simulator.message import Message
from tracker.simulator.settings import SettingsError, public_view, updated

control = Blueprint("simulator_control", __name__, url_prefix="/_sim")

_FILTERS = ("smsid", "request_id", "phone", "order_id")


def _fake_esms() -> FakeEsms:
    return current_app.extensions["simulator"]  # type: ignore[no-any-return]


def ground_truth(fake: FakeEsms, message: Message) -> dict[str, Any]:
    """What really happened to one message (and what is planned), for tests to compare against."""
    req = message.request
    key = (req.api_key, req.request_id)
    step = message.current_step()
    plan = message.plan
    steps = plan.steps if plan else []
    with fake.lock:
        callbacks = [
            {
                "send_status": steps[d.step].send_status,
                "at": d.at,
                "delivered": d.state == "delivered",
                "http_status": d.http_status,
                "error": d.error,
                "dropped": d.dropped,
                "duplicate": d.duplicate,
                "late": d.late,
                "early": d.early,
                "state": d.state,
                "attempts": d.attempts,
            }
            for d in (plan.deliveries if plan else [])
        ]
        accept_count = 1 if req.sandbox or not req.request_id else fake.accept_counts.get(key, 0)
        repeat_count = fake.repeat_counts.get(key, 0) if req.request_id else 0
    return {
        "smsid": message.smsid,
        "request_id": req.request_id,
        "phone": req.phone,
        "order_id": req.order_id,
        "template_id": req.template_id,
        "oa_id": req.oa_id,
        "params": req.params,
        "campaign_id": req.campaign_id,
        "callback_url": req.callback_url,
        "sandbox": req.sandbox,
        "is_journey": req.is_journey,
        "created_at": message.created_at,
        "outcome": plan.outcome if plan else None,
        "error_code": str(plan.zalo_code) if plan and plan.zalo_code else None,
        "send_status": step.send_status if step else None,
        "final": bool(step and step.final),
        "accept_count": accept_count,
        "repeat_count": repeat_count,
        "telco_id": message.telco_id,
        "type_id": message.type_id,
        "price": message.price,
        "partner_id": (plan.steps[-1].partner_id or None) if plan else None,
        "final_at_s": plan.steps[-1].offset if plan else None,
        "callbacks": callbacks,
    }


@control.get("/messages")
def messages() -> Any:
    """Ground truth per message; optional exact-match filters smsid, request_id, phone, order_id."""
    fake = _fake_esms()
    with fake.lock:
        messages = list(fake.messages.values())
    items = [ground_truth(fake, m) for m in messages]
    for name in _FILTERS:
        wanted = request.args.get(name)
        if wanted is not None:
            items = [m for m in items if m[name] == wanted]
    return {"messages": items}


@control.get("/messages/<smsid>")
def message(smsid: str) -> Any:
    fake = _fake_esms()
    with fake.lock:
        found = fake.messages.get(smsid)
    if found is None:
        return {"error": "unknown SMSID"}, 404
    return ground_truth(fake, found)


@control.get("/sends")
def sends() -> Any:
    """Every send request answered, in order, with its CodeResult (503 for injected 5xx)."""
    fake = _fake_esms()
    with fake.lock:
        return {"sends": list(fake.sends)}


@control.get("/stats")
def stats() -> Any:
    return _fake_esms().stats_view()


@control.get("/config")
def get_config() -> Any:
    return public_view(_fake_esms().settings)


@control.post("/config")
def set_config() -> Any:
    fake = _fake_esms()
    changes = request.get_json(force=True, silent=True)
    if not isinstance(changes, dict):
        return {"error": "expected a JSON object of settings"}, 400
    with fake.lock:
        try:
            fake.configure(updated(fake.settings, changes))
        except SettingsError as exc:
            return {"error": str(exc)}, 400
        return public_view(fake.settings)


@control.post("/windows")
def add_window() -> Any:
    """Script an account or OA error: ``{"code": "101", "seconds": 30}`` answers 101 to every
    send for 30 s; ``"oaid"`` limits it to one OA (e.g. 799), ``"sends"`` to a number of sends.
    Codes are eSMS's send CodeResults (bang-ma-loi.md); the first active window wins."""
    spec = request.get_json(force=True, silent=True)
    if not isinstance(spec, dict):
        return {"error": "expected a JSON object"}, 400
    fake = _fake_esms()
    with fake.lock:
        try:
            window = fake.account.add_window(spec)
        except WindowError as exc:
            return {"error": str(exc)}, 400
        return {"window": window.view(time.monotonic())}


@control.get("/windows")
def windows() -> Any:
    fake = _fake_esms()
    with fake.lock:
        return {"windows": fake.account.windows_view()}


@control.delete("/windows")
def clear_windows() -> Any:
    fake = _fake_esms()
    with fake.lock:
        fake.account.windows.clear()
    return {"windows": []}


@control.post("/reset")
def reset() -> Any:
    """Forget messages, RequestIds, stats, windows, balance and queued callbacks; re-seed.
    ``{"settings": true}`` also restores the settings the simulator started with."""
    body = request.get_json(force=True, silent=True)
    restore = bool(isinstance(body, dict) and body.get("settings"))
    fake = _fake_esms()
    fake.reset(restore_settings=restore)
    return {"reset": True, "settings": public_view(fake.settings)}


@control.get("/idle")
def idle() -> Any:
    pending = _fake_esms().dispatcher.pending()
    return {"idle": pending == 0, "pending_callbacks": pending}
