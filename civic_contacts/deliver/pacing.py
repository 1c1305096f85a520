"""The send rate: at most N messages reach the server in any one-second window (below one
per second: at most one in any 1/N seconds)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import cast

from sqlalchemy import Float, Table, bindparam, func, select
from sqlalchemy.engine import Engine


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

    def __init__(
        self,
        rate: float | None,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        # Below one per second, one message per 1/rate seconds (0.2: one every 5 seconds).
        self.window = (1.0 if not rate or rate >= 1 else 1.0 / rate) + margin
        self.capacity = max(1, int(rate)) if rate else 0
        self.clock = clock
        self.ended: deque[float] = deque()
        self.in_flight = 0
        self.changed = threading.Condition()

    def admit(self) -> float | None:
        """Take a slot now if one is free (None); else the seconds until one may free up
        (`math.inf`: when a message in flight is answered). The caller holds `changed`."""
        now = self.clock()
        while self.ended and now - self.ended[0] >= self.window:
            self.ended.popleft()
        if len(self.ended) + self.in_flight < self.capacity:
            self.in_flight += 1
            return None
        return self.window - (now - self.ended[0]) if self.ended else math.inf

    def acquire(self) -> None:
        """Wait until one more message may start; pair each call with `release`."""
        if not self.rate:
            return
        with self.changed:
            while (wait := self.admit()) is not None:
                self.changed.wait(None if wait == math.inf else wait)

    def release(self) -> None:
        """The message that `acquire` let go has been answered (or has failed)."""
        if not self.rate:
            return
        with self.changed:
            self.in_flight -= 1
            self.ended.append(self.clock())
            self.changed.notify_all()


class SharedPace:
    """Start slots kept in the database, so a rate holds over every sender of every release,
    on one machine or several, and across restarts.

    `reserve(key, interval)` takes the next free slot of a pace in one statement (the row's
    lock, or SQLite's write lock, orders concurrent senders) and returns the Unix time it
    starts: starts are at least `interval` apart, so no one-second window holds more than
    one more message than the rate. A sender killed and started again finds the slots its
    previous run took.
    """

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        from civic_contacts.registry.models import SendPace

        self.engine = engine
        self.clock = clock  # Unix seconds: slots are shared with other processes and machines
        table = cast(Table, SendPace.__table__)
        now = bindparam("now", type_=Float())
        interval = bindparam("interval", type_=Float())
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert

            later = func.greatest(table.c.next_at, now) + interval
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]

            later = func.max(table.c.next_at, now) + interval
        statement = insert(table).values(key=bindparam("key"), next_at=now + interval)
        self.statement = statement.on_conflict_do_update(
            index_elements=[table.c.key], set_={"next_at": later}
        ).returning(table.c.next_at)
        self.lock = threading.Lock()

    def reserve(self, key: str, interval: float) -> float:
        """The start time (Unix seconds) of the slot taken for one message of this pace."""
        with self.lock, self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # The slot holds once the server has it. Waiting for its disk as well delays
                # the message, and a stalled flush makes the senders waiting behind it take
                # their slots late and send together. A kill of a sender loses no slot; a
                # crash of the database server could lose its last half second's.
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO off")
            taken = connection.execute(
                self.statement, {"key": key, "now": self.clock(), "interval": interval}
            ).scalar_one()
        return float(taken) - interval

    def free_at(self, key: str) -> float:
        """When the pace's next slot is free (Unix seconds; 0 when it was never used), without
        taking it."""
        from civic_contacts.registry.models import SendPace

        with self.engine.connect() as connection:
            found = connection.execute(
                select(SendPace.next_at).where(SendPace.key == key)
            ).scalar_one_or_none()
        return float(found or 0.0)

    def wait(self, key: str, interval: float, stop: threading.Event | None = None) -> None:
        """Reserve a slot and sleep until it starts (returns early if `stop` is set)."""
        left = self.reserve(key, interval) - self.clock()
        if left > 0:
            (stop or threading.Event()).wait(left)
