"""The rate limiter: at most N messages reach the server in any one-second window.

Run on a fake clock: each test steps time forward exactly as far as the limiter says it must
wait, so it checks the arithmetic of the window in microseconds instead of seconds of real
time. (The rate through real senders, a real server and a kill is tests/deliver/test_pace.py.)
"""

from __future__ import annotations

import heapq
import itertools
import math
import random

from civic_contacts.deliver.pacing import RateLimiter


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def busiest(times: list[float]) -> int:
    """The most instants in any one-second window."""
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t - start < 1.0) for i, start in enumerate(ordered))


def start(limiter: RateLimiter, clock: FakeClock) -> float:
    """Acquire a slot for one connection alone, letting the fake time pass as it waits."""
    with limiter.changed:
        while (wait := limiter.admit()) is not None:
            assert wait != math.inf, "a lone connection never waits on a message in flight"
            clock.now += max(wait, 1e-9)  # a real clock always moves on
    return clock.now


def test_rate_limiter_window() -> None:
    """The limiter never lets more than `rate` acquisitions into one second."""
    clock = FakeClock()
    limiter = RateLimiter(50, margin=0.0, clock=clock)
    stamps = []
    for _ in range(120):
        stamps.append(start(limiter, clock))
        clock.now += 0.001  # the server answers
        limiter.release()
    assert busiest(stamps) == 50
    # and it is not slower than it must be: 120 messages at 50 a second take about 2 s
    assert stamps[-1] - stamps[0] < 2.5


def test_rate_limiter_holds_at_the_server_whatever_the_delay() -> None:
    """Messages the network delays by different amounts never bunch up past the rate at the
    server: each lands somewhere between the limiter letting it go and its reply coming back.
    Four connections of ten messages each, simulated event by event."""
    clock = FakeClock()
    limiter = RateLimiter(10, margin=0.0, clock=clock)
    delays = random.Random(7)
    order = itertools.count()
    # (time, order, connection, what): "try" to start a message, "end" when its reply is back
    events = [(clock.now, next(order), connection, "try") for connection in range(4)]
    left = dict.fromkeys(range(4), 10)
    landed: list[float] = []
    while events:
        at, _n, connection, what = heapq.heappop(events)
        clock.now = at
        if what == "end":
            limiter.release()
            if left[connection]:
                heapq.heappush(events, (at, next(order), connection, "try"))
            continue
        with limiter.changed:
            wait = limiter.admit()
        if wait is not None:
            ends = [e[0] for e in events if e[3] == "end"]
            retry = min(ends) if wait == math.inf else at + max(wait, 1e-9)
            heapq.heappush(events, (retry, next(order), connection, "try"))
            continue
        left[connection] -= 1
        before, after = delays.uniform(0.0, 0.2), delays.uniform(0.0, 0.2)
        landed.append(at + before)
        heapq.heappush(events, (at + before + after, next(order), connection, "end"))
    assert len(landed) == 40
    assert busiest(landed) <= 10


def test_rates_below_one_per_second_are_honoured() -> None:
    """0.8 per second: each message starts at least 1.25 s after the previous one ended."""
    clock = FakeClock()
    limiter = RateLimiter(0.8, clock=clock)
    stamps = []
    for _ in range(3):
        stamps.append(start(limiter, clock))
        limiter.release()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 1.25


def test_no_rate_never_waits() -> None:
    """Without a rate, acquiring takes no time and holds nothing."""
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock)
    for _ in range(1000):
        limiter.acquire()
        limiter.release()
    assert clock.now == 1000.0 and limiter.in_flight == 0
