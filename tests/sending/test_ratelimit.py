"""tracker.sending.ratelimit: token buckets pacing eSMS calls (burst, average rate, fair queueing in debt,
unlimited at 0) on a fake clock, and one bucket per key; plus a short real-time check across threads."""

from __future__ import annotations

import threading
import time

import pytest

from tracker.sending.ratelimit import PerKey, TokenBucket


class FakeClock:
    """A monotonic clock that moves only when told to, or when a caller sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(rate, burst=None, clock=None):
    clock = clock or FakeClock()
    return TokenBucket(rate, burst, clock=clock, sleep=clock.sleep), clock


def test_a_full_burst_goes_at_once():
    b, clock = bucket(5)
    assert [b.acquire() for _ in range(5)] == [0.0] * 5
    assert clock.slept == []


def test_past_the_burst_each_call_waits_one_interval():
    b, clock = bucket(5)
    for _ in range(5):
        b.acquire()
    waits = [b.acquire() for _ in range(3)]
    assert waits == pytest.approx([0.2, 0.2, 0.2])
    assert clock.slept == pytest.approx([0.2, 0.2, 0.2])


def test_the_average_rate_holds_over_many_calls():
    b, clock = bucket(10)
    start = clock.now
    for _ in range(110):
        b.acquire()
    # 10 free (the burst), then 100 at 10 per second.
    assert clock.now - start == pytest.approx(10.0)


def test_idle_time_refills_but_never_past_the_burst():
    b, clock = bucket(2, burst=3)
    for _ in range(3):
        b.acquire()
    clock.now += 60  # a long idle spell
    assert [b.acquire() for _ in range(3)] == [0.0] * 3
    assert b.acquire() == pytest.approx(0.5)


def test_partial_refill():
    b, clock = bucket(4, burst=1)
    assert b.acquire() == 0.0
    clock.now += 0.125  # half a token back
    assert b.acquire() == pytest.approx(0.125)


def test_waiters_queue_in_debt_so_each_turn_is_fixed_on_arrival():
    b, clock = bucket(1, burst=1)
    b.acquire()
    # Three callers arrive at the same instant (nobody sleeping yet): 1 s, 2 s, 3 s.
    assert [b._reserve() for _ in range(3)] == pytest.approx([1.0, 2.0, 3.0])


def test_burst_defaults_to_one_second_and_is_at_least_one():
    assert bucket(7)[0].burst == 7
    assert bucket(0.5)[0].burst == 1.0
    assert bucket(5, burst=0)[0].burst == 1.0
    assert bucket(5, burst=20)[0].burst == 20


@pytest.mark.parametrize("rate", [0, -1])
def test_zero_or_negative_rate_means_unlimited(rate):
    b, clock = bucket(rate)
    assert all(b.acquire() == 0.0 for _ in range(1000))
    assert clock.slept == []


def test_per_key_keeps_one_bucket_per_key():
    keys = PerKey(3, burst=2)
    a = keys.bucket("oa-1")
    assert keys.bucket("oa-1") is a
    assert keys.bucket("oa-2") is not a
    assert (a.rate, a.burst) == (3, 2)


def test_per_key_keys_do_not_share_tokens():
    keys = PerKey(1, burst=1)
    assert keys.acquire("oa-1") == 0.0
    assert keys.acquire("oa-2") == 0.0


def test_per_key_unlimited_creates_no_buckets():
    keys = PerKey(0)
    assert keys.acquire("oa-1") == 0.0
    assert keys._buckets == {}


def test_real_time_threads_share_the_rate():
    """20 calls from 4 threads at 50/s with a burst of 5: about 0.3 s, never faster."""
    b = TokenBucket(50, burst=5)
    start = time.monotonic()

    def work():
        for _ in range(5):
            b.acquire()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert 0.27 <= elapsed < 3.0
