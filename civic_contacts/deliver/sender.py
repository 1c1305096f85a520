"""The workers of a send: N connections that claim a few deliveries at a time from the
ledger (`ledger.py`), send them through one rate limit and the shared pace (`pacing.py`) and
mark each as soon as the transport answers. The workers are threads of the run, or on
PostgreSQL processes forked from it (see `Sender._in_processes`).

Replies are classified by code: 4xx and dropped connections are retried with exponential
backoff and jitter up to `max_attempts` in the run, then given back pending with the last
error; 5xx mark the delivery failed with the server's reply. A refusal of one recipient never
stops the others. An embargoed message is never sent at or after its lift: the run stops a few
seconds before it and says so.

One module: the threaded and the forked workers share every step of a claim, a send and a
mark; apart, the argument that each message goes exactly once would be split in two.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import heapq
import itertools
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from civic_contacts.compose.mime import stamp_date
from civic_contacts.db import utcnow
from civic_contacts.deliver.ledger import (
    Claimed,
    DeliveryStatus,
    GroupCommit,
    Ledger,
    release_claims,
    run_id,
)
from civic_contacts.deliver.pacing import RateLimiter, SharedPace
from civic_contacts.deliver.prepare import SendPlan
from civic_contacts.deliver.tokens import (
    envelope_sender,
    signing_secret,
)
from civic_contacts.deliver.transport import (
    REFUSED_AT_RCPT,
    Connection,
    Permanent,
    Transient,
    Transport,
    Unreachable,
)
from civic_contacts.errors import SendError
from civic_contacts.registry.addresses import domain_of

# Sending is stopped this long before a lift, so a message started just before it cannot
# arrive after it.
EMBARGO_MARGIN = dt.timedelta(seconds=5)


SWITCH_INTERVAL = 0.0005  # seconds a thread may hold Python's lock while others wait


CLAIM_SIZE = 100  # deliveries a worker claims at a time (one statement, one commit)


# With a rate, a claim holds about this many seconds of sending: an address suppressed while
# a run goes is checked at the next claim, so what is already claimed is a short window.
CLAIM_SECONDS = 1.0


S = DeliveryStatus


@dataclass
class SendOptions:
    """How fast and how stubborn a run is, and what it may do."""

    rate: float | None = None  # messages per second over all connections; None: unlimited
    connections: int = 1
    limit: int | None = None
    max_attempts: int = 3
    backoff: float = 1.0  # seconds before the first retry; doubles each time, with jitter
    max_backoff: float = 60.0
    after_embargo: bool = False
    dry_run: bool = False
    clock: Callable[[], dt.datetime] = utcnow
    # Messages per second to any one recipient domain; None: the organisation's ([send]
    # per_domain_rate), 0: no limit. Shared, like `rate`, by every sender on the database
    # (see pacing.SharedPace).
    per_domain_rate: float | None = None
    # The pre-send check (`doctor`'s DNS checks) runs before anything is sent; skipping it is
    # a decision the caller makes by name. `dns_server` (HOST:PORT) is the resolver it asks.
    skip_doctor: bool = False
    dns_server: str | None = None
    # Set from elsewhere (the desk's Pause) to stop the run as Ctrl-C does: each worker
    # finishes the message in hand, and what is left stays pending for a later send.
    pause: threading.Event | None = None


@dataclass
class SendReport:
    """What a run did, and where the batch stands after it."""

    release: str
    sent: int = 0
    failed: int = 0
    retried: int = 0
    left_pending: int = 0
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)
    plan: SendPlan | None = None
    final: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    # The rate the run went at (messages per second; None: unlimited): the organisation's,
    # or the caller's when lower.
    rate: float | None = None

    # The most this run was asked to send (`--limit`); None: everything.
    limit: int | None = None
    # Addresses the relay refused at RCPT TO as gone (5.1.1 and the like): suppressed.
    suppressed: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Nothing failed and nothing is left for this run to send (a run asked to send at
        most N that sent N left the rest on purpose)."""
        left = self.final.get(S.PENDING, 0)
        if self.limit is not None and self.sent >= self.limit:
            left = 0
        return not (self.final.get(S.FAILED, 0) or left or self.stopped)


class Withheld(Exception):
    """The release changed under a running send: this message must not go."""


