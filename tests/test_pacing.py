"""The rate limiter: at most N messages reach the server in any one-second window."""

from __future__ import annotations

import itertools
import random
import threading
import time

from civic_contacts.deliver.pacing import RateLimiter


def test_rate_limiter_window() -> None:
    """The limiter never lets more than `rate` acquisitions into one second."""
    limiter = RateLimiter(50, margin=0.0)
    stamps = []
    for _ in range(120):
        limiter.acquire()
        stamps.append(time.monotonic())
        limiter.release()
    assert max(sum(1 for t in stamps[i:] if t - s < 1.0) for i, s in enumerate(stamps)) <= 50


def test_rate_limiter_holds_at_the_server_whatever_the_delay() -> None:
    """Messages the network delays by different amounts never bunch up past the rate at the
    server: each lands somewhere between the limiter letting it go and its reply coming back."""
    limiter = RateLimiter(10, margin=0.0)
    landed: list[float] = []
    lock = threading.Lock()
    delays = random.Random(7)

    def connection(n: int) -> None:
        for _ in range(n):
            with lock:
                before, after = delays.uniform(0.0, 0.2), delays.uniform(0.0, 0.2)
            limiter.acquire()
            time.sleep(before)
            with lock:
                landed.append(time.monotonic())
            time.sleep(after)
            limiter.release()

    workers = [threading.Thread(target=connection, args=(10,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    landed.sort()
    assert len(landed) == 40
    assert max(sum(1 for t in landed[i:] if t - s < 1.0) for i, s in enumerate(landed)) <= 10


def test_rates_below_one_per_second_are_honoured() -> None:
    """0.8 per second: each message starts at least 1.25 s after the previous one ended."""
    limiter = RateLimiter(0.8)
    stamps = []
    for _ in range(3):
        limiter.acquire()
        stamps.append(time.monotonic())
        limiter.release()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 1.25
