"""Status words, their ranking, and the rule of which status may replace which (pure).

How a provider's own status values map onto these words lives beside its client
(tracker/esms/statuses.py for eSMS).
"""

from __future__ import annotations

QUEUED = "queued"
SENDING = "sending"
ACCEPTED = "accepted"
PENDING_APPROVAL = "pending_approval"
WAITING = "waiting"
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
REJECTED = "rejected"

# Order matters: a status may only be replaced by one of strictly higher rank.
# The three final words share the top rank, so no final ever replaces another.
_RANKS: dict[str, int] = {
    QUEUED: 0,
    SENDING: 1,
    ACCEPTED: 2,
    PENDING_APPROVAL: 3,
    WAITING: 4,
    SENT: 5,
    DELIVERED: 6,
    FAILED: 6,
    REJECTED: 6,
}

ALL: tuple[str, ...] = tuple(_RANKS)
FINAL: frozenset[str] = frozenset({DELIVERED, FAILED, REJECTED})
IN_FLIGHT: tuple[str, ...] = tuple(s for s in ALL if s not in FINAL)

# What an incoming status did to a message; stored on every event.
APPLIED = "applied"
DUPLICATE = "duplicate"
STALE = "stale"
CONFLICT = "conflict"
INVALID = "invalid"
OUTCOMES: tuple[str, ...] = (APPLIED, DUPLICATE, STALE, CONFLICT, INVALID)


def rank(status: str) -> int:
    """Rank of a status word; raises KeyError for an unknown word."""
    return _RANKS[status]


def is_final(status: str) -> bool:
    return status in FINAL


def replaceable_by(incoming: str) -> tuple[str, ...]:
    """The current statuses that ``incoming`` may replace (strictly lower rank).

    Used in the SQL ``WHERE status IN (...)`` so the database itself refuses a
    regression, even when two callbacks race.
    """
    r = _RANKS[incoming]
    return tuple(s for s, sr in _RANKS.items() if sr < r)


def decide(current: str, incoming: str) -> str:
    """What ``incoming`` does to a message whose status is ``current``."""
    if incoming == current:
        return DUPLICATE
    if _RANKS[incoming] > _RANKS[current]:
        return APPLIED
    return STALE