def release_changed(plan: SendPlan, revision: int, withdrawn: bool, removed: bool) -> str | None:
    """Why a run's messages may no longer go (the release moved on from the revision they
    were rendered from, was withdrawn or removed), or None when they may."""
    own = plan.key.notice_id is None
    if revision == plan.revision and not removed and not (withdrawn and own):
        return None
    what = (
        "was removed"
        if removed
        else "was withdrawn"
        if withdrawn and revision == plan.revision
        else f"changed (revision {plan.revision} is now {revision})"
    )
    return (
        f"release {plan.slug} {what} while this {plan.what} was being sent: nothing of the"
        " older revision goes out any more"
    )


class Budget:
    """How many more messages a run may start (`--limit`; None: no limit), shared by its
    workers: threads, or processes forked from the run (`context`)."""

    def __init__(self, limit: int | None, context: Any = None) -> None:
        self.limited = limit is not None
        self.cell: Any = context.Value("q", limit or 0) if context else _Cell(limit or 0)

    def take(self) -> bool:
        """Take one message's place, if any is left."""
        if not self.limited:
            return True
        with self.cell.get_lock():
            if self.cell.value <= 0:
                return False
            self.cell.value -= 1
            return True

    def cap(self, size: int) -> int:
        """A claim's size: at most what is left (and at least one)."""
        if not self.limited:
            return size
        with self.cell.get_lock():
            return max(1, min(size, self.cell.value))


class _Cell:
    """A number and its lock, shaped like multiprocessing's shared Value."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.lock = threading.Lock()

    def get_lock(self) -> threading.Lock:
        return self.lock


class _Ticks:
    """A worker process's progress, sent to the run a few times a second, not per message."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe
        self.count = 0
        self.last = time.monotonic()

    def add(self, n: int) -> None:
        self.count += n
        if time.monotonic() - self.last >= 0.2:
            self.flush()

    def flush(self) -> None:
        if self.count:
            self.pipe.send(("progress", self.count))
        self.count = 0
        self.last = time.monotonic()


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the run's process ends, however it ends (a
    killed run's workers do not go on sending on their own)."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(AttributeError, OSError):  # a C library without prctl
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the line above
        os._exit(1)


