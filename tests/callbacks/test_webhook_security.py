"""The webhook against unwanted callers: forged tokens, key rotation, address allow-list, oversize input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support import SECRET, WEBHOOK_TOKEN, callback_query, make_settings
from tracker import create_app, tokens
from tracker.models import Event, Message
from tracker.web import security

OLD_SECRET = "the-previous-secret-key-0123"


def cb(smsid: str, send_status: int, success: int = 0, failed: int = 0) -> str:
    return callback_query(smsid, send_status, success, failed, TotalPrice="0", phonenumber="0901888484")


def counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Message)), s.scalar(select(func.count()).select_from(Event))


def status_of(engine, mid: int) -> str:
    with Session(engine) as s:
        return s.get(Message, mid).status


# -- tokens -------------------------------------------------------------------------------------


def test_forged_truncated_and_borrowed_tokens_get_a_bare_404(client, engine, make_message):
    a, b = make_message(smsid="S-A"), make_message(smsid="S-B")
    good_a = tokens.make(SECRET, a)
    sig_a = good_a.split(".")[1]
    flipped = sig_a[:-1] + ("A" if sig_a[-1] != "A" else "B")
    attempts = [
        f"{a}.{flipped}",  # forged signature
        good_a[:-1],  # truncated
        good_a + "A",  # stretched
        f"{b}.{sig_a}",  # a's signature replayed for b
        tokens.make("another-secret-0123456789", a),  # made with a key we never had
        WEBHOOK_TOKEN[:-1],  # nearly the shared token
        good_a.upper(),
    ]
    before = counts(engine)
    bodies = set()
    for token in attempts:
        resp = client.get(f"/webhooks/esms/{token}?{cb('S-B', 5, success=1)}")
        assert resp.status_code == 404, token
        bodies.add(resp.get_data())
    assert len(bodies) == 1  # the same answer whatever was wrong: no hint
    assert counts(engine) == before and status_of(engine, b) == "accepted"


@pytest.fixture
def rotated(db_url, engine, tmp_path):
    """An app whose key was rotated: OLD_SECRET signed the CallbackUrls of earlier sends."""
    app = create_app(make_settings(db_url, tmp_path, TRACKER_SECRET_KEY_OLD=OLD_SECRET), engine=engine)
    return app.test_client()


def test_old_key_still_works_until_the_message_is_final(rotated, engine, make_message):
    mid = make_message(smsid="S-OLD")
    url = f"/webhooks/esms/{tokens.make(OLD_SECRET, mid)}"
    assert rotated.get(f"{url}?{cb('S-OLD', 2)}").status_code == 200
    assert rotated.get(f"{url}?{cb('S-OLD', 5, success=1)}").status_code == 200
    assert status_of(engine, mid) == "delivered"
    # Final now: the old key has nothing left to report for this message.
    before = counts(engine)
    assert rotated.get(f"{url}?{cb('S-OLD', 5, success=1)}").status_code == 404
    assert counts(engine) == before
    # The current key keeps working for it (a late duplicate is just a duplicate).
    resp = rotated.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{cb('S-OLD', 5, success=1)}")
    assert resp.status_code == 200 and resp.json["outcome"] == "duplicate"


def test_old_key_is_refused_once_it_is_no_longer_configured(client, make_message):
    mid = make_message()
    assert client.get(f"/webhooks/esms/{tokens.make(OLD_SECRET, mid)}?{cb('S', 2)}").status_code == 404


def test_old_key_token_for_an_unknown_message_is_404(rotated):
    assert rotated.get(f"/webhooks/esms/{tokens.make(OLD_SECRET, 999999)}?{cb('S', 2)}").status_code == 404


def test_old_key_must_be_long_and_different(db_url, tmp_path):
    from tracker.config import ConfigError

    for bad in ("short", SECRET):
        with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY_OLD"):
            make_settings(db_url, tmp_path, TRACKER_SECRET_KEY_OLD=bad)


# -- address allow-list -------------------------------------------------------------------------


def allow_listed(db_url, engine, tmp_path, **env):
    settings = make_settings(db_url, tmp_path, TRACKER_WEBHOOK_ALLOWED_IPS="203.0.113.0/24, 2001:db8::/32", **env)
    return create_app(settings, engine=engine).test_client()


@pytest.mark.parametrize(
    "peer,allowed",
    [
        ("203.0.113.7", True),
        ("::ffff:203.0.113.7", True),
        ("2001:db8::1", True),
        ("198.51.100.7", False),
        ("127.0.0.1", False),
        ("2001:db9::1", False),
        ("", False),
        ("garbage", False),
    ],
)
def test_allow_list_by_peer_address(db_url, engine, tmp_path, make_message, peer, allowed):
    c = allow_listed(db_url, engine, tmp_path)
    mid = make_message(smsid="S-IP")
    before = counts(engine)
    for path in (f"/webhooks/esms/{tokens.make(SECRET, mid)}", f"/webhooks/esms/{WEBHOOK_TOKEN}"):
        resp = c.get(f"{path}?{cb('S-IP', 2)}", environ_base={"REMOTE_ADDR": peer})
        if allowed:
            assert resp.status_code == 200
        else:
            assert resp.status_code == 403
            assert resp.json == {"error": {"code": "forbidden", "message": "forbidden"}}  # no hint
    if not allowed:
        assert counts(engine) == before  # nothing stored


def test_forwarded_for_is_ignored_without_proxy_hops(db_url, engine, tmp_path, make_message):
    c = allow_listed(db_url, engine, tmp_path)
    mid = make_message(smsid="S-X")
    resp = c.get(
        f"/webhooks/esms/{tokens.make(SECRET, mid)}?{cb('S-X', 2)}",
        headers={"X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    assert resp.status_code == 403


@pytest.mark.parametrize(
    "forwarded,allowed",
    [
        ("203.0.113.7", True),
        ("203.0.113.7, 198.51.100.9", False),  # the proxy appended the real caller last
        ("198.51.100.9, 203.0.113.7", True),  # a spoofed first entry is not trusted
        ("not-an-address", False),
    ],
)
def test_proxy_hops_take_the_address_the_proxy_saw(db_url, engine, tmp_path, make_message, forwarded, allowed):
    c = allow_listed(db_url, engine, tmp_path, TRACKER_PROXY_HOPS="1")
    mid = make_message(smsid="S-P")
    resp = c.get(
        f"/webhooks/esms/{tokens.make(SECRET, mid)}?{cb('S-P', 2)}",
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert resp.status_code == (200 if allowed else 403)


def test_two_hops(db_url, engine, tmp_path, make_message):
    c = allow_listed(db_url, engine, tmp_path, TRACKER_PROXY_HOPS="2")
    mid = make_message(smsid="S-2")
    url = f"/webhooks/esms/{tokens.make(SECRET, mid)}?{cb('S-2', 2)}"
    ok = c.get(
        url, headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.7, 10.0.0.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    spoofed = c.get(
        url,
        headers={"X-Forwarded-For": "203.0.113.7, 198.51.100.1, 10.0.0.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert (ok.status_code, spoofed.status_code) == (200, 403)


def test_allow_list_does_not_touch_the_api(db_url, engine, tmp_path, auth):
    c = allow_listed(db_url, engine, tmp_path)
    assert c.get("/api/messages", headers=auth, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 200


def test_bad_allow_list_stops_the_start(db_url, tmp_path):
    from tracker.config import ConfigError

    with pytest.raises(ConfigError, match="TRACKER_WEBHOOK_ALLOWED_IPS"):
        make_settings(db_url, tmp_path, TRACKER_WEBHOOK_ALLOWED_IPS="203.0.113.0/24, nonsense")
    assert security.address_allowed("203.0.113.1", ()) is True  # unset: everyone


# -- oversize input -----------------------------------------------------------------------------


def test_overlong_query_string_is_414_and_not_stored(client, engine, make_message):
    mid = make_message(smsid="S-L")
    url = f"/webhooks/esms/{tokens.make(SECRET, mid)}"
    before = counts(engine)
    long_query = cb("S-L", 2) + "&pad=" + "x" * security.MAX_WEBHOOK_QUERY
    resp = client.get(f"{url}?{long_query}")
    assert resp.status_code == 414 and resp.json["error"]["code"] == "uri_too_long"
    assert counts(engine) == before
    # Just under the limit is an ordinary (if odd) callback.
    fits = cb("S-L", 2) + "&pad=" + "x" * (security.MAX_WEBHOOK_QUERY - len(cb("S-L", 2)) - 5)
    assert client.get(f"{url}?{fits}").status_code == 200


@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_post_body_is_413_and_not_stored(client, engine, make_message, chunked):
    mid = make_message(smsid="S-B")
    body = (cb("S-B", 2) + "&pad=" + "x" * security.MAX_WEBHOOK_BODY).encode()
    before = counts(engine)
    if chunked:
        import io

        # What gunicorn hands over for a chunked body: no length, a stream that ends by itself.
        resp = client.post(
            f"/webhooks/esms/{tokens.make(SECRET, mid)}",
            input_stream=io.BytesIO(body),
            headers={"Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded"},
            environ_base={"wsgi.input_terminated": True},
        )
    else:
        resp = client.post(
            f"/webhooks/esms/{tokens.make(SECRET, mid)}", data=body, content_type="application/x-www-form-urlencoded"
        )
    assert resp.status_code == 413
    assert counts(engine) == before


def test_many_parameters_are_capped_not_fatal(client, engine, make_message):
    mid = make_message(smsid="S-M")
    query = cb("S-M", 2) + "".join(f"&p{i}=v" for i in range(900))
    resp = client.get(f"/webhooks/esms/{tokens.make(SECRET, mid)}?{query}")
    assert resp.status_code == 200
    with Session(engine) as s:
        event = s.scalars(select(Event).where(Event.message_id == mid)).one()
    assert len(event.data["extra"]) == 100 and any("dropped" in p for p in event.data["problems"])


def test_deeply_nested_json_is_stored_as_invalid_not_a_500(client, engine, make_message):
    mid = make_message(smsid="S-J")
    resp = client.post(f"/webhooks/esms/{tokens.make(SECRET, mid)}", data="[" * 20000, content_type="application/json")
    assert resp.status_code == 400 and resp.json["outcome"] == "invalid"
    with Session(engine) as s:
        assert s.scalars(select(Event.outcome).where(Event.message_id == mid)).all() == ["invalid"]
