"""GET /healthz (tracker/web/health.py): 200 with the database, 503 without it, the outage
spool's size measured at most every few seconds, and a sending pause shown (still 200)."""

from __future__ import annotations

from sqlalchemy import create_engine

from tracker import db
from tracker.callbacks import spool
from tracker.sending import pause


def _spool_dir(app):
    path = spool.directory(app.config["SETTINGS"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_200_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"], body["sending"], body["pauses"]) == ("ok", True, "ok", [])
    assert body["simulator"] in (True, False)
    assert body["spool"] == {"files": 0, "bytes": 0, "lines": 0}


def test_503_without_the_database(app, client, tmp_path, monkeypatch):
    unreachable = create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'tracker.db'}")
    monkeypatch.setattr(db, "get_engine", lambda: unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert (body["status"], body["database"]) == ("unavailable", False)
    assert body["spool"] == {"files": 0, "bytes": 0, "lines": 0}  # still said: callbacks wait there now
    assert "pauses" not in body and "sending" not in body
    unreachable.dispose()


def test_the_spool_size_is_shown_and_cached_between_measurements(app, client, monkeypatch):
    directory = _spool_dir(app)
    (directory / "a.jsonl").write_bytes(b'{"n": 1}\n{"n": 2}\n')
    assert client.get("/healthz").get_json()["spool"] == {"files": 1, "bytes": 18, "lines": 2}
    # A file appearing behind the spool's back is not seen until the measurement is old.
    (directory / "b.jsonl").write_bytes(b'{"n": 3}\n')
    assert client.get("/healthz").get_json()["spool"] == {"files": 1, "bytes": 18, "lines": 2}
    monkeypatch.setattr(spool, "SIZE_TTL", 0.0)
    assert client.get("/healthz").get_json()["spool"] == {"files": 2, "bytes": 27, "lines": 3}


def test_the_spool_is_measured_once_for_many_callers(app, client, monkeypatch):
    calls = []
    real = spool.measure
    monkeypatch.setattr(spool, "measure", lambda path: calls.append(path) or real(path))
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert len(calls) == 1


def test_a_pause_is_shown_and_the_service_stays_ok(app, client, engine, settings):
    with engine.begin() as conn:
        pause.open_or_refuse(conn, settings, pause.ACCOUNT, None, "103", None, probe=False)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"], body["sending"]) == ("ok", True, "paused")
    (shown,) = body["pauses"]
    assert (shown["scope"], shown["oa_id"], shown["code"], shown["refused_sends"]) == ("account", None, "103", 1)
    assert shown["reason"] and shown["reason_vi"] and shown["advice"] and shown["next_probe_at"]
