"""Params checked against eSMS's template listing before sending (issue 11; SPEC section 3).

The listing is GetTemplate's (esms-api/ham-truy-xuat-va-dang-ky/ham-lay-danh-sach-template-zalo.md):
``ZNSTemplates[]`` of ``TempId, TempName, ZNSTempDetail[{Limit, Param, ParamLevel, RequireType}]``.
The tracker asks the built-in simulator over HTTP, as it would eSMS.
"""

from __future__ import annotations

import io
import socket
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.simulator.support import configure, quiet_settings
from tests.support import API_TOKEN, OAID, SECRET, make_settings
from tracker import create_app
from tracker.db import utcnow
from tracker.esms import template_api
from tracker.esms.templates import Template
from tracker.models import Message
from tracker.ops.cli import cli
from tracker.sending import templates
from tracker.simulator import start_in_thread


@pytest.fixture
def sim():
    running = start_in_thread(quiet_settings())
    yield running
    running.stop()


def app_for(db_url, tmp_path, engine, url: str, **env):
    app = create_app(make_settings(db_url, tmp_path / "instance", TRACKER_SIMULATOR_URL=url, **env), engine=engine)
    app.config["TESTING"] = True
    return app


AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def post(client, template_id: str, params: list[str], **extra):
    return client.post(
        "/api/messages",
        json={"phone": "0901888484", "template_id": template_id, "params": params, "order_id": "DH1", **extra},
        headers=AUTH,
    )


def count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Message))


def test_params_that_break_a_listed_template_are_refused_400(db_url, tmp_path, engine, sim):
    client = app_for(db_url, tmp_path, engine, sim.url).test_client()
    resp = post(client, "523194", ["Nguyễn Văn An", "DH1" * 11, "đã giao"])
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "params_do_not_fit_template"
    assert resp.json["error"]["fields"] == {"params[1]": "order_code: at most 30 characters, got 33"}
    assert "523194" in resp.json["error"]["message"]
    bad = post(client, "300001", ["DH1", "12a", "30/02/2025", "x"]).json["error"]["fields"]
    assert set(bad) == {"params[1]", "params[2]", "params[3]"}
    assert count(engine) == 0  # nothing stored, nothing sent
    assert post(client, "523194", ["Nguyễn Văn An", "DH1", "đã giao"]).status_code == 202
    # A template eSMS does not list for the OA is eSMS's to judge (789/790).
    assert post(client, "777777", ["x" * 500]).status_code == 202
    configure(sim, oa_ids=[OAID])  # another OA, not added to the account: GetTemplate lists nothing for it
    assert post(client, "523194", ["x" * 31], oa_id="another-oa").status_code == 202


def test_a_resend_is_checked_too(db_url, tmp_path, engine, sim, make_message):
    client = app_for(db_url, tmp_path, engine, sim.url).test_client()
    old = make_message(status="rejected", error_code="790", template_id="523194", params=["x" * 31])
    resp = client.post(f"/api/messages/{old}/resend", headers=AUTH)
    assert resp.status_code == 400 and list(resp.json["error"]["fields"]) == ["params[0]"]


