"""Planning one accepted message: its outcome, its status timeline and its callback deliveries.

A message passes through SendStatus 2 -> 7 -> 5 (or 1|2 -> 4 when eSMS rejects it, on
request only); the status APIs see each step. eSMS calls back once, with the final status
(esms-api/callback-url.md: "when the message has its actual status"; every sample is
SendStatus 5), so only the final step gets a callback unless ``intermediate_statuses``
asks for the others. A Zalo refusal is SendStatus 5 with SendFailed=1 and Zalo's code in
error_info (the -114 sample); 1001 arrives after the template's timeout
(ham-lay-thong-tin-trang-thai-zns-1.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tracker.simulator import wire
from tracker.simulator.settings import SimSettings

FINAL_SEND_STATUSES = wire.FINAL_SEND_STATUSES


@dataclass(frozen=True)
class Context:
    """What a plan needs to know about the message it is for."""

    smsid: str
    request_id: str
    phone: str
    type_id: int
    telco_id: int
    oa_id: str
    template_id: str
    price: float
    partner_id: str
    user_id: str
    echo_request_id: bool
    form: str
    accepted_at: datetime


@dataclass
class Step:
    """One status eSMS reaches, ``offset`` seconds after accepting the send."""

    offset: float
    send_status: int
    send_success: int
    send_failed: int
    total_price: float
    total_sent: int
    partner_id: str
    # As the receiver sees it after decoding the query string once; None on non-finals.
    error_info: str | None
    query: str
    # The RequestId the callback carried ("" when eSMS left it empty, as its samples do).
    request_id: str = ""

    @property
    def final(self) -> bool:
        return self.send_status in FINAL_SEND_STATUSES


@dataclass
class Delivery:
    """One planned GET of the CallbackUrl, carrying ``steps[step]``."""

    step: int
    due: float
    duplicate: bool = False
    late: bool = False
    dropped: bool = False
    early: bool = False
    # pending -> retrying* -> delivered | failed | dropped
    state: str = "pending"
    attempts: int = 0
    at: str | None = None
    http_status: int | None = None
    error: str | None = None


@dataclass
class Plan:
    outcome: str
    zalo_code: int
    steps: list[Step] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def called_back(self, step: int) -> bool:
        """Whether eSMS calls back (and GetCallback reports) ``steps[step]``."""
        return any(d.step == step for d in self.deliveries)


def _either(a: float, b: float) -> float:
    """Probability that at least one of two independent causes fires."""
    return 1.0 - (1.0 - a) * (1.0 - b)


def choose_outcome(rng: random.Random, settings: SimSettings, forced: str | None) -> tuple[str, int]:
    """(tracker status word, Zalo code); both draws always happen so seeds stay aligned."""
    draw, reason_draw = rng.random(), rng.random()
    if forced:
        name, _, code = forced.partition(":")
    else:
        weights = (settings.delivered_rate, settings.failed_rate, settings.rejected_rate)
        total = sum(weights) or 1.0
        point, name = draw * total, "delivered"
        for candidate, weight in zip(("delivered", "failed", "rejected"), weights, strict=True):
            if point < weight:
                name = candidate
                break
            point -= weight
        code = ""
    if code.lstrip("-").isdigit():
        return name, int(code)
    if name == "delivered":
        return name, 0
    reasons = wire.FAILED_REASONS if name == "failed" else wire.REJECTED_REASONS
    if forced:
        # A forced "failed" is a refusal at once; the slow 1001 only when named ("failed:1001").
        reasons = tuple(r for r in reasons if r[0] != wire.NOT_ONLINE)
    return name, reasons[int(reason_draw * len(reasons))][0]


def _step(ctx: Context, outcome: str, zalo_code: int, offset: float, send_status: int) -> Step:
    """One status and the callback that carries it (callback-url.md's parameters and samples)."""
    final = send_status in FINAL_SEND_STATUSES
    ok = outcome == "delivered"
    # Zalo took a message it delivered, or held it until the template's timeout (1001);
    # one Zalo refused has no Zalo message id (the -114 sample: empty partnerids, TotalSent=0).
    held = ok or zalo_code == wire.NOT_ONLINE
    success = 1 if final and ok else 0
    failed = 1 if final and not ok else 0
    price = ctx.price if final and ok else 0.0
    total_sent = 0 if final and not held else 1
    reached_zalo = send_status in (wire.SEND_STATUS_AT_OPERATOR, wire.SEND_STATUS_FINISHED)
    partner = ctx.partner_id if reached_zalo and held else ""
    pairs = [
        ("SMSID", ctx.smsid),
        ("SendFailed", str(failed)),
        ("SendStatus", str(send_status)),
        ("SendSuccess", str(success)),
        ("TotalPrice", f"{price:.4f}"),
        ("TotalReceiver", "1"),
        ("TotalSent", str(total_sent)),
        ("RequestId", ctx.request_id if ctx.echo_request_id else ""),
        ("TypeId", str(ctx.type_id)),
        ("telcoid", str(ctx.telco_id)),
        ("phonenumber", ctx.phone),
        ("partnerids", partner),
    ]
    raw: dict[str, str] = {}
    error_info = None
    if final:
        payload = wire.error_info_payload(zalo_code, ctx.form, ctx.partner_id, ctx.user_id)
        at = ctx.accepted_at + timedelta(seconds=offset)
        error_info, raw["error_info"] = wire.encode_error_info(payload, ctx.form, at)
        pairs.append(("error_info", error_info))
    pairs += [("oaid", ctx.oa_id), ("tempid", ctx.template_id)]
    return Step(
        offset=offset,
        send_status=send_status,
        send_success=success,
        send_failed=failed,
        total_price=price,
        total_sent=total_sent,
        partner_id=partner,
        error_info=error_info,
        query=wire.callback_query(pairs, raw),
        request_id=ctx.request_id if ctx.echo_request_id else "",
    )


def build_steps(rng: random.Random, settings: SimSettings, ctx: Context, outcome: str, zalo_code: int) -> list[Step]:
    """2 -> 7 -> 5 for delivered/failed; 1 -> 4 or 2 -> 4 for rejected; jittered, scaled by speed.
    A 1001 failure's 5 comes after the template's timeout."""
    jitter = [rng.uniform(0.7, 1.3) for _ in range(3)]
    via_approval = rng.random() < 0.5
    if outcome == "rejected":
        first = wire.SEND_STATUS_PENDING_APPROVAL if via_approval else wire.SEND_STATUS_WAITING
        statuses, gaps = [first, wire.SEND_STATUS_REJECTED], [0.3, 0.7]
    else:
        statuses = [wire.SEND_STATUS_WAITING, wire.SEND_STATUS_AT_OPERATOR, wire.SEND_STATUS_FINISHED]
        gaps = [0.3, 0.5, 0.7]
    steps, offset = [], 0.0
    for send_status, gap, j in zip(statuses, gaps, jitter[: len(statuses)], strict=True):
        offset += gap * j * settings.speed
        if send_status == wire.SEND_STATUS_FINISHED and zalo_code == wire.NOT_ONLINE:
            offset = max(offset, settings.template_timeout * settings.speed)
        steps.append(_step(ctx, outcome, zalo_code, offset, send_status))
    return steps


def build_deliveries(rng: random.Random, settings: SimSettings, steps: list[Step], early: bool) -> list[Delivery]:
    """The final step's delivery (every step's with ``intermediate_statuses``), plus the
    occasional late, duplicate, lost or early one; the same draws happen in both modes."""
    speed = settings.speed
    deliveries = [
        Delivery(step=i, due=s.offset) for i, s in enumerate(steps) if s.final or settings.intermediate_statuses
    ]
    late_draw, late_pick, late_gap = rng.random(), rng.random(), rng.uniform(0.05, 0.4)
    late_extra = rng.uniform(2.0, 20.0)
    if late_draw < _either(settings.natural_late_rate, settings.reorder_rate):
        if len(deliveries) > 1:
            # A non-final callback overtaken by the next one (e.g. a "2" after the "7").
            i = int(late_pick * (len(deliveries) - 1))
            moved = deliveries.pop(i)
            moved.due = deliveries[i].due + late_gap * speed
            deliveries.insert(i + 1, moved)
        else:
            # The one callback comes seconds late: a status query may see the outcome first.
            moved = deliveries[0]
            moved.due += late_extra * speed
        moved.late = True
    dup_draw, dup_gap = rng.random(), rng.uniform(0.05, 0.5)
    if dup_draw < _either(settings.natural_duplicate_rate, settings.duplicate_callback_rate):
        last = len(steps) - 1
        deliveries.append(Delivery(step=last, due=steps[last].offset + dup_gap * speed, duplicate=True))
    # Stable: at speed 0 every due is 0 and the planned order is kept.
    deliveries.sort(key=lambda d: d.due)
    lost = _either(settings.drop_callback_rate, settings.natural_lost_rate)
    # As many draws in both modes (one per step and one for a duplicate): seeds stay aligned.
    draws = [rng.random() for _ in range(len(steps) + 1)]
    for d, draw in zip(deliveries, draws, strict=False):
        d.dropped = draw < lost
    first = deliveries[0]
    if early and not first.late and first.step in (0, len(steps) - 1):
        # Called back before eSMS has answered the send: that step (and those before it) now.
        first.early, first.dropped, first.due = True, False, 0.0
        for s in steps[: first.step + 1]:
            s.offset = 0.0
    return deliveries
