"""tracker.callbacks.report_sql: the status rule written into the statements' WHERE, table by table,
and the PostgreSQL statements built once per incoming status and key."""

from __future__ import annotations

import pytest

from tracker import status as st
from tracker.callbacks import report_sql as q


@pytest.mark.parametrize(
    ("incoming", "replaceable", "not_replaceable"),
    [
        (st.WAITING, {st.ACCEPTED, st.PENDING_APPROVAL}, {st.WAITING, st.SENT, st.DELIVERED}),
        (st.SENT, {st.ACCEPTED, st.WAITING}, {st.SENT, st.DELIVERED, st.FAILED}),
        (st.DELIVERED, {st.ACCEPTED, st.SENT}, {st.DELIVERED, st.FAILED, st.REJECTED}),
    ],
)
def test_the_guard_lists_only_the_statuses_the_incoming_one_outranks(incoming, replaceable, not_replaceable):
    where = q.guard("m", incoming)
    listed = where.split("m.status IN (", 1)[1].split(")", 1)[0]
    for status in replaceable:
        assert f"'{status}'" in listed
    for status in not_replaceable:
        assert f"'{status}'" not in listed


@pytest.mark.parametrize(("incoming", "gives_way"), [(st.DELIVERED, True), (st.FAILED, True), (st.SENT, False)])
def test_only_a_final_report_may_replace_the_reconcilers_timeout_guess(incoming, gives_way):
    assert (f"error_code = '{q.TIMEOUT_CODE}'" in q.guard("m", incoming)) is gives_way


@pytest.mark.parametrize("by", ["id", "smsid"])
def test_the_postgresql_statements_find_their_message_by_the_key_given_and_are_built_once(by):
    plain, judged = str(q.pg_apply(st.SENT, by)), str(q.pg_judge(st.SENT, by))
    key = "m.id = :mid" if by == "id" else "m.smsid = CAST(:smsid AS VARCHAR)"
    assert key in plain and "FOR UPDATE" not in plain
    assert (
        "WHERE id = :mid FOR UPDATE" if by == "id" else "WHERE smsid = CAST(:smsid AS VARCHAR) FOR UPDATE"
    ) in judged
    assert q.pg_apply(st.SENT, by) is q.pg_apply(st.SENT, by)
    assert q.pg_judge(st.SENT, by) is q.pg_judge(st.SENT, by)


def test_in_list_quotes_each_status():
    assert q.in_list((st.QUEUED, st.SENDING)) == "'queued', 'sending'"
