"""The send rate: at most N messages reach the server in any one-second window (below one
per second: at most one in any 1/N seconds)."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    """At most `rate` messages reach the server in any window of one second, over all connections.

    A message holds a slot from just before its body goes until the server's reply to it has come
    back, and then for one more second (plus a margin). A new message starts only while fewer than
    `rate` slots are held. Whenever the server takes a message in, its body started after the
    limiter let it go and it ended before the reply came back, so no one-second window at the
    server, however the network delays messages, can hold more than `rate` of them. (A token
    bucket refills continuously and lets up to twice the rate through a window that straddles a
    refill; spacing the times messages start, without waiting for them to end, lets network jitter
    bunch them up.)
    """

    def __init__(self, rate: float | None, margin: float = 0.05) -> None:
        self.rate = rate
        # Below one per second, one message per 1/rate seconds (0.2: one every 5 seconds).
        self.window = (1.0 if not rate or rate >= 1 else 1.0 / rate) + margin
        self.capacity = max(1, int(rate)) if rate else 0
        self.ended: deque[float] = deque()
        self.in_flight = 0
        self.changed = threading.Condition()

    def acquire(self) -> None:
        """Wait until one more message may start; pair each call with `release`."""
        if not self.rate:
            return
        with self.changed:
            while True:
                now = time.monotonic()
                while self.ended and now - self.ended[0] >= self.window:
                    self.ended.popleft()
                if len(self.ended) + self.in_flight < self.capacity:
                    self.in_flight += 1
                    return
                wait = self.window - (now - self.ended[0]) if self.ended else None
                self.changed.wait(wait)

    def release(self) -> None:
        """The message that `acquire` let go has been answered (or has failed)."""
        if not self.rate:
            return
        with self.changed:
            self.in_flight -= 1
            self.ended.append(time.monotonic())
            self.changed.notify_all()
