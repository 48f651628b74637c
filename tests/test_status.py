"""Status ranking and the replace rule, table by table."""

import itertools

import pytest

from tracker import status as st

ORDER = ["queued", "sending", "accepted", "pending_approval", "waiting", "sent"]
FINALS = ["delivered", "failed", "rejected"]


def expected(current: str, incoming: str) -> str:
    """The rule of SPEC section 4, written out independently of the code under test."""
    if current == incoming:
        return "duplicate"
    if current in FINALS:
        return "stale"
    if incoming in FINALS:
        return "applied"
    return "applied" if ORDER.index(incoming) > ORDER.index(current) else "stale"


@pytest.mark.parametrize("current,incoming", list(itertools.product(ORDER + FINALS, repeat=2)))
def test_decide_every_pair(current, incoming):
    assert st.decide(current, incoming) == expected(current, incoming)


@pytest.mark.parametrize("incoming", ORDER + FINALS)
def test_replaceable_by_agrees_with_decide(incoming):
    allowed = {c for c in ORDER + FINALS if expected(c, incoming) == "applied"}
    assert set(st.replaceable_by(incoming)) == allowed


def test_finals_are_final_and_nothing_else():
    assert {s for s in st.ALL if st.is_final(s)} == set(FINALS)
    assert set(st.IN_FLIGHT) == set(ORDER)


def test_unknown_word_has_no_rank():
    with pytest.raises(KeyError):
        st.rank("lost")
