"""tracker.callbacks.replay: spooled callbacks applied once the database is back: exactly once, in order,
surviving a replay that dies midway, torn lines, and a commit whose answer the outage swallowed."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.callbacks.support import status
from tests.callbacks.support import webhook_url as url
from tests.support import ROOT, SECRET, events
from tests.support import callback_query as cb
from tracker import tokens
from tracker.callbacks import apply, replay, spool
from tracker.db import utcnow
from tracker.models import Event


@pytest.mark.parametrize("crash", ["after_apply", "before_apply"])
def test_a_replay_that_dies_mid_way_resumes_without_losing_or_doubling(
    down_app, engine, settings, make_message, monkeypatch, crash
):
    mids = [make_message(smsid=f"C{i}", request_id=f"c{i}") for i in range(5)]
    down = down_app.test_client()
    for mid in mids:
        assert down.get(f"{url(mid)}?{cb(f'C{mids.index(mid)}', 7)}").json["outcome"] == "spooled"

    real_apply, calls = replay._apply, []

    class Died(Exception):
        pass

    def dying_apply(engine_, settings_, record):
        calls.append(record["id"])
        if len(calls) == 3 and crash == "before_apply":
            raise Died
        real_apply(engine_, settings_, record)
        if len(calls) == 3:
            raise Died  # applied, but the replay log never heard of it

    monkeypatch.setattr(replay, "_apply", dying_apply)
    with pytest.raises(Died):
        replay.replay(engine, settings)
    monkeypatch.setattr(replay, "_apply", real_apply)
    assert spool.size(spool.directory(settings))["lines"] == 5  # still claimed, not lost

    replay.replay(engine, settings)
    for mid in mids:
        assert [(e.status, e.outcome) for e in events(engine, mid)] == [("sent", "applied")]
    assert spool.size(spool.directory(settings))["files"] == 0


def test_a_torn_last_line_is_skipped(tmp_path, engine, settings, make_message):
    mid = make_message(smsid="T1")
    good = {
        "id": "g",
        "at": utcnow().isoformat(),
        "pid": 1,
        "seq": 1,
        "method": "GET",
        "shared": False,
        "token": tokens.make(SECRET, mid),
        "query": cb("T1", 7),
        "body": "",
        "content_type": None,
    }
    directory = spool.directory(settings)
    directory.mkdir(parents=True)
    (directory / "spool-1-dead.jsonl").write_text(json.dumps(good) + "\n" + '{"id": "torn", "at"')
    assert replay.replay(engine, settings) == 1
    assert status(engine, mid) == "sent"


def test_a_web_process_replays_its_own_spool_once_the_database_is_back(engine, settings, make_message):
    mid = make_message(smsid="W1")
    box = spool.Spool(spool.directory(settings))
    box.write(
        {
            "id": "w",
            "at": utcnow().isoformat(),
            "method": "GET",
            "shared": False,
            "token": tokens.make(SECRET, mid),
            "query": cb("W1", 5, 1, 0),
            "body": "",
            "content_type": None,
        }
    )
    replay.replay_soon(box, engine, settings)
    deadline = time.monotonic() + 10
    while box.dirty and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status(engine, mid) == "delivered"
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 1


def test_a_commit_whose_answer_the_outage_swallowed_is_not_stored_twice(
    app, engine, settings, make_message, monkeypatch
):
    mid = make_message(smsid="L1")
    real = apply.apply_to_message

    def committed_then_cut_off(*args, **kwargs):
        real(*args, **kwargs)
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(apply, "apply_to_message", committed_then_cut_off)
    assert app.test_client().get(f"{url(mid)}?{cb('L1', 7)}").json["outcome"] == "spooled"
    monkeypatch.undo()
    assert replay.replay(engine, settings) == 0
    assert [(e.status, e.outcome) for e in events(engine, mid)] == [("sent", "applied")]
    assert spool.size(spool.directory(settings))["lines"] == 0


def test_the_spool_reaches_the_receiving_code_without_the_view():
    """No cycle: the spool's replay goes through tracker.callbacks.receive and never imports the webhook view."""
    code = (
        "import sys, tracker.callbacks.replay; "
        "assert 'tracker.callbacks.receive' in sys.modules; "
        "assert 'tracker.callbacks.webhook' not in sys.modules, 'the spool imports the view'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
