"""The seam between the send loop and the world: where a message goes once it is claimed.

A `Transport` makes connections and signs what goes through them; a `Connection` takes one
message for one recipient and answers with the server's reply, or raises `Transient` (4xx,
a dropped connection: worth another try) or `Permanent` (5xx: refused for good). The send
loop (`sender.py`) knows nothing else of SMTP.

Two implementations: `smtp.SmtpTransport`, the real one (TLS, AUTH, pipelining, DKIM), and
`MemoryTransport` here, which keeps every message it is given in order, for the many tests and
rehearsals that only need to know what was sent and what a server would have answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol


class Transient(Exception):
    """A failure worth retrying (4xx, dropped connection)."""


class Permanent(Exception):
    """A refusal that will not change (5xx); `stage` says which command was refused when
    it was the recipient ("rcpt")."""

    def __init__(self, reply: str, stage: str = "") -> None:
        super().__init__(reply)
        self.stage = stage


# How a refusal of the recipient (in reply to RCPT TO) is recorded as its delivery's error.
REFUSED_AT_RCPT = "refused at RCPT TO: "


class Unreachable(Transient):
    """The server could not be reached (refused, timed out, no such host)."""


class Connection(Protocol):
    """One connection to where messages go, opened on first use and again after a drop."""

    def open(self) -> object:
        """Connect now: `Unreachable` when nobody answers."""

    def send(
        self,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], None] = ...,
        after_envelope: Callable[[], None] = ...,
    ) -> str:
        """Hand over one message for one recipient; the server's reply when it took it.
        `after_envelope` runs while the server reads the envelope, `before_data` just before
        the body goes (the send loop commits its last mark between the two)."""

    def close(self) -> None:
        """Say goodbye."""

    def drop(self) -> None:
        """Forget a connection that failed."""


class Transport(Protocol):
    """Where a run's messages go: a relay, or memory."""

    # Whether a connection may be made in a process forked from the run (a relay's can; a
    # transport that keeps messages in this process's memory cannot).
    forks: ClassVar[bool]

    def connect(self) -> Connection:
        """A new connection (not yet open)."""

    def sign(self, data: bytes) -> bytes:
        """The message as it leaves: signed and stamped as this transport does (DKIM)."""

    def describe(self) -> str:
        """Where messages go, for people."""

    def reach_hint(self) -> str:
        """What to check when it cannot be reached."""


@dataclass(frozen=True)
class Kept:
    """A message a `MemoryTransport` took."""

    sender: str
    recipient: str
    data: bytes
    at: float  # the transport's clock when it was taken


@dataclass
class MemoryTransport:
    """Keeps every message it takes, in order, and can be told to answer as a server would.

    `faults[(address, stage)]` is a list of replies to give, one per attempt, for stage
    "rcpt" (before the body goes) or "data" (after it); "drop" loses the connection there.
    `unreachable` makes every connection fail to open.
    """

    forks: ClassVar[bool] = False
    faults: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    unreachable: bool = False
    clock: Callable[[], float] = time.monotonic
    kept: list[Kept] = field(default_factory=list)
    opened: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def connect(self) -> MemoryConnection:
        """A new connection to this memory."""
        return MemoryConnection(self)

    def sign(self, data: bytes) -> bytes:
        """Memory signs nothing."""
        return data

    def describe(self) -> str:
        """Where messages go, for people."""
        return "memory"

    def reach_hint(self) -> str:
        """What to check when it cannot be reached."""
        return "the in-memory transport was told to be unreachable"

    def recipients(self) -> list[str]:
        """Who was sent something, in the order the messages were taken."""
        with self.lock:
            return [k.recipient for k in self.kept]

    def _fault(self, address: str, stage: str) -> str | None:
        with self.lock:
            queue = self.faults.get((address, stage))
            return queue.pop(0) if queue else None


class MemoryConnection:
    """A connection to a `MemoryTransport`."""

    def __init__(self, transport: MemoryTransport) -> None:
        self.transport = transport
        self.is_open = False

    def open(self) -> object:
        """Open, unless the transport is told to be unreachable."""
        if self.transport.unreachable:
            raise Unreachable("cannot connect to memory: told to be unreachable")
        with self.transport.lock:
            self.transport.opened += 1
        self.is_open = True
        return self

    def send(
        self,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], None] = lambda: None,
        after_envelope: Callable[[], None] = lambda: None,
    ) -> str:
        """Take the message, or answer with the fault it was told to give."""
        if not self.is_open:
            self.open()
        after_envelope()
        self._answer(recipient, "rcpt")
        before_data()
        self._answer(recipient, "data")
        transport = self.transport
        with transport.lock:
            transport.kept.append(Kept(sender, recipient, data, transport.clock()))
            number = len(transport.kept)
        return f"250 2.0.0 Ok: kept as message {number}"

    def _answer(self, recipient: str, stage: str) -> None:
        fault = self.transport._fault(recipient, stage)
        if fault is None:
            return
        if fault == "drop":
            self.is_open = False
            raise Transient("connection lost: dropped")
        code = int(fault.split()[0])
        raise (Transient if code < 500 else Permanent)(fault)

    def close(self) -> None:
        """Close."""
        self.is_open = False

    def drop(self) -> None:
        """Forget the connection."""
        self.is_open = False
