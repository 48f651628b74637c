"""The simulator's state: accepted messages, RequestIds, statistics, and the send path with its faults.

The send answers as esms-api/ham-gui-tin/tin-zalo-hanh-trinh.md shows (``CodeResult``,
``CountRegenerate``, ``SMSID`` or ``ErrorMessage``), with the codes of esms-api/bang-ma-loi.md;
a repeated RequestId within 24 hours gets 124; sandbox sends (esms-api/moi-truong-test-sandbox.md)
are answered but neither stored, charged nor called back.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracker.simulator import plan as planning
from tracker.simulator import wire
from tracker.simulator.account import Account, RateLimiter
from tracker.simulator.callbacks import Dispatcher, Job
from tracker.simulator.message import Message, price_of, type_id_of
from tracker.simulator.settings import SimSettings
from tracker.simulator.validate import SendRequest, validate_send

SENDS_KEPT = 10_000
FIRST_SMS_ID = 29_028_845  # GetSmsSentData_V2's numeric SmsId, from its sample


@dataclass
class SendOutcome:
    """What the HTTP layer answers; ``body`` None means a bare 5xx."""

    http_status: int
    body: dict[str, Any] | None


def _fresh_stats() -> dict[str, Any]:
    return {
        "sends": {"total": 0, "by_code": {}, "sandbox": 0},
        "callbacks": {
            "planned": 0,
            "attempted": 0,
            "delivered": 0,
            "failed": 0,
            "dropped": 0,
            "duplicated": 0,
            "late": 0,
            "retried": 0,
        },
        "injected": {"send_5xx": 0, "send_timeout": 0, "early_callback": 0},
    }


class FakeEsms:
    """Everything the fake eSMS knows; one lock guards it and one seeded Random drives it."""

    def __init__(self, settings: SimSettings) -> None:
        self.initial_settings = settings
        self.settings = settings
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.dispatcher = Dispatcher(self.lock, lambda: self.settings, self._count_callback)
        self.query_limiter = RateLimiter(100)
        self.zalo_status_limiter = RateLimiter(30)
        self.callback_limiter = RateLimiter(20)
        self._clear()

    def _clear(self) -> None:
        self.rng = random.Random(self.settings.seed)
        self.messages: dict[str, Message] = {}
        # (ApiKey, RequestId) -> (accepted at, epoch seconds; SMSID)
        self.request_ids: dict[tuple[str, str], tuple[float, str]] = {}
        self.accept_counts: dict[tuple[str, str], int] = {}
        self.repeat_counts: dict[tuple[str, str], int] = {}
        # Bounded: `make run` may stay up for days.
        self.sends: deque[dict[str, Any]] = deque(maxlen=SENDS_KEPT)
        self.stats = _fresh_stats()
        self._form_counter = 0
        self.account = Account()
        # Zalo message id (partnerids) -> SMSID, for GetZaloMessageStatus.
        self.by_partner_id: dict[str, str] = {}
        self._sms_ids = itertools.count(FIRST_SMS_ID)

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        self.dispatcher.start()

    def stop(self) -> None:
        self.stopping.set()
        self.dispatcher.stop()

    def reset(self, restore_settings: bool = False) -> None:
        with self.lock:
            if restore_settings:
                self.settings = self.initial_settings
            self.dispatcher.reset()
            self._clear()

    def configure(self, settings: SimSettings) -> None:
        with self.lock:
            self.settings = settings

    # -- sending -----------------------------------------------------------

    def handle_send(self, payload: dict[str, Any]) -> SendOutcome:
        with self.lock:
            settings = self.settings
            # Drawn on every send, whatever the rates, so a seed gives the same
            # SMSIDs and outcomes with faults on or off.
            fault_5xx, fault_timeout, fault_early = self.rng.random(), self.rng.random(), self.rng.random()
            if fault_5xx < settings.send_5xx_rate:
                # Refused before eSMS processed anything: nothing is stored.
                self.stats["injected"]["send_5xx"] += 1
                self._log_send("503", payload, None)
                return SendOutcome(503, None)
            verdict = validate_send(payload, settings)
            req = verdict.request
            code = verdict.code
            if code != "101":
                # A scripted account or OA error (control API) answers before anything else.
                code = self.account.window_code(str(payload.get("OAID") or "").strip()) or code
            key = (req.api_key, req.request_id) if req else ("", "")
            if code == "100" and req and not req.sandbox and req.request_id:
                seen = self.request_ids.get(key)
                if seen and time.time() - seen[0] < settings.request_id_ttl:
                    code = "124"
                    self.repeat_counts[key] = self.repeat_counts.get(key, 0) + 1
            if code == "100" and req and not req.sandbox and self.account.balance(settings.balance) < price_of(req):
                code = "103"
            if code != "100" or req is None:
                self._log_send(code, payload, None)
                answer = {"CodeResult": code, "CountRegenerate": 0, "ErrorMessage": wire.error_message(code)}
                return SendOutcome(200, answer)
            early = fault_early < settings.early_callback_rate and not req.sandbox
            message = self._accept(req, settings, early)
            timeout = fault_timeout < settings.send_timeout_rate and not req.sandbox
            if timeout:
                self.stats["injected"]["send_timeout"] += 1
            self._log_send("100", payload, message.smsid, timeout_injected=timeout)
        self._dispatch(message)
        if timeout:
            # The message is stored and its callbacks are on their way; only the
            # answer is late, so the client times out and retries the RequestId.
            self.stopping.wait(settings.timeout_delay)
        return SendOutcome(200, {"CodeResult": "100", "CountRegenerate": 0, "SMSID": message.smsid})

    def _accept(self, req: SendRequest, settings: SimSettings, early: bool) -> Message:
        """Create, plan and register an accepted message (caller holds the lock)."""
        rng = self.rng
        smsid = wire.new_smsid(rng)
        partner_id, user_id = wire.new_partner_id(rng), wire.new_zalo_user_id(rng)
        price, echo = price_of(req), rng.random() < 0.5
        telco = wire.telco_of(req.local_phone)
        type_id = type_id_of(req)
        now = datetime.now(UTC)
        plan = None
        if not req.sandbox:
            form = wire.ERROR_INFO_FORMS[self._form_counter % len(wire.ERROR_INFO_FORMS)]
            self._form_counter += 1
            ctx = planning.Context(
                smsid=smsid,
                request_id=req.request_id,
                phone=req.phone,
                type_id=type_id,
                telco_id=telco,
                oa_id=req.oa_id,
                template_id=req.template_id,
                price=price,
                partner_id=partner_id,
                user_id=user_id,
                echo_request_id=echo,
                form=form,
                accepted_at=now,
            )
            forced = settings.forced_outcomes.get(req.phone)
            outcome, zalo_code = planning.choose_outcome(rng, settings, forced)
            # Counted (quota, journey) whatever happens; a forced outcome still wins.
            refusal = self.account.zalo_refusal(req, settings, now)
            if refusal is not None and not forced:
                outcome, zalo_code = "failed", refusal
            plan = planning.Plan(outcome, zalo_code)
            plan.steps = planning.build_steps(rng, settings, ctx, outcome, zalo_code)
            deliveries = planning.build_deliveries(rng, settings, plan.steps, early and zalo_code != wire.NOT_ONLINE)
            # Without a CallbackUrl eSMS calls nobody, but the status still moves on.
            plan.deliveries = deliveries if req.callback_url else []
            self._count_plan(plan)
            if outcome == "delivered":
                self.account.spent += price
            if plan.steps[-1].partner_id:
                self.by_partner_id[partner_id] = smsid
        message = Message(
            smsid=smsid,
            request=req,
            type_id=type_id,
            telco_id=telco,
            price=price,
            created_at=wire.iso(now),
            created_mono=time.monotonic(),
            plan=plan,
            created=now,
            sms_id=0 if req.sandbox else next(self._sms_ids),
        )
        self.messages[smsid] = message
        key = (req.api_key, req.request_id)
        if req.sandbox:
            self.stats["sends"]["sandbox"] += 1
        elif req.request_id:
            self.request_ids[key] = (time.time(), smsid)
            self.accept_counts[key] = self.accept_counts.get(key, 0) + 1
        return message

    def _count_plan(self, plan: planning.Plan) -> None:
        calls = self.stats["callbacks"]
        calls["planned"] += len(plan.deliveries)
        calls["duplicated"] += sum(d.duplicate for d in plan.deliveries)
        calls["late"] += sum(d.late for d in plan.deliveries)

    def _dispatch(self, message: Message) -> None:
        if message.plan is None or not message.plan.deliveries:
            return
        generation = self.dispatcher.generation
        url = message.request.callback_url
        jobs = [
            # eSMS always appends "?", even to a URL that already has a query string.
            Job(message.smsid, f"{url}?{message.plan.steps[d.step].query}", d, generation)
            for d in message.plan.deliveries
        ]
        if jobs[0].delivery.early:
            with self.lock:
                self.stats["injected"]["early_callback"] += 1
            self.dispatcher.deliver_now(jobs.pop(0))
        self.dispatcher.schedule(jobs, message.created_mono)

    def _log_send(self, code: str, payload: dict[str, Any], smsid: str | None, timeout_injected: bool = False) -> None:
        sends = self.stats["sends"]
        sends["total"] += 1
        sends["by_code"][code] = sends["by_code"].get(code, 0) + 1
        self.sends.append(
            {
                "at": wire.now_iso(),
                "code": code,
                "smsid": smsid,
                "request_id": payload.get("RequestId"),
                "phone": payload.get("Phone"),
                "order_id": payload.get("OrderId"),
                "timeout_injected": timeout_injected,
            }
        )

    def _count_callback(self, name: str, n: int) -> None:
        with self.lock:
            self.stats["callbacks"][name] += n

    # -- reading -----------------------------------------------------------

    def find(self, smsid: str) -> Message | None:
        """A message as eSMS's status APIs see it: sandbox sends are not stored there."""
        with self.lock:
            message = self.messages.get(smsid)
        return None if message is None or message.request.sandbox else message

    def by_partner(self, partner_id: str) -> Message | None:
        with self.lock:
            smsid = self.by_partner_id.get(partner_id)
        return self.find(smsid) if smsid else None

    def stored(self) -> list[Message]:
        """Every message eSMS stored (not the sandbox ones), oldest first."""
        with self.lock:
            return [m for m in self.messages.values() if not m.request.sandbox]

    def stats_view(self) -> dict[str, Any]:
        with self.lock:
            stats: dict[str, Any] = {k: dict(v) for k, v in self.stats.items()}
            stats["sends"]["by_code"] = dict(self.stats["sends"]["by_code"])
            stats["messages"] = sum(not m.request.sandbox for m in self.messages.values())
        stats["callbacks"]["pending"] = self.dispatcher.pending()
        return stats