def test_the_listing_is_cached_and_fetched_again_after_a_790(db_url, tmp_path, engine, sim, make_message, monkeypatch):
    calls = []
    real = template_api.get_templates
    monkeypatch.setattr(templates, "get_templates", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    monkeypatch.setattr(templates, "RECHECK", 0.0)
    configure(sim, templates=["2056446"])
    client = app_for(db_url, tmp_path, engine, sim.url).test_client()
    too_long = ["Nguyễn Văn An", "x" * 31, "đã giao"]
    assert post(client, "523194", too_long).status_code == 202  # not listed: not checked
    configure(sim, templates=["2056446", "523194"])
    assert post(client, "523194", too_long, request_id="b").status_code == 202  # the cached listing
    assert calls == [OAID]
    make_message(status="rejected", error_code="790", template_id="523194", final_at=utcnow())
    assert post(client, "523194", too_long, request_id="c").status_code == 400  # fetched again
    assert post(client, "523194", too_long, request_id="d").status_code == 400
    assert calls == [OAID, OAID]


def test_a_template_check_can_be_turned_off(db_url, tmp_path, engine, sim):
    client = app_for(db_url, tmp_path, engine, sim.url, TRACKER_TEMPLATE_TTL="0").test_client()
    assert post(client, "523194", ["x" * 31]).status_code == 202


def test_unreachable_or_slow_esms_never_blocks_a_send(db_url, tmp_path, engine):
    """A closed port and a server that never answers: the message is queued unchecked; the slow
    one costs at most the short timeout once, and the next request nothing."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    client = app_for(db_url, tmp_path, engine, f"http://127.0.0.1:{port}").test_client()
    started = time.monotonic()
    assert post(client, "523194", ["x" * 31]).status_code == 202
    assert time.monotonic() - started < 2
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = app_for(
            db_url,
            tmp_path / "slow",
            engine,
            f"http://127.0.0.1:{silent.getsockname()[1]}",
            TRACKER_TEMPLATE_TIMEOUT="0.5",
        ).test_client()
        started = time.monotonic()
        assert post(client, "523194", ["x" * 31], request_id="s1").status_code == 202
        first = time.monotonic() - started
        started = time.monotonic()
        assert post(client, "523194", ["x" * 31], request_id="s2").status_code == 202
        assert first < 2 and time.monotonic() - started < 0.3


def test_the_cache_expires_retries_failures_and_never_makes_two_requests_wait():
    now = [0.0]
    answers: list[dict | None] = [None, {"1": Template("1", "t", ())}, {}]
    calls = []
    gate = threading.Event()

    def fetch(oa_id):
        calls.append(oa_id)
        if len(calls) == 4:
            gate.wait(5)
        return answers[min(len(calls) - 1, 2)]

    def never(since):
        return False

    cache = templates.TemplateCache(fetch, ttl=600, timeout=0.2, clock=lambda: now[0])
    assert cache.template("OA", "1", never) is None  # eSMS could not be had
    now[0] = 59
    assert cache.template("OA", "1", never) is None and len(calls) == 1  # ... and is not asked again yet
    now[0] = 61
    assert cache.template("OA", "1", never) == Template("1", "t", ()) and len(calls) == 2
    now[0] = 600
    assert cache.template("OA", "1", never) is not None and len(calls) == 2
    now[0] = 662
    assert cache.template("OA", "1", never) is None and len(calls) == 3  # expired: the new listing lacks it
    now[0] = 1300
    slow = threading.Thread(target=cache.template, args=("OA", "1", never))
    slow.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert cache.template("OA", "1", never) is None  # another thread is asking: skip after the timeout
    assert time.monotonic() - started < 1
    gate.set()
    slow.join()


BAD_CSV = (
    "phone,order_id,param1,param2,param3\n"
    "0901888484,DH-1,Nguyễn Văn An,DH-1,đã giao\n"
    "0901888485,DH-2,Trần Thị Bích,DH-2,đã giao\n"
    f"0901888486,DH-3,{'x' * 31},DH-3,đã giao\n"
).encode()


def test_a_csv_upload_with_params_that_break_the_template_is_refused(db_url, tmp_path, engine, sim):
    client = app_for(db_url, tmp_path, engine, sim.url).test_client()
    resp = client.post(
        "/upload",
        data={
            "file": (io.BytesIO(BAD_CSV), "f.csv"),
            "template_id": "523194",
            "oa_id": OAID,
            "csrf_token": _csrf(client),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    # Listed as the bad row it is (line 4, the parameter named), in the reader's language (Vietnamese).
    assert (
        '<tr><td class="num">4</td><td>params[0]</td><td>customer_name: tối đa 30 ký tự, nhưng có 31</td></tr>' in page
    )
    assert count(engine) == 0


def _csrf(client) -> str:
    from tests.dashboard.support import csrf

    return csrf(client, "/upload")


def test_send_csv_reports_each_bad_line_and_can_skip_them(engine, tmp_path, sim):
    path = tmp_path / "f.csv"
    path.write_bytes(BAD_CSV)
    env = {
        "DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
        "TRACKER_SECRET_KEY": SECRET,
        "TRACKER_INSTANCE_DIR": str(tmp_path / "cli"),
        "ESMS_OAID": OAID,
        "TRACKER_SIMULATOR": "1",
        "TRACKER_SIMULATOR_URL": sim.url,
    }
    result = CliRunner().invoke(cli, ["send-csv", str(path), "--template", "523194"], env=env)
    assert result.exit_code == 1 and "line 4: params[0]: customer_name: at most 30" in result.output
    assert count(engine) == 0
    result = CliRunner().invoke(
        cli, ["send-csv", str(path), "--template", "523194", "--skip-invalid", "--timeout", "0"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "2 queued, 0 already queued before, 1 bad rows skipped" in result.output
