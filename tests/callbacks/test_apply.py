"""tracker.callbacks.apply: applying one report (callback or reconciliation) to its message and logging
it, on SQLite and PostgreSQL. The never-regress rule lives in the UPDATE's WHERE: lower or equal ranks
never replace a status, a final never replaces a final (except the reconciler's timeout guess), a
different SMSID is a conflict; change_status applies the same rule in bulk; apply_by_smsid finds the
message by SMSID or creates an external one."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.callbacks.support import DELIVERED, FAILED, report
from tests.support import events, message
from tracker.callbacks import apply
from tracker.callbacks.apply import TIMEOUT_CODE, Applied
from tracker.db import utcnow

SENT, WAITING, PENDING = 7, 2, 1  # eSMS SendStatus: at the operator, waiting, pending approval


def test_a_report_updates_its_message_and_logs_an_event(engine, make_message):
    mid = make_message(smsid=None, due_at=utcnow())
    cb = report("S1", **DELIVERED, TotalPrice="220.0000", telcoid="9", partnerids="z-1")
    got = apply.apply_to_message(engine, mid, cb, raw="SMSID=S1", extra={"arrival": "a1"})
    assert got == Applied(mid, "applied")
    m = message(engine, mid)
    assert (m.status, m.smsid, str(m.price), m.telco, m.zalo_msg_id) == (
        "delivered",
        "S1",
        "220.0000",
        "Zalo UID",
        "z-1",
    )
    assert m.final_at is not None and m.sent_at is not None and m.due_at is None
    (ev,) = events(engine, mid)
    assert (ev.kind, ev.outcome, ev.status, ev.smsid, ev.raw) == ("callback", "applied", "delivered", "S1", "SMSID=S1")
    assert ev.data["arrival"] == "a1" and ev.data["send_status"] == 5


def test_the_kind_is_logged(engine, make_message):
    mid = make_message(smsid="S1")
    apply.apply_to_message(engine, mid, report("S1", SENT), kind="reconcile")
    assert events(engine, mid)[0].kind == "reconcile"


def test_a_non_final_report_keeps_final_at_empty_and_sent_at_first(engine, make_message):
    mid = make_message(smsid="S1")
    apply.apply_to_message(engine, mid, report("S1", WAITING))
    first = message(engine, mid)
    assert first.status == "waiting" and first.final_at is None and first.sent_at is not None
    apply.apply_to_message(engine, mid, report("S1", SENT))
    assert message(engine, mid).sent_at == first.sent_at


def test_a_failure_keeps_its_error_code_as_text(engine, make_message):
    mid = make_message(smsid="S1")
    cb = report("S1", **FAILED, error_info='{"error": -114, "message": "User is inactive"}')
    apply.apply_to_message(engine, mid, cb)
    m = message(engine, mid)
    assert (m.status, m.error_code) == ("failed", "-114")
    assert "inactive" in m.error_message


@pytest.mark.parametrize(
    "first, then, outcome, final",
    [
        (DELIVERED, dict(send_status=SENT), "stale", "delivered"),  # never regresses
        (dict(send_status=SENT), dict(send_status=WAITING), "stale", "sent"),
        (dict(send_status=SENT), dict(send_status=PENDING), "stale", "sent"),
        (DELIVERED, FAILED, "stale", "delivered"),  # a final never replaces a final
        (FAILED, DELIVERED, "stale", "failed"),
        (DELIVERED, DELIVERED, "duplicate", "delivered"),
        (dict(send_status=SENT), dict(send_status=SENT), "duplicate", "sent"),
        (dict(send_status=WAITING), dict(send_status=SENT), "applied", "sent"),
        (dict(send_status=SENT), FAILED, "applied", "failed"),
    ],
)
def test_the_status_rule(engine, make_message, first, then, outcome, final):
    mid = make_message(smsid="S1")
    assert apply.apply_to_message(engine, mid, report("S1", **first)).outcome == "applied"
    assert apply.apply_to_message(engine, mid, report("S1", **then)).outcome == outcome
    assert message(engine, mid).status == final
    assert [e.outcome for e in events(engine, mid)] == ["applied", outcome]


def test_a_stale_report_changes_nothing_on_the_row(engine, make_message):
    mid = make_message(smsid="S1")
    apply.apply_to_message(engine, mid, report("S1", **DELIVERED, TotalPrice="220"))
    before = message(engine, mid)
    apply.apply_to_message(engine, mid, report("S1", SENT, TotalPrice="999"))
    after = message(engine, mid)
    assert (after.status, after.price, after.updated_at, after.final_at) == (
        before.status,
        before.price,
        before.updated_at,
        before.final_at,
    )


def test_the_reconcilers_timeout_guess_gives_way_to_a_real_final(engine, make_message):
    mid = make_message(smsid="S1", status="failed", error_code=TIMEOUT_CODE)
    assert apply.apply_to_message(engine, mid, report("S1", SENT)).outcome == "stale"
    assert apply.apply_to_message(engine, mid, report("S1", **DELIVERED)).outcome == "applied"
    m = message(engine, mid)
    assert (m.status, m.error_code) == ("delivered", None)


def test_a_real_failure_is_not_a_guess(engine, make_message):
    mid = make_message(smsid="S1", status="failed", error_code="-114")
    assert apply.apply_to_message(engine, mid, report("S1", **DELIVERED)).outcome == "stale"


def test_a_different_smsid_is_a_conflict(engine, make_message):
    mid = make_message(smsid="S1")
    assert apply.apply_to_message(engine, mid, report("OTHER", **DELIVERED)).outcome == "conflict"
    assert message(engine, mid).status == "accepted"


def test_an_smsid_another_message_holds_is_a_conflict(engine, make_message):
    make_message(smsid="TAKEN", request_id="r1")
    mid = make_message(smsid=None, request_id="r2")
    assert apply.apply_to_message(engine, mid, report("TAKEN", **DELIVERED)).outcome == "conflict"
    m = message(engine, mid)
    assert (m.status, m.smsid) == ("accepted", None)


def test_an_invalid_report_is_logged_and_changes_nothing(engine, make_message):
    mid = make_message(smsid="S1")
    cb = report("S1", "banana")
    assert cb.status is None
    assert apply.apply_to_message(engine, mid, cb) == Applied(mid, "invalid")
    assert message(engine, mid).status == "accepted"
    assert [e.outcome for e in events(engine, mid)] == ["invalid"]


@pytest.mark.parametrize("cb", [report("S1", **DELIVERED), report("S1", "banana")])
def test_no_such_message_is_none_and_stores_nothing(engine, cb):
    assert apply.apply_to_message(engine, 424242, cb) is None
    assert events(engine) == []


def test_racing_reports_end_on_the_highest_status(engine, make_message):
    """The rule sits in the UPDATE itself, so reports racing on one row still never regress it."""
    mids = [make_message(smsid=f"R{i}") for i in range(3)]
    order = [
        dict(send_status=PENDING),
        dict(send_status=WAITING),
        dict(send_status=SENT),
        DELIVERED,
        dict(send_status=SENT),
        dict(send_status=WAITING),
    ]
    errors: list[BaseException] = []

    def send(mid, i, kw):
        try:
            apply.apply_to_message(engine, mid, report(f"R{i}", **kw))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(mid, i, kw)) for i, mid in enumerate(mids) for kw in order]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    for mid in mids:
        assert message(engine, mid).status == "delivered"
        outcomes = [e.outcome for e in events(engine, mid) if e.status == "delivered"]
        assert outcomes == ["applied"]


# -- change_status (bulk changes, the same rule) -----------------------------------------------


def test_change_status_moves_only_what_the_rule_allows(engine, make_message):
    open_ = make_message(status="sent", smsid="A")
    final = make_message(status="delivered", smsid="B")
    queued = make_message(status="waiting", smsid=None)
    now = utcnow() + timedelta(seconds=5)
    with engine.begin() as conn:
        moved = apply.change_status(conn, [open_, final, queued], "failed", now=now, error_code=TIMEOUT_CODE)
    assert sorted(moved) == sorted([(open_, "A"), (queued, None)])
    for mid in (open_, queued):
        m = message(engine, mid)
        assert (m.status, m.error_code, m.final_at, m.updated_at, m.due_at) == ("failed", TIMEOUT_CODE, now, now, None)
    assert message(engine, final).status == "delivered"


def test_change_status_among_narrows_what_is_replaced(engine, make_message):
    sent = make_message(status="sent")
    waiting = make_message(status="waiting")
    with engine.begin() as conn:
        moved = apply.change_status(conn, [sent, waiting], "failed", now=utcnow(), among={"sent"})
    assert [mid for mid, _ in moved] == [sent]
    assert message(engine, waiting).status == "waiting"


def test_change_status_to_a_non_final_sets_no_final_at(engine, make_message):
    mid = make_message(status="accepted")
    with engine.begin() as conn:
        assert apply.change_status(conn, [mid], "sent", now=utcnow())
    m = message(engine, mid)
    assert m.status == "sent" and m.final_at is None


def test_change_status_never_regresses(engine, make_message):
    mid = make_message(status="sent")
    with engine.begin() as conn:
        assert apply.change_status(conn, [mid], "waiting", now=utcnow()) == []
        assert apply.change_status(conn, [mid], "sent", now=utcnow()) == []
    assert message(engine, mid).status == "sent"


# -- round trips (issue 14) --------------------------------------------------------------------


def test_an_applied_report_is_one_statement_and_one_that_changes_nothing_two(engine, make_message):
    """PostgreSQL: the plain apply first; only a report that changed nothing pays for the locked
    judgement. SQLite takes its transaction path, which the driver observers never see."""
    from tracker import driver

    mid = make_message(smsid="S1")
    seen: list[str] = []
    driver.observers.append(lambda sql, params: seen.append(sql))
    try:
        assert apply.apply_to_message(engine, mid, report("S1", **DELIVERED)).outcome == "applied"
        applied = list(seen)
        assert apply.apply_to_message(engine, mid, report("S1", **DELIVERED)).outcome == "duplicate"
        again = seen[len(applied) :]
    finally:
        driver.observers.pop()
    if engine.dialect.name == "postgresql":
        assert len(applied) == 1 and "FOR UPDATE" not in applied[0]
        assert len(again) == 2 and "FOR UPDATE" in again[1]
    else:
        assert seen == []
    assert [e.outcome for e in events(engine, mid)] == ["applied", "duplicate"]
