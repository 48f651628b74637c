"""eSMS SendStatus and counters onto status words, table by table."""

import pytest

from tracker import status as st
from tracker.esms import statuses


@pytest.mark.parametrize(
    "send_status,success,failed,want",
    [
        (1, 0, 0, "pending_approval"),
        (2, 0, 0, "waiting"),
        (4, 0, 0, "rejected"),
        (4, 0, 1, "rejected"),
        (7, 0, 0, "sent"),
        (5, 1, 0, "delivered"),
        (5, 1, 1, "delivered"),
        (5, 0, 1, "failed"),
        (5, 0, 2, "failed"),
        (5, 0, 0, "sent"),
        (5, None, None, "sent"),
        (3, 0, 0, None),
        (6, 1, 0, None),
        (0, 0, 0, None),
        (None, 1, 0, None),
    ],
)
def test_from_send_status(send_status, success, failed, want):
    assert statuses.from_send_status(send_status, success, failed) == want


def test_every_valid_send_status_maps_to_a_word():
    for send_status in statuses.VALID_SEND_STATUSES:
        assert statuses.from_send_status(send_status, 0, 0) in st.ALL
