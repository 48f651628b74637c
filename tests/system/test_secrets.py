"""Secrets never leave: a whole run with distinctive credentials, then a grep of everything the app wrote.

Sends through the API, the worker talking to the simulator, callbacks into the live webhook,
reconciliation (whose status queries carry the keys in a URL), sends refused with 101 for
wrong keys, the dashboard, configuration errors; then logs at DEBUG (urllib3 and werkzeug
included), every column of every table, every response, the instance and spool files.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import inspect, text
from werkzeug.serving import make_server

from tests.support import make_settings
from tracker import config, create_app
from tracker.config import ConfigError
from tracker.esms.client import make_client
from tracker.ops.cli import cli
from tracker.simulator import SimSettings, start_in_thread
from tracker.worker.loop import Worker
from tracker.worker.reconcile import Reconciler

API_KEY = "APIKEY-zq7Xw1-distinct"
SECRET_KEY = "SECRETKEY-p9Lr2+/=distinct"
TRACKER_KEY = "TRACKERKEY-h3Mv8-distinct-0123456789"
OLD_KEY = "OLDTRACKERKEY-c8Bd1-distinct"
API_TOKEN = "APITOKEN-k5Ns4-distinct"
SHARED_TOKEN = "SHAREDHOOK-r7Vc3-distinct"
PASSWORD = "DASHPASS-w2Qj6-distinct"
WRONG_KEY, WRONG_SECRET = "WRONGAPIKEY-t4Gs9-distinct", "WRONGSECRET-y6Hf3-distinct"
SECRETS = [API_KEY, SECRET_KEY, TRACKER_KEY, OLD_KEY, API_TOKEN, SHARED_TOKEN, PASSWORD, WRONG_KEY, WRONG_SECRET]
PHONES_UNMASKED = re.compile(r"(?<![0-9*])(?:\+?84|0)90 ?188 ?8484(?![0-9])")


def forms(secret: str) -> set[str]:
    """How a secret could appear: as is, URL-encoded either way, and its distinctive core."""
    return {secret, quote(secret, safe=""), quote_plus(secret), secret.split("-")[1]}


class LiveServer:
    """The tracker on a real socket, so the simulator's callbacks arrive over HTTP.

    The socket comes first (its port goes into TRACKER_PUBLIC_URL); the app is plugged in after.
    """

    def __init__(self) -> None:
        self.app = None
        self.server = make_server("127.0.0.1", 0, lambda env, start: self.app(env, start), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_no_secret_anywhere_after_a_full_run(engine, db_url, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "werkzeug", "tracker", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    written: list[str] = []
    sim = start_in_thread(
        SimSettings(
            seed=11, speed=0, api_key=API_KEY, secret_key=SECRET_KEY, drop_callback_rate=0.4, natural_duplicate_rate=0.2
        )
    )
    instance = tmp_path / "instance"
    server = LiveServer()
    env = dict(
        ESMS_API_KEY=API_KEY,
        ESMS_SECRET_KEY=SECRET_KEY,
        ESMS_BASE_URL=sim.base_url,
        ESMS_STATUS_URL=sim.status_url,
        TRACKER_SECRET_KEY=TRACKER_KEY,
        TRACKER_SECRET_KEY_OLD=OLD_KEY,
        TRACKER_API_TOKENS=f"{API_TOKEN},second-token",
        TRACKER_DASHBOARD_PASSWORD=PASSWORD,
        TRACKER_WEBHOOK_TOKEN=SHARED_TOKEN,
        TRACKER_PUBLIC_URL=server.url,
    )
    settings = make_settings(db_url, instance, **env)
    written += [repr(settings), str(settings)]
    server.app = create_app(settings, engine=engine)
    try:
        with server:
            http = requests.Session()
            auth = {"Authorization": f"Bearer {API_TOKEN}"}

            def keep(resp: requests.Response) -> requests.Response:
                written.append(resp.text)
                written.append(str(dict(resp.headers)))
                return resp

            ids = []
            for i in range(12):
                body = {"phone": "0901888484", "template_id": "523194", "params": [f"p{i}"], "order_id": f"J{i % 3}"}
                resp = keep(http.post(f"{server.url}/api/messages", json=body, headers=auth))
                assert resp.status_code == 202
                ids.append(resp.json()["id"])
            # Error paths of the API: wrong tokens (the password, a secret key), bad bodies.
            for header in (f"Bearer {PASSWORD}", f"Bearer {SECRET_KEY}", f"Basic {API_TOKEN}", API_TOKEN):
                assert (
                    keep(http.get(f"{server.url}/api/messages", headers={"Authorization": header})).status_code == 401
                )
            keep(
                http.post(
                    f"{server.url}/api/messages", json={"phone": API_KEY, "template_id": SECRET_KEY}, headers=auth
                )
            )
            keep(http.post(f"{server.url}/api/messages", data=f"ApiKey={API_KEY}", headers=auth))

            worker = Worker(engine, settings, make_client(settings))
            wait_until(lambda: worker.run_once() == 0 and _count(engine, "status IN ('queued','sending')") == 0)
            wait_until(lambda: _count(engine, "status = 'accepted'") < len(ids), timeout=30)
            # Reconciliation: GetSendStatus puts both keys in its URL.
            reconciler = Reconciler(engine, settings, worker.client)
            reconciler.run_once(after=0)
            for smsid in _smsids(engine)[:3]:
                worker.client.get_send_status(smsid)
                worker.client.query_zns_status(smsid)

            # A webhook call that carries credentials, as someone confused might send.
            keep(
                http.get(
                    f"{server.url}/webhooks/esms/{ids[0]}.forgedforgedforgedforg",
                    params={"ApiKey": API_KEY, "SecretKey": SECRET_KEY},
                )
            )
            from tracker import tokens

            keep(
                http.get(
                    f"{server.url}/webhooks/esms/{tokens.make(TRACKER_KEY, ids[1])}",
                    params={"SMSID": "X", "SendStatus": "2", "apikey": API_KEY, "SECRETKEY": SECRET_KEY},
                )
            )
            keep(
                http.post(
                    f"{server.url}/webhooks/esms/{tokens.make(TRACKER_KEY, ids[2])}",
                    json={"SMSID": "Y", "SendStatus": "2", "ApiKey": API_KEY, "SecretKey": SECRET_KEY},
                )
            )

            keep(
                http.get(
                    f"{server.url}/webhooks/esms/{SHARED_TOKEN}",
                    params={"SMSID": "EXT-1", "SendStatus": "5", "SendSuccess": "1", "phonenumber": "0901888484"},
                )
            )

            # Dashboard: wrong password, right password, every page.
            page = keep(http.get(f"{server.url}/login"))
            keep(http.post(f"{server.url}/login", data={"password": SECRET_KEY, "csrf_token": csrf(page.text)}))
            page = keep(http.get(f"{server.url}/login"))
            keep(http.post(f"{server.url}/login", data={"password": PASSWORD, "csrf_token": csrf(page.text)}))
            for path in (
                "/",
                "/messages",
                f"/messages/{ids[0]}",
                "/journeys/J0",
                "/dashboard/data/overview",
                "/messages.csv",
                "/healthz",
                "/api/openapi.json",
                f"/api/messages/{ids[0]}",
                "/api/stats",
                "/api/journeys/J1",
            ):
                resp = keep(http.get(f"{server.url}{path}", headers=auth if path.startswith("/api/") else {}))
                assert resp.status_code == 200, path

            # Sends with wrong keys: eSMS answers 101.
            wrong = make_settings(
                db_url, instance, **{**env, "ESMS_API_KEY": WRONG_KEY, "ESMS_SECRET_KEY": WRONG_SECRET}
            )
            resp = keep(
                http.post(
                    f"{server.url}/api/messages",
                    headers=auth,
                    json={"phone": "0912345678", "template_id": "523194", "params": ["x"], "order_id": "W"},
                )
            )
            wrong_worker = Worker(engine, wrong, make_client(wrong))
            # The 101 pauses sending (issue 11's circuit breaker): the message stays queued with the code.
            wrong_id = resp.json()["id"]
            wait_until(
                lambda: (
                    wrong_worker.run_once() >= 0
                    and _one(engine, f"SELECT error_code FROM messages WHERE id = {wrong_id}") == "101"
                )
            )
            assert _one(engine, f"SELECT status FROM messages WHERE id = {wrong_id}") == "queued"
            assert keep(http.get(f"{server.url}/healthz")).json()["sending"] == "paused"
            wrong_worker.client.get_send_status("nope")
            wait_until(lambda: _count(engine, "status IN ('delivered','failed','rejected')") >= 4, timeout=30)
        worker.pool.shutdown()
        wrong_worker.pool.shutdown()
    finally:
        sim.stop()

    # Configuration errors name the variable, never its value.
    for bad in (
        {"ESMS_API_KEY": API_KEY},
        {"ESMS_SECRET_KEY": SECRET_KEY},
        {**env, "TRACKER_SECRET_KEY": PASSWORD[:10]},
        {**env, "TRACKER_API_TOKENS": ""},
        {**env, "TRACKER_SECRET_KEY_OLD": TRACKER_KEY},
        {**env, "DATABASE_URL": f"mysql://u:{PASSWORD}@h/db"},
        {**env, "TRACKER_DASHBOARD_PASSWORD": ""},
    ):
        with pytest.raises(ConfigError) as err:
            config.load({"TRACKER_INSTANCE_DIR": str(instance), **bad})
        written.append(str(err.value))
    result = CliRunner().invoke(
        cli, ["purge", "--older-than", "1"], env={**env, "DATABASE_URL": f"mysql://u:{PASSWORD}@h/db"}
    )
    written.append(result.output + repr(result.exception))

    written += [r.getMessage() for r in caplog.records]
    written += [r.exc_text or "" for r in caplog.records]
    written.append(caplog.text)
    out = capsys.readouterr()
    written += [out.out, out.err]
    written += _every_value(engine)
    written += [p.read_text("latin-1") for p in Path(instance).rglob("*") if p.is_file()]

    everything = "\n".join(written)
    assert len(caplog.records) > 50 and "urllib3" in caplog.text and "werkzeug" in caplog.text
    assert "/GetSendStatus" in everything  # the URL that holds the keys was logged, and scrubbed
    for secret in SECRETS:
        for form in forms(secret):
            assert form not in everything, f"{secret!r} leaked as {form!r}"
    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "phonenumber=" in logs and not PHONES_UNMASKED.search(logs), PHONES_UNMASKED.search(logs)


def _count(engine, where: str) -> int:
    return _one(engine, f"SELECT COUNT(*) FROM messages WHERE {where}")


def _one(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _smsids(engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT smsid FROM messages WHERE smsid IS NOT NULL"))]


def _every_value(engine) -> list[str]:
    """Every column of every row of every table, as text."""
    out = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(" ".join(str(v) for v in row))
    return out