def _portable(error: BaseException) -> BaseException:
    """An error as it can cross to the run's process (pickled), keeping its message."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return SendError(f"{type(error).__name__}: {error}")
    return error


class Sender:
    """Sends the pending deliveries of one release with N connections and one rate limit."""

    def __init__(
        self,
        engine: Engine,
        plan: SendPlan,
        transport: Transport,
        options: SendOptions,
        progress: Callable[[int], None],
        report: SendReport,
    ) -> None:
        self.engine = engine
        self.key = plan.key
        self.plan = plan
        self.not_before = plan.not_before
        self.envelope_from = plan.from_address
        self.return_path = plan.return_path
        self.return_secret = signing_secret() if plan.return_path else b""
        self.transport = transport
        self.options = options
        self.message_for = plan.source
        self.progress = progress
        self.clock = options.clock
        self.me = run_id()
        self.user = getpass.getuser()
        self.limiter = RateLimiter(options.rate)
        # The rate and the per-domain pace are kept in the database, so that they hold over
        # every sender and across restarts; the in-process limiter above keeps the exact
        # per-second window at the server for this run's own connections.
        self.pace = SharedPace(engine) if options.rate or options.per_domain_rate else None
        self.rate_interval = 1.0 / options.rate if options.rate else None
        self.domain_interval = 1.0 / options.per_domain_rate if options.per_domain_rate else None
        self.report = report
        self.lock = threading.Lock()
        self.db_lock = threading.Lock()
        self.stop: Any = threading.Event()  # or, when the workers are processes, theirs
        self.budget = Budget(options.limit)
        self.fatal: BaseException | None = None
        self.random = random.Random()
        # A claim is held while its messages wait for the rate limit; keep that under a minute
        # so that a claim never outlives its lease on a slow rate.
        self.claim_size = (
            CLAIM_SIZE
            if not options.rate
            else max(1, min(CLAIM_SIZE, int(options.rate * CLAIM_SECONDS)))
        )

    def _claim(self, ledger: Ledger) -> list[Claimed]:
        return ledger.claim(self.key, self.budget.cap(self.claim_size), set())

    def envelope_for(self, claimed: Claimed) -> str:
        """The envelope sender of one delivery: its own return path when bounces come back
        to a mailbox of their own, else the From address."""
        if self.return_path is None:
            return self.envelope_from
        return envelope_sender(self.return_path, self.return_secret, claimed.id)

    def run(self, first: Connection) -> SendReport:
        """Send until nothing is left, the limit is reached, or the embargo stops the run."""
        self.group = (
            GroupCommit(self.engine, self.db_lock) if self.engine.dialect.name == "sqlite" else None
        )
        self.workers = [f"{self.me}/{i}" for i in range(max(1, self.options.connections))]
        if self._in_processes():
            first.close()
            try:
                self._run_processes()
            finally:
                for name in self.workers:
                    release_claims(self.engine, self.key, name)
            if self.fatal is not None:
                raise self.fatal
            return self.report
        # The workers mostly wait on sockets and the database, each holding Python's lock for
        # a moment at a time; the default 5 ms turns would keep a woken worker
        # waiting far longer than its work takes.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        connections = [first] + [self.transport.connect() for _ in range(len(self.workers) - 1)]
        workers = [
            threading.Thread(target=self._work, args=(name, conn), name=name, daemon=True)
            for name, conn in zip(self.workers, connections, strict=True)
        ]
        try:
            # Ctrl-C sets `stop` through a handler: a KeyboardInterrupt raised inside
            # `join` makes Python 3.11 take a running thread for ended (its wait on the
            # thread's lock is cut short, and the lock, held by the thread, is released), so
            # the run gave back the claims of workers still sending and exited under them:
            # a message the server took stayed unmarked.
            with self._ctrl_c_stops():
                for worker in workers:
                    worker.start()
                for worker in workers:
                    while worker.is_alive():
                        worker.join(0.2)
                        self._paused()
        finally:
            self.stop.set()
            for worker in workers:
                if worker.ident is not None:
                    worker.join()
            sys.setswitchinterval(switch)
            if self.group is not None:
                self.group.close()
            for name in self.workers:
                release_claims(self.engine, self.key, name)
        if self.fatal is not None:
            raise self.fatal
        return self.report

    def _paused(self) -> None:
        """Stop the run when the caller's pause is set."""
        pause = self.options.pause
        if pause is not None and pause.is_set() and not self.stop.is_set():
            self.report.stopped = self.report.stopped or "paused"
            self.stop.set()

    @contextlib.contextmanager
    def _ctrl_c_stops(self) -> Iterator[None]:
        """Within the block, Ctrl-C (SIGINT) stops the run rather than raising: each worker
        commits its last mark and gives back what it holds. (Only the main thread can set a
        signal handler; elsewhere Ctrl-C is left as it is.)"""
        interrupted: list[int] = []

        def interrupt(number: int, _frame: Any) -> None:
            interrupted.append(number)
            self.stop.set()

        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, interrupt) if main else None
        try:
            yield
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
            if interrupted:
                self.report.stopped = self.report.stopped or "interrupted"

    def _in_processes(self) -> bool:
        """Whether the workers run as processes of their own rather than threads.

        Threads of one process take turns at Python's lock: with four connections busy, the
        turns cost as much CPU as the sending (a bare smtplib loop sends at twice the rate
        from four processes as from four threads). Processes need a database that takes
        writers side by side (PostgreSQL; SQLite's one writer is shared by the threads' group
        commit), `fork` (Linux), and no `--rate`, whose exact window at the server is kept by
        one process's limiter (the per-domain pace is kept in the database, for any sender).
        """
        return (
            len(self.workers) > 1
            and self.engine.dialect.name == "postgresql"
            and sys.platform == "linux"
            and not self.options.rate
            and self.transport.forks
        )

    def _run_processes(self) -> None:
        """Run each worker in a process forked from this one; gather their reports."""
        import multiprocessing
        from multiprocessing.connection import wait

        context = multiprocessing.get_context("fork")
        self.stop = context.Event()
        self.budget = Budget(self.options.limit, context)
        parent = os.getpid()
        children: dict[Any, Any] = {}
        try:
            for name in self.workers:
                ours, theirs = context.Pipe(duplex=False)
                child = context.Process(target=self._child, args=(name, theirs, parent), name=name)
                child.start()
                theirs.close()
                children[ours] = child
        except BaseException:
            # The ones started finish the message in hand before their claims are given back.
            self.stop.set()
            self._gather(children, wait)
            raise
        # Ctrl-C stops the run as it does with threads: each worker commits its last mark
        # and gives back what it holds. A handler, not KeyboardInterrupt, which could cut a
        # report in half as it is read.
        with self._ctrl_c_stops():
            self._gather(children, wait)

    def _gather(self, children: dict[Any, Any], wait: Callable[..., list[Any]]) -> None:
        """Take the children's progress and reports until every one has ended."""
        while children:
            self._paused()
            for pipe in wait(list(children), timeout=0.2):
                try:
                    message = pipe.recv()
                except EOFError:
                    child = children.pop(pipe)
                    child.join()
                    if child.exitcode:
                        self.fatal = self.fatal or SendError(
                            f"a sending process ended with code {child.exitcode}; what it had"
                            " claimed is pending again"
                        )
                        self.stop.set()
                    continue
                if message[0] == "progress":
                    self.progress(message[1])
                    continue
                _kind, sent, failed, retried, left, errors, stopped, fatal = message
                self.report.sent += sent
                self.report.failed += failed
                self.report.retried += retried
                self.report.left_pending += left
                self.report.errors.extend(errors)
                self.report.stopped = self.report.stopped or stopped
                if fatal is not None:
                    self.fatal = self.fatal or fatal
                    self.stop.set()

    def _child(self, name: str, pipe: Any, parent: int) -> None:
        """One worker as a process: its own database and SMTP connections, its counts sent
        back at the end and its progress as it goes."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the run on Ctrl-C
        _die_with(parent)
        self.engine.dispose(close=False)  # the parent's connections stay the parent's
        self.report = SendReport(release=self.report.release)
        self.lock = threading.Lock()
        ticks = _Ticks(pipe)
        self.progress = ticks.add
        try:
            self._work(name, self.transport.connect())
        finally:
            ticks.flush()
            fatal = self.fatal
            if fatal is not None:
                fatal = _portable(fatal)
            report = self.report
            pipe.send(
                (
                    "done",
                    report.sent,
                    report.failed,
                    report.retried,
                    report.left_pending,
                    report.errors,
                    report.stopped,
                    fatal,
                )
            )
            pipe.close()

    def _work(self, worker: str, connection: Connection) -> None:
        ledger = Ledger(self.engine, worker, self.user, self.db_lock, self.group)
        # Messages whose domain's next slot is later: kept (still claimed) while messages to
        # other domains go on, so one busy domain never holds up the rest.
        later: list[tuple[float, int, Claimed]] = []
        order = itertools.count()
        planned: dict[str, float] = {}  # per domain: when this worker expects its next slot

        def send_one(claimed: Claimed) -> bool:
            if self.stop.is_set():
                return False
            if not self.budget.take():
                self.stop.set()
                return False
            self._deliver(connection, claimed, ledger)
            return True

        def send_ready() -> bool:
            while later and later[0][0] <= time.monotonic():
                if not send_one(heapq.heappop(later)[2]):
                    return False
            return True

        try:
            while not self.stop.is_set():
                # The last mark waits for the next envelope only while messages follow at
                # once: before claiming, or waiting for a domain's slot, it is committed.
                ledger.confirm()
                batch = self._claim(ledger)
                if not batch:
                    if not later:
                        return
                    if self.stop.wait(max(0.0, later[0][0] - time.monotonic())):
                        return
                    if not send_ready():
                        return
                    continue
                for claimed in batch:
                    wait = self._domain_wait(claimed, planned)
                    if wait > 0.01:
                        heapq.heappush(later, (time.monotonic() + wait, next(order), claimed))
                    elif not send_one(claimed):
                        return
                    if not send_ready():
                        return
        except BaseException as exc:  # a bug or a SendError: stop every worker and report it
            self.fatal = exc
            self.stop.set()
        finally:
            try:
                ledger.confirm()
            except BaseException as exc:
                self.fatal = self.fatal or exc
                self.stop.set()
            connection.close()
            ledger.close()

    def _domain_wait(self, claimed: Claimed, planned: dict[str, float]) -> float:
        """Seconds until the message's domain should have a free slot: the shared pace's next
        free slot, after the ones this worker has already planned for that domain. Nothing is
        taken here; the slot is taken just before the body goes (see `_deliver`)."""
        if self.pace is None or self.domain_interval is None:
            return 0.0
        key = "domain:" + domain_of(claimed.email)
        now = time.time()
        ready = max(self.pace.free_at(key), planned.get(key, 0.0), now)
        planned[key] = ready + self.domain_interval
        return ready - now

    def _stop_for_embargo(self, embargo: dt.datetime) -> None:
        with self.lock:
            self.report.stopped = (
                f"the embargo lifts at {embargo:%Y-%m-%d %H:%M:%S} UTC; embargoed messages"
                " are never sent at or after it"
            )
        self.stop.set()

    def _deliver(self, connection: Connection, claimed: Claimed, ledger: Ledger) -> None:
        data = self.message_for(claimed)  # the message as built (its hash checked)
        attempt = 0
        # The release's state, read anew for each try (see `after_envelope`).
        state: list[tuple[int, bool, bool]] = []
        while True:
            now = self.clock()
            if claimed.embargo is not None and now + EMBARGO_MARGIN >= claimed.embargo:
                self._stop_for_embargo(claimed.embargo)
                return
            if self.not_before is not None and now < self.not_before:
                with self.lock:
                    self.report.stopped = (
                        f"the embargo lifts at {self.not_before:%Y-%m-%d %H:%M:%S} UTC; this"
                        " notice is never sent before it"
                    )
                self.stop.set()
                return
            # Date says when the message went out, not when it was built; signed after that.
            signed = self.transport.sign(stamp_date(data, now))
            attempt += 1
            held = False
            state.clear()

            def after_envelope() -> None:
                # While the server reads this envelope: the last message's mark is committed
                # and the release's state read (on PostgreSQL in one statement).
                state[:] = [ledger.confirm_then_state(self.key.release_id)]

            def start_body() -> None:
                nonlocal held
                # The previous message's mark is committed before this body goes (see
                # Ledger.sent; `after_envelope` did it, or does it now). And the release is
                # still the one this message was rendered from: moved, corrected, withdrawn
                # or removed meanwhile, nothing more of it goes.
                if not state:
                    after_envelope()
                self._check_release(state[0])
                if self.pace is not None and self.domain_interval is not None:
                    domain = "domain:" + domain_of(claimed.email)
                    self.pace.wait(domain, self.domain_interval, self.stop)
                if self.pace is not None and self.rate_interval is not None:
                    self.pace.wait("org", self.rate_interval, self.stop)
                self.limiter.acquire()
                held = True

            try:
                # The limiter's slot is taken just before the body goes and given back when
                # the server has answered: see RateLimiter.
                try:
                    reply = connection.send(
                        self.envelope_for(claimed),
                        claimed.email,
                        signed,
                        start_body,
                        after_envelope=after_envelope,
                    )
                finally:
                    if held:
                        self.limiter.release()
            except Withheld:
                # The body never went: the server drops a message whose DATA is cut off.
                connection.drop()
                ledger.release(claimed.id)
                self.stop.set()
                return
            except Permanent as exc:
                stage = REFUSED_AT_RCPT if exc.stage == "rcpt" else ""
                ledger.failed(claimed.id, str(exc), f"{stage}{exc}")
                with self.lock:
                    self.report.failed += 1
                    self.report.errors.append(f"{claimed.email}: {exc}")
                self.progress(1)
                return
            except Transient as exc:
                ledger.attempt(claimed.id, str(exc))
                if attempt >= self.options.max_attempts or self.stop.is_set():
                    # Still claimed, so that no worker of this run tries it again; the run
                    # gives it back, pending, when it ends (see `run`).
                    with self.lock:
                        self.report.left_pending += 1
                        self.report.errors.append(f"{claimed.email}: {exc} (left pending)")
                        if isinstance(exc, Unreachable):
                            # The server went away: trying every other message would only wait.
                            self.report.stopped = self.report.stopped or f"lost the server: {exc}"
                            self.stop.set()
                    self.progress(1)
                    return
                with self.lock:
                    self.report.retried += 1
                if self.stop.wait(self._backoff(attempt)):
                    ledger.release(claimed.id)
                    return
                continue
            ledger.sent(claimed.id, reply)
            with self.lock:
                self.report.sent += 1
            self.progress(1)
            return

    def _check_release(self, state: tuple[int, bool, bool]) -> None:
        """Raise `Withheld` (and say why, once) when the release, in the state just read
        (`Ledger.release_state`), is no longer what this run's messages were rendered from."""
        why = release_changed(self.plan, *state)
        if why is None:
            return
        with self.lock:
            self.report.stopped = self.report.stopped or why
        raise Withheld(why)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "full jitter" up to the cap, so retries do not come in waves."""
        ceiling = min(self.options.backoff * 2 ** (attempt - 1), self.options.max_backoff)
        return ceiling / 2 + self.random.uniform(0, ceiling / 2)
