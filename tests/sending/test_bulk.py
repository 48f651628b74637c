"""Bulk sends from CSV: layouts, validation by line, idempotent queueing, and `tracker send-csv` end to end."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.support import OAID, SECRET, replace_settings
from tracker import create_app
from tracker.models import Message
from tracker.ops.cli import cli
from tracker.sending import bulk
from tracker.sending.queue import queue_many
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker.loop import Worker

PARAMS_JSON = (
    "phone,order_id,params\n"
    '0901888484,DH1,"[""Nguyễn Văn An"", ""DH1"", ""đang giao hàng""]"\n'
    '+84 90 188 8485,DH2,"[""Trần Thị Bích"", ""DH2"", ""đã giao""]"\n'
)
PARAM_COLUMNS = (
    "\ufeffPhone,Order_ID,param1,param2,param3\n"
    "0901888484,DH1,Nguyễn Văn An,DH1,đang giao hàng\n"
    "84901888485,DH2,Trần Thị Bích,DH2,\n"
)


def parse(text: str, **options) -> bulk.Parsed:
    return bulk.parse_csv(text.encode(), template_id=options.pop("template_id", "2056446"), **options)


@pytest.mark.parametrize("text", [PARAMS_JSON, PARAM_COLUMNS], ids=["params-json", "param-columns"])
def test_both_layouts_give_the_same_messages(text):
    parsed = parse(text, oa_id=OAID, campaign_id="tet")
    assert parsed.errors == []
    first, second = parsed.rows
    assert (first.phone, first.order_id, first.params) == (
        "+84901888484",
        "DH1",
        ["Nguyễn Văn An", "DH1", "đang giao hàng"],
    )
    assert second.phone == "+84901888485" and second.params[0] == "Trần Thị Bích"
    assert (first.template_id, first.oa_id, first.campaign_id) == ("2056446", OAID, "tet")
    assert first.request_id == f"csv-{parsed.batch_id}-2" and second.request_id == f"csv-{parsed.batch_id}-3"


def test_an_empty_param_cell_is_passed_as_written():
    assert parse(PARAM_COLUMNS).rows[1].params == ["Trần Thị Bích", "DH2", ""]


def test_bad_rows_are_reported_by_line_number():
    text = (
        "phone,order_id,params\n"
        '0901888484,DH1,"[""a""]"\n'  # line 2: fine
        '12345,DH2,"[""a""]"\n'  # line 3: not a phone
        '0901888485,,"[""a""]"\n'  # line 4: no order id
        "0901888486,DH4,not json\n"  # line 5
        '0901888487,DH5,"[1, 2]"\n'  # line 6: numbers, not strings
        "0901888488,DH6\n"  # line 7: a column short
        "\n"  # line 8: blank, ignored
        '0901888489,"DH\n7","[""multi-line""]"\n'  # lines 9-10: one record, fine
        "bad,DH8,[]\n"  # line 11
    )
    parsed = parse(text)
    assert [(e.line, e.field) for e in parsed.errors] == [
        (3, "phone"),
        (4, "order_id"),
        (5, "params"),
        (6, "params[0]"),
        (6, "params[1]"),
        (7, "row"),
        (11, "phone"),
    ]
    assert parsed.bad_lines == 6
    assert [r.order_id for r in parsed.rows] == ["DH1", "DH\n7"]
    assert parsed.rows[1].request_id.endswith("-9")
    assert str(parsed.errors[0]).startswith("line 3: phone: ")


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("phone,params", "missing column 'order_id'"),
        ("phone,order_id,params,param1", "either as 'params'"),
        ("phone,order_id,param1,param3", "without gaps"),
        ("phone,order_id,params,name", "unknown column 'name'"),
        ("phone,phone,order_id", "appears twice"),
    ],
)
def test_a_bad_header_stops_the_whole_file(header, problem):
    with pytest.raises(bulk.CsvError, match=problem):
        parse(header + "\n")


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(bulk.CsvError, match="not UTF-8"):
        bulk.parse_csv("phone,order_id,params\n0901888484,Đ1,[]\n".encode("cp1258"), template_id="1")


def count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Message))


def test_queue_many_is_idempotent_across_reruns(engine, settings):
    rows = [f'09010{i:05d},DH{i},"[""p{i}""]"' for i in range(1203)]
    parsed = parse("phone,order_id,params\n" + "\n".join(rows) + "\n")
    batches: list[int] = []
    first = queue_many(engine, settings, parsed.rows, source=bulk.SOURCE, batch_size=500, on_batch=batches.append)
    assert (first.created, first.existing, batches) == (1203, 0, [500, 500, 203])
    again = queue_many(
        engine, settings, parse("phone,order_id,params\n" + "\n".join(rows) + "\n").rows, source=bulk.SOURCE
    )
    assert (again.created, again.existing) == (0, 1203)
    assert count(engine) == 1203
    assert bulk.progress(engine, parsed.batch_id) == {"queued": 1203}
    with Session(engine) as s:
        m = s.scalar(select(Message).where(Message.request_id == f"csv-{parsed.batch_id}-2"))
    assert (m.source, m.oa_id, m.params, m.status) == ("csv", OAID, ["p0"], "queued")


def test_a_changed_file_is_a_new_batch(engine, settings):
    a = parse(PARAMS_JSON)
    b = parse(PARAMS_JSON + '0901888486,DH3,"[""x""]"\n')
    assert a.batch_id != b.batch_id
    queue_many(engine, settings, a.rows, source=bulk.SOURCE)
    assert queue_many(engine, settings, b.rows, source=bulk.SOURCE).created == 3


# -- `tracker send-csv`, against the simulator, with a worker and the webhook live ----------


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args) -> None:
        pass


@pytest.fixture
def live(settings, engine, tmp_path) -> Iterator[dict[str, str]]:
    """Simulator + web app (for callbacks) + worker, all in threads; yields the CLI's environment."""
    # A 1001 failure comes after the template's timeout (7200 s x speed by default): 1 s here.
    sim = start_in_thread(
        SimSettings(seed=5, speed=0.05, natural_duplicate_rate=0, natural_late_rate=0, template_timeout=20)
    )
    server = make_server(
        "127.0.0.1", 0, create_app(settings, engine=engine), threaded=True, request_handler=QuietHandler
    )
    public = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    live_settings = replace_settings(
        settings, esms_base_url=sim.base_url, esms_status_url=sim.status_url, public_url=public, worker_threads=4
    )
    worker = Worker(engine, live_settings)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    yield {
        "DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "cli"),
        "ESMS_OAID": OAID,
        "TRACKER_SIMULATOR": "1",
        "TRACKER_SIMULATOR_URL": sim.url,
        "TRACKER_PUBLIC_URL": public,
    }
    worker.stop.set()
    thread.join(timeout=20)
    server.shutdown()
    sim.stop()


