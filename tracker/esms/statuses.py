"""eSMS SendStatus values, and how a report's SendStatus and counters map onto status words (pure)."""

from __future__ import annotations

from tracker import status as st

# eSMS SendStatus values (REFERENCE section 2).
SEND_STATUS_PENDING_APPROVAL = 1
SEND_STATUS_WAITING = 2
SEND_STATUS_REJECTED = 4
SEND_STATUS_FINISHED = 5
SEND_STATUS_AT_OPERATOR = 7
VALID_SEND_STATUSES: frozenset[int] = frozenset(
    {
        SEND_STATUS_PENDING_APPROVAL,
        SEND_STATUS_WAITING,
        SEND_STATUS_REJECTED,
        SEND_STATUS_FINISHED,
        SEND_STATUS_AT_OPERATOR,
    }
)


def from_send_status(send_status: int | None, send_success: int | None, send_failed: int | None) -> str | None:
    """Map an eSMS callback's SendStatus and counters to a status word.

    Returns None when the values carry no usable status.
    """
    if send_status == SEND_STATUS_PENDING_APPROVAL:
        return st.PENDING_APPROVAL
    if send_status == SEND_STATUS_WAITING:
        return st.WAITING
    if send_status == SEND_STATUS_REJECTED:
        return st.REJECTED
    if send_status == SEND_STATUS_AT_OPERATOR:
        return st.SENT
    if send_status == SEND_STATUS_FINISHED:
        if (send_success or 0) >= 1:
            return st.DELIVERED
        if (send_failed or 0) >= 1:
            return st.FAILED
        # Finished with neither counted: eSMS is still waiting for the report.
        return st.SENT
    return None
