"""One message eSMS accepted: its TypeId, its price, and the status its plan has reached by now.

TypeId and TotalPrice as esms-api/callback-url.md's samples show them (TypeId 27 in the
journey sample, 25 "Zalo normal"; TotalPrice 220.0000 for the journey); the ZNS price is
QueryZnsStatus's sample TotalPrice (esms-api/ham-truy-xuat-va-dang-ky/ham-lay-thong-tin-trang-thai-zns-1.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from tracker.simulator import plan as planning
from tracker.simulator.validate import SendRequest

# TypeId of callback-url.md: 27 in the journey sample, 25 "Zalo normal".
JOURNEY_TYPE_ID = 27
ZNS_TYPE_ID = 25
# TotalPrice of the journey sample (220.0000) and of QueryZnsStatus's sample (330.0).
JOURNEY_PRICE, ZNS_PRICE = 220.0, 330.0


@dataclass
class Message:
    """One message eSMS accepted (sandbox ones are kept for the ground truth only)."""

    smsid: str
    request: SendRequest
    type_id: int
    telco_id: int
    price: float
    created_at: str
    created_mono: float
    plan: planning.Plan | None
    created: datetime | None = None
    sms_id: int = 0

    def current_step(self) -> planning.Step | None:
        """The latest status eSMS has reached by now; None just after the send."""
        if self.plan is None:
            return None
        elapsed = time.monotonic() - self.created_mono
        reached = [s for s in self.plan.steps if s.offset <= elapsed]
        return reached[-1] if reached else None


def type_id_of(req: SendRequest) -> int:
    return JOURNEY_TYPE_ID if req.is_journey else ZNS_TYPE_ID


def price_of(req: SendRequest) -> float:
    return JOURNEY_PRICE if req.is_journey else ZNS_PRICE
