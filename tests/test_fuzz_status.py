"""Hypothesis: the status rules. Finals never regress; any arrival order of a message's callbacks ends the same.

Purely on tracker.status for many examples, and through the real webhook on each database for a few.
"""

from __future__ import annotations

import itertools
import os
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as s
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support import SECRET
from tracker import status as st
from tracker import tokens
from tracker.db import utcnow
from tracker.esms.callback import parse_callback
from tracker.esms.statuses import from_send_status
from tracker.models import Event, Message

# (SendStatus, SendSuccess, SendFailed, error_info): what eSMS may say about one message.
PROGRESS = [(1, 0, 0, None), (2, 0, 0, None), (7, 0, 0, None), (5, 0, 0, None)]
FINALS = [
    (5, 1, 0, '{"error":0,"message":"Success"}'),
    (5, 0, 1, None),
    (5, 0, 1, '"{\\"error\\":-114,\\"message\\":\\"User is inactive\\"}"'),
    (4, 0, 0, None),
]

# A message's callbacks: some progress reports, at most one outcome, some of them repeated.
callback_sets = s.tuples(
    s.lists(s.sampled_from(PROGRESS), max_size=4, unique=True),
    s.lists(s.sampled_from(FINALS), max_size=1),
).flatmap(
    lambda parts: (
        s.lists(
            s.sampled_from(parts[0] + parts[1]),
            min_size=len(parts[0] + parts[1]),
            max_size=len(parts[0] + parts[1]) + 3,
        ).filter(lambda chosen: set(parts[0] + parts[1]) <= set(chosen))
        if parts[0] + parts[1]
        else s.just([])
    )
)


def word(report: tuple) -> str:
    return from_send_status(*report[:3])


def fold(start: str, incoming: list[str]) -> tuple[str, list[str]]:
    """Apply statuses the way the webhook does; returns the end status and each one's outcome."""
    current, outcomes = start, []
    for status in incoming:
        outcome = st.decide(current, status)
        outcomes.append(outcome)
        if outcome == st.APPLIED:
            current = status
    return current, outcomes


@settings(max_examples=3000, deadline=None)
@given(s.sampled_from(st.ALL), s.lists(s.sampled_from(st.ALL), max_size=12))
def test_rank_never_goes_down_and_a_final_never_changes(start, incoming):
    current = start
    for status in incoming:
        before = current
        current, _ = fold(current, [status])
        assert st.rank(current) >= st.rank(before)
        if st.is_final(before):
            assert current == before


@settings(max_examples=2000, deadline=None)
@given(s.sampled_from([st.QUEUED, st.SENDING, st.ACCEPTED]), callback_sets, s.randoms(use_true_random=False))
def test_any_order_of_one_messages_callbacks_ends_the_same(start, reports, rnd):
    statuses = [word(r) for r in reports]
    shuffled = statuses[:]
    rnd.shuffle(shuffled)
    assert fold(start, statuses)[0] == fold(start, shuffled)[0]


@settings(max_examples=500, deadline=None)
@given(s.lists(s.sampled_from(PROGRESS + FINALS), min_size=1, max_size=6))
def test_the_parser_and_the_rules_agree_on_every_report(reports):
    for report in reports:
        cb = parse_callback(
            {
                "SMSID": "S",
                "SendStatus": str(report[0]),
                "SendSuccess": str(report[1]),
                "SendFailed": str(report[2]),
                **({"error_info": report[3]} if report[3] else {}),
            }
        )
        assert cb.status == word(report) and cb.status in st.ALL
        assert (cb.error_code is None) == (cb.status not in (st.FAILED, st.REJECTED))


# -- through the real webhook ----------------------------------------------------------------------

DB_EXAMPLES = int(os.environ.get("TRACKER_FUZZ_DB_N", "25"))
_ids = itertools.count()


def query(smsid: str, report: tuple) -> str:
    params = {
        "SMSID": smsid,
        "SendStatus": report[0],
        "SendSuccess": report[1],
        "SendFailed": report[2],
        "TotalPrice": "220.0000" if report[1] else "0.0000",
        "telcoid": 2,
        "phonenumber": "0901888484",
    }
    if report[3]:
        params["error_info"] = report[3]
    return urlencode(params)


def end_state(engine, mid: int) -> tuple:
    with Session(engine) as session:
        m = session.get(Message, mid)
        return m.status, m.error_code, m.error_message, m.price, m.telco, m.smsid


@pytest.mark.parametrize("start", [st.SENDING, st.ACCEPTED])
def test_the_webhook_ends_the_same_in_any_order(client, engine, start):
    @settings(
        max_examples=DB_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(callback_sets.filter(bool), s.randoms(use_true_random=False))
    def check(reports, rnd):
        orders = [reports, reports[::-1], rnd.sample(reports, len(reports))]
        states, finals = [], []
        for order in orders:
            smsid = f"S{next(_ids)}"
            with Session(engine) as session:
                msg = Message(
                    source="api",
                    status=start,
                    phone="+84901888484",
                    template_id="t",
                    oa_id="1",
                    params=["a"],
                    order_id="o",
                    sandbox=False,
                    attempts=1,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                    smsid=smsid if start == st.ACCEPTED else None,
                )
                session.add(msg)
                session.commit()
                mid = msg.id
            url = f"/webhooks/esms/{tokens.make(SECRET, mid)}"
            final_at = None
            for report in order:
                assert client.get(f"{url}?{query(smsid, report)}").status_code == 200
                with Session(engine) as session:
                    m = session.get(Message, mid)
                    if final_at is not None:
                        assert m.final_at == final_at  # a final's time never moves
                    elif st.is_final(m.status):
                        final_at = m.final_at
            status, code, message, price, telco, stored_smsid = end_state(engine, mid)
            assert stored_smsid == smsid
            states.append((status, code, message, price, telco))
            with Session(engine) as session:
                outcomes = session.scalars(select(Event.outcome).where(Event.message_id == mid)).all()
            assert len(outcomes) == len(order)  # every callback kept, marked with what it did
            assert set(outcomes) <= {st.APPLIED, st.DUPLICATE, st.STALE}
            finals.append(status)
        assert states[0] == states[1] == states[2], states
        assert finals[0] == fold(start, [word(r) for r in reports])[0]

    check()
