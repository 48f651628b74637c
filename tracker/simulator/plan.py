"""Planning one accepted message: its outcome, its status timeline and its callback deliveries."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tracker.esms import statuses as st
from tracker.simulator import wire
from tracker.simulator.settings import SimSettings

FINAL_SEND_STATUSES = frozenset({st.SEND_STATUS_REJECTED, st.SEND_STATUS_FINISHED})


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
    return name, reasons[int(reason_draw * len(reasons))][0]


def _step(ctx: Context, outcome: str, zalo_code: int, offset: float, send_status: int) -> Step:
    final = send_status in FINAL_SEND_STATUSES
    ok = outcome == "delivered"
    success = 1 if final and ok else 0
    failed = 1 if final and not ok else 0
    price = ctx.price if final and ok else 0.0
    total_sent = 0 if final and not ok else 1
    # Zalo's message id exists once Zalo took the message; a refused one has none
    # (eSMS's failed sample carries an empty partnerids).
    reached_zalo = send_status in (st.SEND_STATUS_AT_OPERATOR, st.SEND_STATUS_FINISHED)
    partner = ctx.partner_id if reached_zalo and ok else ""
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
    )


def build_steps(rng: random.Random, settings: SimSettings, ctx: Context, outcome: str, zalo_code: int) -> list[Step]:
    """2 -> 7 -> 5 for delivered/failed; 1 -> 4 or 2 -> 4 for rejected; jittered, scaled by speed."""
    jitter = [rng.uniform(0.7, 1.3) for _ in range(3)]
    via_approval = rng.random() < 0.5
    if outcome == "rejected":
        first = st.SEND_STATUS_PENDING_APPROVAL if via_approval else st.SEND_STATUS_WAITING
        statuses, gaps = [first, st.SEND_STATUS_REJECTED], [0.3, 0.7]
    else:
        statuses = [st.SEND_STATUS_WAITING, st.SEND_STATUS_AT_OPERATOR, st.SEND_STATUS_FINISHED]
        gaps = [0.3, 0.5, 0.7]
    steps, offset = [], 0.0
    for send_status, gap, j in zip(statuses, gaps, jitter[: len(statuses)], strict=True):
        offset += gap * j * settings.speed
        steps.append(_step(ctx, outcome, zalo_code, offset, send_status))
    return steps


def build_deliveries(rng: random.Random, settings: SimSettings, steps: list[Step], early: bool) -> list[Delivery]:
    """One delivery per step, plus the occasional late, duplicate, dropped or early one."""
    speed = settings.speed
    deliveries = [Delivery(step=i, due=s.offset) for i, s in enumerate(steps)]
    late_draw, late_pick, late_gap = rng.random(), rng.random(), rng.uniform(0.05, 0.4)
    if late_draw < _either(settings.natural_late_rate, settings.reorder_rate) and len(steps) > 1:
        # A non-final callback overtaken by the next one (e.g. a "2" after the "7").
        i = int(late_pick * (len(steps) - 1))
        moved = deliveries.pop(i)
        moved.late = True
        moved.due = deliveries[i].due + late_gap * speed
        deliveries.insert(i + 1, moved)
    dup_draw, dup_gap = rng.random(), rng.uniform(0.05, 0.5)
    if dup_draw < _either(settings.natural_duplicate_rate, settings.duplicate_callback_rate):
        last = len(steps) - 1
        deliveries.append(Delivery(step=last, due=steps[last].offset + dup_gap * speed, duplicate=True))
    # Stable: at speed 0 every due is 0 and the planned order is kept.
    deliveries.sort(key=lambda d: d.due)
    for d in deliveries:
        d.dropped = rng.random() < settings.drop_callback_rate
    if early and deliveries and deliveries[0].step == 0:
        first = deliveries[0]
        first.early, first.dropped, first.due = True, False, 0.0
        steps[0].offset = 0.0
    return deliveries
