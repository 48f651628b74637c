"""Sign-in throttling with its counters in the database (issue 12, attack 3).

The attack: after the 429s the right password still got in from the same client (a lock ran
out into a fresh start), each gunicorn worker counted on its own (40 quick guesses got 12
tries on 2 workers), and guesses spread over many addresses were not slowed at all.
"""

from __future__ import annotations

import re

import pytest

from tests.support import make_settings
from tracker import create_app
from tracker.web import login_throttle, security
from tracker.web.login_throttle import GLOBAL_KEY, LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_failures_slow_down_then_lock_and_the_lock_does_not_start_afresh(engine, clock):
    lim = LoginLimiter(engine, free=3, lock_after=6, lock_seconds=900, max_delay=60, clock=clock)
    ip = "203.0.113.9"
    for _ in range(3):
        assert lim.wait(ip) == 0
        lim.failed(ip)
    assert lim.wait(ip) == 0  # three free failures
    lim.failed(ip)
    assert lim.wait(ip) == 2  # then the waits double
    clock.now += 2
    lim.failed(ip)
    assert lim.wait(ip) == 4
    clock.now += 4
    lim.failed(ip)  # sixth failure: locked
    assert lim.wait(ip) == 900
    clock.now += 899
    assert lim.wait(ip) == pytest.approx(1)
    clock.now += 1
    assert lim.wait(ip) == 0  # one more guess…
    lim.failed(ip)
    assert lim.wait(ip) == 900  # …and locked again at once: one guess per lock, not a fresh start


def test_addresses_are_counted_apart_and_success_forgets(engine, clock):
    lim = LoginLimiter(engine, free=0, lock_after=3, clock=clock)
    lim.failed("198.51.100.1")
    assert lim.wait("198.51.100.1") > 0 and lim.wait("198.51.100.2") == 0
    lim.succeeded("198.51.100.1")
    assert lim.wait("198.51.100.1") == 0


def test_an_ipv6_host_cannot_dodge_by_changing_its_low_bits(engine, clock):
    lim = LoginLimiter(engine, free=0, lock_after=2, clock=clock)
    lim.failed("2001:db8:1:2::1")
    lim.failed("2001:db8:1:2::ffff")
    assert lim.wait("2001:db8:1:2:aaaa::5") == 900
    assert lim.wait("2001:db8:1:3::1") == 0
    assert LoginLimiter.key("::ffff:192.0.2.7") == "192.0.2.7"


def test_every_process_shares_the_counters(engine, clock):
    """Two limiters (two gunicorn workers, or two hosts) on one database see the same failures."""
    worker_a = LoginLimiter(engine, free=0, lock_after=4, clock=clock)
    worker_b = LoginLimiter(engine, free=0, lock_after=4, clock=clock)
    for lim in (worker_a, worker_b, worker_a, worker_b):
        lim.failed("203.0.113.9")
    assert worker_a.wait("203.0.113.9") == worker_b.wait("203.0.113.9") == 900


def test_a_distributed_guess_spends_the_global_budget(engine, clock):
    lim = LoginLimiter(engine, free=5, lock_after=10, global_free=20, global_delay=5, clock=clock)
    for i in range(20):
        lim.failed(f"10.0.{i}.1")  # one guess per address: no address is ever slowed
    assert lim.wait("192.0.2.1") == 0
    lim.failed("10.0.99.1")  # past the budget: everyone waits after each failure
    assert lim.wait("192.0.2.1") == 5 and lim.wait("10.0.100.1") == 5
    clock.now += 3600 + 1  # an hour without failures: the budget is back
    lim.failed("10.0.101.1")
    assert lim.wait("192.0.2.1") == 0


def test_a_quiet_day_forgets_a_client(engine, clock):
    lim = LoginLimiter(engine, free=0, lock_after=2, lock_seconds=900, clock=clock)
    lim.failed("203.0.113.9")
    lim.failed("203.0.113.9")
    clock.now += 86400 + 1
    assert lim.wait("203.0.113.9") == 0
    lim.failed("203.0.113.9")  # counted from one again: a short wait, not the lock
    assert lim.wait("203.0.113.9") == 2


