"""Issue 12, attacks 2 and 8: one key per purpose, a forwarding key of its own, private files.

Attack 2: the forwarding receiver held TRACKER_SECRET_KEY (it checked signatures with it), so
it could compute a valid callback URL for any message and fail a queued one before it was sent.
Attack 8: instance/ 0755, tracker.db 0644, secret_key written then chmod-ed, an empty
secret_key file read as an empty secret.
"""

from __future__ import annotations

import os
import stat
from urllib.parse import urlencode

import pytest
from sqlalchemy.orm import Session

from tests.support import SECRET, make_settings
from tracker import config, create_app, keys, tokens
from tracker.config import ConfigError, load
from tracker.models import Message
from tracker.worker import forwarding

FORWARD_SECRET = "the-forwarding-receivers-own-key-0123456789"
FAILED = urlencode({"SMSID": "S-FORGED", "SendStatus": "5", "SendSuccess": "0", "SendFailed": "1", "TotalPrice": "0"})


def status_of(engine, mid: int) -> str:
    with Session(engine) as s:
        return s.get(Message, mid).status


@pytest.mark.parametrize("forged_with", ["forward secret", "legacy shared key"])
def test_forwarding_receiver_cannot_fail_a_queued_message(client, engine, make_message, forged_with):
    mid = make_message(status="queued", smsid=None)
    if forged_with == "forward secret":
        token = tokens.make(FORWARD_SECRET, mid)
    else:
        # What the receiver could compute before: the HMAC keyed with TRACKER_SECRET_KEY itself.
        token = tokens.make_legacy(SECRET, mid)
    resp = client.get(f"/webhooks/esms/{token}?{FAILED}")
    assert resp.status_code == 404 and status_of(engine, mid) == "queued"


def test_callback_urls_made_before_per_purpose_keys_verify_until_final(client, engine, make_message):
    mid = make_message(status="accepted", smsid="S-OLD")
    url = f"/webhooks/esms/{tokens.make_legacy(SECRET, mid)}"
    sent = urlencode({"SMSID": "S-OLD", "SendStatus": "2", "SendSuccess": "0", "SendFailed": "0"})
    assert client.get(f"{url}?{sent}").status_code == 200
    done = urlencode({"SMSID": "S-OLD", "SendStatus": "5", "SendSuccess": "1", "SendFailed": "0", "TotalPrice": "0"})
    assert client.get(f"{url}?{done}").status_code == 200 and status_of(engine, mid) == "delivered"
    # Final now: the old URL is done with.
    assert client.get(f"{url}?{done}").status_code == 404
    assert client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{done}").status_code == 200


def test_new_callback_urls_are_not_keyed_with_the_secret_itself():
    assert tokens.make(SECRET, 5) != tokens.make_legacy(SECRET, 5)
    assert tokens.verify(tokens.make_legacy(SECRET, 5), (SECRET,)) is None


def test_session_and_search_keys_are_derived(app):
    assert app.secret_key == keys.derive(SECRET, keys.SESSIONS) and SECRET.encode() != app.secret_key


def test_forwarding_needs_its_own_secret(tmp_path, db_url):
    for value in ("", "short", SECRET):
        with pytest.raises(ConfigError, match="TRACKER_FORWARD_SECRET"):
            make_settings(
                db_url, tmp_path, TRACKER_FORWARD_URL="https://receiver.example/hook", TRACKER_FORWARD_SECRET=value
            )
    s = make_settings(
        db_url, tmp_path, TRACKER_FORWARD_URL="https://receiver.example/hook", TRACKER_FORWARD_SECRET=FORWARD_SECRET
    )
    assert s.forward_secret == FORWARD_SECRET and "the-forwarding" not in repr(s)
    assert forwarding.sign(FORWARD_SECRET, b"x") != forwarding.sign(SECRET, b"x")


# -- attack 8: files ------------------------------------------------------------------------------

SIM = {"TRACKER_SIMULATOR": "1"}


def test_instance_dir_and_files_are_private(tmp_path):
    instance = tmp_path / "instance"
    settings = load({"TRACKER_INSTANCE_DIR": str(instance), **SIM})
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    app = create_app(settings)
    from tracker.ops import migrate

    migrate.upgrade(settings.database_url)
    assert app and stat.S_IMODE((instance / "tracker.db").stat().st_mode) == 0o600


def test_an_open_instance_dir_and_database_are_closed(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    (instance / "tracker.db").touch()
    os.chmod(instance / "tracker.db", 0o644)
    config.database_url_from({"TRACKER_INSTANCE_DIR": str(instance)})
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE((instance / "tracker.db").stat().st_mode) == 0o600


def test_the_secret_file_is_created_exclusively_with_mode_0600(tmp_path, monkeypatch):
    calls = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        if str(path).endswith("secret_key"):
            calls.append((flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    load({"TRACKER_INSTANCE_DIR": str(tmp_path), **SIM})
    assert calls and calls[0][0] & os.O_EXCL and calls[0][0] & os.O_CREAT and calls[0][1] == 0o600


@pytest.mark.parametrize("content", ["", "\n", "short-secret"])
def test_an_empty_or_short_secret_file_is_refused(tmp_path, content):
    (tmp_path / "secret_key").write_text(content)
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY"):
        load({"TRACKER_INSTANCE_DIR": str(tmp_path), **SIM})


def test_a_tracker_secret_key_under_32_characters_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY must be at least 32"):
        load({"TRACKER_INSTANCE_DIR": str(tmp_path), "TRACKER_SECRET_KEY": "x" * 31, **SIM})
    assert load({"TRACKER_INSTANCE_DIR": str(tmp_path), "TRACKER_SECRET_KEY": "x" * 32, **SIM})