def write(tmp_path, text: str):
    path = tmp_path / "journeys.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_send_csv_refuses_a_file_with_bad_rows_unless_told(engine, tmp_path, settings):
    path = write(tmp_path, PARAMS_JSON + '12345,DH9,"[]"\n')
    env = {
        "DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "cli"),
        "ESMS_OAID": OAID,
        "TRACKER_SIMULATOR": "1",
    }
    result = CliRunner().invoke(cli, ["send-csv", path, "--template", "2056446"], env=env)
    assert result.exit_code == 1
    assert "line 4: phone:" in result.output and "nothing was queued" in result.output
    assert count(engine) == 0


def test_send_csv_sends_each_row_once_and_follows_until_final(engine, tmp_path, live):
    rows = [f'09010{i:05d},DH{i},"[""Lan"", ""DH{i}""]"' for i in range(30)]
    path = write(tmp_path, "phone,order_id,params\n" + "\n".join(rows) + "\n" + '12345,DH9,"[]"\n')
    runner = CliRunner()
    args = ["send-csv", path, "--template", "2056446", "--skip-invalid", "--wait", "--timeout", "60"]
    result = runner.invoke(cli, args, env=live)
    assert result.exit_code == 0, result.output
    assert "30 queued, 0 already queued before, 1 bad rows skipped" in result.output
    summary = json.loads(next(line for line in result.stdout.splitlines() if line.startswith('{"batch"')))
    assert sum(summary["statuses"].values()) == 30
    assert set(summary["statuses"]) <= {"delivered", "failed", "rejected"}
    # The same file again: nothing new is queued or sent.
    again = runner.invoke(cli, args, env=live)
    assert again.exit_code == 0 and "0 queued, 30 already queued before" in again.output
    with Session(engine) as s:
        assert s.scalar(select(func.sum(Message.attempts))) == 30