def test_login_helpers_use_the_client_address_behind_the_proxy(db_url, engine, tmp_path):
    app = create_app(make_settings(db_url, tmp_path, TRACKER_PROXY_HOPS="1"), engine=engine)
    lim = login_throttle.limiter(app)
    lim.free, lim.lock_after = 0, 1
    env = {"REMOTE_ADDR": "127.0.0.1"}
    # Inside ``with``, the last request's context stays open, so the helpers see its client.
    with app.test_client() as c:
        c.get("/healthz", headers={"X-Forwarded-For": "203.0.113.5"}, environ_base=env)
        from flask import request

        assert security.client_address() == request.remote_addr == "203.0.113.5"
        login_throttle.login_failed()
        assert login_throttle.login_wait() == pytest.approx(lim.lock_seconds, abs=5)
        c.get("/healthz", headers={"X-Forwarded-For": "203.0.113.6"}, environ_base=env)
        assert login_throttle.login_wait() == 0
        login_throttle.login_failed()
        login_throttle.login_succeeded()
        assert login_throttle.login_wait() == 0


def _attempt(client, password: str, addr: str):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return client.post("/login", data={"password": password, "csrf_token": token}, headers={"X-Forwarded-For": addr})


def _locked_app(db_url, engine, tmp_path, clock, name: str):
    app = create_app(
        make_settings(db_url, tmp_path / name, TRACKER_DASHBOARD_PASSWORD="right-password", TRACKER_PROXY_HOPS="1"),
        engine=engine,
    )
    app.extensions["login_limiter"] = LoginLimiter(free=2, lock_after=4, lock_seconds=600, clock=clock)
    return app


def test_while_locked_the_right_password_gets_the_wrong_ones_answer(db_url, engine, tmp_path, clock):
    """Through the real login form of two apps on one database (two workers), behind one proxy hop."""
    worker_a = _locked_app(db_url, engine, tmp_path, clock, "a").test_client()
    worker_b = _locked_app(db_url, engine, tmp_path, clock, "b").test_client()
    attacker = "203.0.113.9"
    assert [_attempt(w, "guess", attacker).status_code for w in (worker_a, worker_b)] == [401, 401]
    assert _attempt(worker_a, "guess", attacker).status_code == 401  # third: waits begin
    wrong, right = _attempt(worker_b, "guess", attacker), _attempt(worker_a, "right-password", attacker)
    assert wrong.status_code == right.status_code == 429 and wrong.headers["Retry-After"] == "2"
    page = lambda resp: re.sub(r'value="[^"]*"', "", resp.get_data(as_text=True))  # noqa: E731 (CSRF differs)
    assert page(wrong) == page(right)
    clock.now += 2
    assert _attempt(worker_b, "guess", attacker).status_code == 401  # fourth: locked
    for minutes in (1, 5, 9):
        clock.now = clock.now + 60 if minutes == 1 else clock.now + 240
        for worker in (worker_a, worker_b):
            resp = _attempt(worker, "right-password", attacker)
            assert resp.status_code == 429 and "Location" not in resp.headers
    # Another address is not affected, and signs in.
    assert _attempt(worker_a, "right-password", "198.51.100.4").status_code == 303
    clock.now += 600
    assert _attempt(worker_b, "right-password", attacker).status_code == 303


def test_forty_quick_guesses_on_two_workers_get_few_tries(db_url, engine, tmp_path, clock):
    workers = [_locked_app(db_url, engine, tmp_path, clock, n).test_client() for n in "ab"]
    checked = sum(_attempt(workers[i % 2], "guess", "203.0.113.9").status_code == 401 for i in range(40))
    assert checked == 3  # the free ones; every later guess waits, whichever worker it reaches
    with engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT failures FROM login_attempts WHERE key = :k"), {"k": GLOBAL_KEY}).scalar() == 3
