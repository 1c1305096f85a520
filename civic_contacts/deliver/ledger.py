"""A delivery's life: its statuses, the moves allowed between them, and the claim ledger.

    pending ──claim──▶ claimed ──the server accepts──▶ sent
     │   ▲               │   └──the server refuses (5xx)──▶ failed
     │   └──released─────┘   (4xx beyond the tries, run ended, claimant died, lease expired)
     ├──cancelled (journalist removed, suppressed, opted out, no longer routed)──▶ cancelled
    claimed ──the address was suppressed while the send ran──▶ cancelled
     └──re-rendered (content changed before it was sent): stays pending
    cancelled ──back on the list──▶ pending

Every move is one UPDATE guarded by the status the row is expected to have, so two processes
that race for a row can never both move it; `move()` says how many rows moved.

How "nothing lost, nothing sent twice" holds:

- A delivery is *claimed* before it is sent: one UPDATE that takes pending rows nobody else
  holds (PostgreSQL: rows locked first with `FOR UPDATE SKIP LOCKED`; SQLite: the statement's
  write lock), marking them with the worker's id. Two runs, on one machine or two sharing
  PostgreSQL, never claim the same row.
- As soon as the server accepts a message its delivery is marked sent, with the server's reply,
  in its own transaction. A run killed at any instant leaves at most the messages in flight
  (one per connection) accepted but unmarked; they go again on resume, with the same
  Message-ID, and nothing else does.
- Claims of a run that died on this machine are taken back at once on the next start (its
  process is gone); claims from another machine are taken back after `LEASE`.

One module: the statuses, the guarded moves, the claims and the marks are one protocol, and
the promise above is checked by reading them together.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Update, and_, bindparam, exists, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from civic_contacts.db import UTCDateTime, utcnow
from civic_contacts.registry.models import Delivery, Release, Suppression
from civic_contacts.registry.statuses import DeliveryStatus

LEASE = dt.timedelta(minutes=10)


S = DeliveryStatus
TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    S.PENDING: frozenset({S.CLAIMED, S.CANCELLED, S.PENDING}),
    S.CLAIMED: frozenset({S.SENT, S.FAILED, S.PENDING, S.CLAIMED, S.CANCELLED}),
    S.CANCELLED: frozenset({S.PENDING}),
    S.SENT: frozenset(),
    S.FAILED: frozenset(),
}
# Statuses whose message may still go out; the others are final for this batch.
OPEN = (S.PENDING, S.CLAIMED)


@dataclass(frozen=True)
class BatchKey:
    """Which batch a delivery belongs to: a release's own (`notice_id` None) or one of its
    notices. Every ledger statement is narrowed by `where()`."""

    release_id: int
    notice_id: int | None = None

    def where(self) -> ColumnElement[bool]:
        """The condition that picks this batch's deliveries."""
        if self.notice_id is None:
            return and_(Delivery.release_id == self.release_id, Delivery.notice_id.is_(None))
        return Delivery.notice_id == self.notice_id


class TransitionError(ValueError):
    """A move the life of a delivery does not allow (a bug, never a user's mistake)."""


def check_transition(old: DeliveryStatus, new: DeliveryStatus) -> None:
    """Refuse a move that TRANSITIONS does not list."""
    if new not in TRANSITIONS[old]:
        raise TransitionError(f"a delivery cannot go from {old} to {new}")


def guarded(old: DeliveryStatus, new: DeliveryStatus) -> Update:
    """`UPDATE deliveries SET status = new WHERE status = old`, to be narrowed by the caller."""
    check_transition(old, new)
    return update(Delivery).where(Delivery.status == old.value).values(status=new.value)


def move(
    session: Session | Connection,
    ids: Iterable[int],
    old: DeliveryStatus,
    new: DeliveryStatus,
    **values: Any,
) -> int:
    """Move the deliveries with these ids from `old` to `new` (setting `values` too), in chunks
    of one guarded UPDATE each; returns how many rows moved."""
    chunk: list[int] = []
    moved = 0
    for delivery_id in ids:
        chunk.append(delivery_id)
        if len(chunk) == 500:
            moved += _move_chunk(session, chunk, old, new, values)
            chunk = []
    if chunk:
        moved += _move_chunk(session, chunk, old, new, values)
    return moved


def _move_chunk(
    session: Session | Connection,
    ids: list[int],
    old: DeliveryStatus,
    new: DeliveryStatus,
    values: dict[str, Any],
) -> int:
    statement = (
        guarded(old, new)
        .where(Delivery.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def counts(session: Session, key: BatchKey) -> dict[str, int]:
    """How many deliveries of the batch are in each status, from one statement (so the numbers
    agree with each other while another run is sending)."""
    found = {status.value: 0 for status in DeliveryStatus}
    for status, number in session.execute(
        select(Delivery.status, func.count()).where(key.where()).group_by(Delivery.status)
    ):
        found[str(status)] = int(number)
    return found


# The claim ledger ------------------------------------------------------------------------------


def run_id() -> str:
    """This run's claim mark: host, process and a random part (workers add "/<n>")."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_claims(session: Session, key: BatchKey, now: dt.datetime) -> int:
    """Take back claims of runs that died on this machine (their process is gone) and claims
    whose lease has expired (a run on another machine that died)."""
    host = socket.gethostname()
    holders = session.execute(
        select(Delivery.claimed_by, func.min(Delivery.claimed_at))
        .where(key.where(), Delivery.status == S.CLAIMED.value)
        .group_by(Delivery.claimed_by)
    ).all()
    dead = []
    for holder, since in holders:
        parts = (holder or "").split(":")
        local_and_gone = (
            len(parts) == 3
            and parts[0] == host
            and parts[1].isdigit()
            and not _pid_alive(int(parts[1]))
        )
        if local_and_gone or holder is None or (since is not None and since < now - LEASE):
            dead.append(holder)
    if not dead:
        return 0
    result = session.execute(
        guarded(S.CLAIMED, S.PENDING)
        .where(key.where(), Delivery.claimed_by.in_(dead))
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claimed:
    """A delivery this run holds."""

    id: int
    journalist_id: int | None
    email: str
    message_id: str
    content_hash: str
    embargo: dt.datetime | None
    outlet: str = ""


def current_release(key: BatchKey) -> ColumnElement[bool]:
    """True for a delivery rendered from its release's current revision, of a release still
    going out (not removed; for the release's own batch, not withdrawn: a cancellation
    notice still goes). A claim takes nothing else, in the same statement, so nothing of an
    older revision is handed to a worker once the change has committed."""
    live = [Release.id == Delivery.release_id, Release.revision == Delivery.revision]
    live.append(Release.archived_at.is_(None))
    if key.notice_id is None:
        live.append(Release.cancelled_at.is_(None))
    return exists().where(*live)


def claim(
    connection: Connection,
    key: BatchKey,
    me: str,
    size: int,
    skip: set[int],
    now: dt.datetime,
    after: int = 0,
) -> list[Claimed]:
    """Atomically take up to `size` pending deliveries nobody else holds; those whose address
    was suppressed meanwhile are cancelled instead. Empty only when nothing is left.

    `after` is where the caller's last claim ended: the search starts past it, and goes back
    to the start only when nothing is left past it (a delivery given back, or claimed by a run
    that died, lies behind). So a claim does not walk the rows already sent: on PostgreSQL no
    index holds the status (see migration 0015), and the search reads a batch's rows in id
    order, the status of each from the row itself.
    """
    while True:
        found, taken = _claim_once(connection, key, me, size, skip, now, after)
        if taken:
            return taken
        if not found:
            if not after:
                return taken
            after = 0


@functools.lru_cache(maxsize=64)
def _claim_statements(
    key: BatchKey, dialect: str, after: bool, skip: frozenset[int]
) -> tuple[Any, Any, Any]:
    """A claim's three statements for one batch: the candidates, the update that takes them
    and the look for suppressed addresses among them. Made once (a claim's values are bound
    parameters), so that a claim is not a pass through SQLAlchemy's constructors each time
    (about 20 us a message sent, side by side)."""
    candidates = (
        select(Delivery.id)
        .where(key.where(), Delivery.status == S.PENDING.value, current_release(key))
        .order_by(Delivery.id)
        .limit(bindparam("c_size"))
        .with_for_update(skip_locked=True)
    )
    if after:
        candidates = candidates.where(Delivery.id > bindparam("c_after"))
    if skip:
        candidates = candidates.where(Delivery.id.not_in(skip))
    if dialect == "postgresql":
        from sqlalchemy import Integer, String, any_
        from sqlalchemy.dialects.postgresql import ARRAY

        # The ids go back as one array (see db.matching).
        target = Delivery.id == any_(bindparam("c_ids", type_=ARRAY(Integer())))
        blocked = select(Suppression.email).where(
            Suppression.email == any_(bindparam("c_emails", type_=ARRAY(String())))
        )
    else:
        # SQLite: one UPDATE statement runs under the database's write lock, so it is atomic.
        target = Delivery.id.in_(candidates.scalar_subquery())
        blocked = select(Suppression.email).where(
            Suppression.email.in_(bindparam("c_emails", expanding=True))
        )
    take = (
        guarded(S.PENDING, S.CLAIMED)
        .where(target)
        .values(claimed_by=bindparam("c_me"), claimed_at=bindparam("c_now", type_=UTCDateTime()))
        .returning(
            Delivery.id,
            Delivery.journalist_id,
            Delivery.email,
            Delivery.message_id,
            Delivery.content_hash,
            Delivery.embargo,
            Delivery.outlet_slug,
        )
    )
    return candidates, take, blocked


def _claim_once(
    connection: Connection,
    key: BatchKey,
    me: str,
    size: int,
    skip: set[int],
    now: dt.datetime,
    after: int,
) -> tuple[int, list[Claimed]]:
    dialect = connection.dialect.name
    candidates, take, blocked_among = _claim_statements(key, dialect, bool(after), frozenset(skip))
    values: dict[str, Any] = {"c_size": size, "c_me": me, "c_now": now}
    if after:
        values["c_after"] = after
    if dialect == "postgresql":
        # Lock the rows first: PostgreSQL may run an IN (... LIMIT ... SKIP LOCKED) subquery
        # more than once inside an UPDATE and so take more rows than asked for.
        ids = list(connection.scalars(candidates, values).all())
        if not ids:
            return 0, []
        values["c_ids"] = ids
    rows = connection.execute(take, values).all()
    taken = [Claimed(*row) for row in rows]
    # An address suppressed after the run started is checked here, as each message is taken:
    # a message claimed after the suppression is never sent.
    blocked: set[str] = set()
    emails = [c.email for c in taken]
    for start in range(0, len(emails), 900):  # (SQLite's limit on parameters)
        blocked.update(connection.scalars(blocked_among, {"c_emails": emails[start : start + 900]}))
    if blocked:
        connection.execute(
            guarded(S.CLAIMED, S.CANCELLED)
            .where(Delivery.id.in_([c.id for c in taken if c.email in blocked]))
            .values(claimed_by=None, claimed_at=None, last_error="suppressed during the send")
        )
    return len(rows), sorted((c for c in taken if c.email not in blocked), key=lambda c: c.id)


def _mark(new: DeliveryStatus) -> Update:
    return guarded(S.CLAIMED, new).where(
        Delivery.id == bindparam("d_id"), Delivery.claimed_by == bindparam("d_me")
    )


_SENT = _mark(S.SENT).values(
    attempts=Delivery.attempts + 1,
    server_reply=bindparam("d_reply"),
    last_error=None,
    sent_at=bindparam("d_now", type_=UTCDateTime()),
    sent_by=bindparam("d_user"),
    claimed_by=None,
    claimed_at=None,
)
_FAILED = _mark(S.FAILED).values(
    attempts=Delivery.attempts + 1,
    server_reply=bindparam("d_reply"),
    last_error=bindparam("d_error"),
    claimed_by=None,
    claimed_at=None,
)
_ATTEMPT = _mark(S.CLAIMED).values(attempts=Delivery.attempts + 1, last_error=bindparam("d_error"))
_RELEASED = _mark(S.PENDING).values(claimed_by=None, claimed_at=None)
_STATE = select(Release.revision, Release.cancelled_at, Release.archived_at).where(
    Release.id == bindparam("s_id")
)


def _state_of(row: Any) -> tuple[int, bool, bool]:
    """(revision, withdrawn, removed) from a `_STATE` row; a release gone reads as removed."""
    if row is None:
        return -1, False, True
    return int(row[0]), row[1] is not None, row[2] is not None


@dataclass
class _Mark:
    """One worker's statement waiting for the group commit."""

    sql: str
    args: Any
    done: bool = False
    error: BaseException | None = None


class GroupCommit:
    """The marks of a run's workers on SQLite (one writer at a time), committed by whichever
    worker holds the run's write lock: its own and those of the workers waiting behind it, in
    one transaction. Four connections cost about one commit between them, and no mark is
    handed to another thread.
    """

    def __init__(self, engine: Engine, lock: threading.Lock) -> None:
        self.connection = engine.connect()
        self.raw: Any = self.connection.connection.dbapi_connection
        self.lock = lock  # SQLite's writer, in this process (claims take it too)
        self.guard = threading.Lock()  # the list below
        self.waiting: list[_Mark] = []

    def write(self, sql: str, args: Any) -> None:
        """Run one statement and return once it is committed (or raise its error)."""
        mark = _Mark(sql, args)
        with self.guard:
            self.waiting.append(mark)
        with self.lock:
            if not mark.done:
                with self.guard:
                    batch, self.waiting = self.waiting, []
                try:
                    self._commit(batch)
                except BaseException as exc:
                    self.raw.rollback()
                    for item in batch:
                        item.error = exc
                for item in batch:
                    item.done = True
        if mark.error is not None:
            raise mark.error

    def _commit(self, batch: list[_Mark]) -> None:
        cursor = self.raw.cursor()
        try:
            # Runs of the same statement (mostly "sent") go to the driver as one executemany.
            for sql, run in itertools.groupby(batch, key=lambda item: item.sql):
                cursor.executemany(sql, [item.args for item in run])
            self.raw.commit()
        finally:
            cursor.close()

    def close(self) -> None:
        """Give the connection back."""
        self.connection.close()


class Ledger:
    """One worker's link to the database: claims, and marks committed before the worker's
    next message goes (see `sent`).

    Marking is the per-message cost, so its statements are compiled once and run on the
    driver's own cursor: on PostgreSQL on this worker's connection, on SQLite through the
    run's `GroupCommit`. A lock shared by the run's workers keeps them from contending for
    SQLite's write lock (whose busy handler sleeps in steps of milliseconds).
    """

    def __init__(
        self,
        engine: Engine,
        me: str,
        user: str,
        lock: threading.Lock,
        group: GroupCommit | None = None,
    ) -> None:
        self.connection = engine.connect()
        self.postgresql = engine.dialect.name == "postgresql"
        if self.postgresql:
            # The server has a mark the moment it answers the commit; waiting for its disk
            # as well (an fsync per commit) held sends to a third of the wire. A kill of the
            # sender loses nothing; a crash of the database server itself could lose the
            # marks of its last half second, as one of the machine can with SQLite's
            # synchronous=NORMAL here.
            self.connection.exec_driver_sql("SET synchronous_commit TO off")
            self.connection.commit()
        self.raw: Any = self.connection.connection.dbapi_connection
        self.cursor: Any = None  # PostgreSQL's marks: one cursor, one prepared statement
        self.me = me
        self.user = user
        self.lock = lock
        # SQLite has one writer: its marks go through the run's group commit.
        assert self.postgresql or group is not None, "SQLite marks need a GroupCommit"
        self.group = group
        self.unconfirmed: Callable[[], None] | None = None
        self.after = 0  # the last id this worker claimed (see `claim`)
        dialect = self.connection.dialect
        # Each mark's SQL and its parameters' order and fixed values, worked out once: a
        # mark is then a dict merge and a list, not a pass through SQLAlchemy's compiler.
        self.compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        for name, statement in (
            (S.SENT, _SENT),
            (S.FAILED, _FAILED),
            ("attempt", _ATTEMPT),
            ("released", _RELEASED),
        ):
            compiled = statement.compile(dialect=dialect)
            fixed = dict(compiled.construct_params({"d_me": me}, _check=False))
            order = tuple(compiled.positiontup) if compiled.positiontup else None
            self.compiled[name] = (compiled.string, order, fixed)
        state = _STATE.compile(dialect=dialect)
        self.state_sql = (state.string, tuple(state.positiontup or ()))

    def release_state(self, release_id: int) -> tuple[int, bool, bool]:
        """The release's revision now, whether it is withdrawn and whether it is removed, read
        on this worker's own connection (one indexed row; asked before each message's body).

        Like a mark, on the driver's own cursor: a statement of its own (its own transaction
        on PostgreSQL, one round trip; on SQLite a read outside any transaction, taking no
        write lock, none of the run's)."""
        sql, order = self.state_sql
        args: Any = [release_id for _key in order] if order else {"s_id": release_id}
        if self.postgresql:
            return self._read_state(sql, args)
        cursor = self.raw.cursor()
        try:
            return _state_of(cursor.execute(sql, args).fetchone())
        finally:
            cursor.close()

    def confirm_then_state(self, release_id: int) -> tuple[int, bool, bool]:
        """`confirm()`, then `release_state()`: on PostgreSQL a waiting mark and the read go as
        one statement (the mark in a WITH clause: one round trip and one commit, the mark
        committed before the state is returned, as `confirm` does)."""
        waiting = self.unconfirmed
        if (
            not self.postgresql
            or not isinstance(waiting, functools.partial)
            or waiting.func != self._execute
            or not isinstance(waiting.args[1], dict)
        ):
            self.confirm()
            return self.release_state(release_id)
        self.unconfirmed = None
        mark_sql, mark_args = waiting.args
        state_sql, _order = self.state_sql
        return self._read_state(
            f"WITH mark AS ({mark_sql}) {state_sql}", {**mark_args, "s_id": release_id}
        )

    def _read_state(self, sql: str, args: Any) -> tuple[int, bool, bool]:
        """The release's state by one prepared statement on this worker's PostgreSQL
        connection, its own transaction (one round trip)."""
        if self.cursor is None:
            self.cursor = self.raw.cursor()
        self.raw.autocommit = True
        try:
            self.cursor.execute(sql, args, prepare=True)
            return _state_of(self.cursor.fetchone())
        finally:
            self.raw.autocommit = False

    def claim(self, key: BatchKey, size: int, skip: set[int]) -> list[Claimed]:
        """Take pending deliveries for this worker, going on from where its last claim ended."""
        with self.lock:
            try:
                rows = claim(self.connection, key, self.me, size, skip, utcnow(), self.after)
                self.connection.commit()
            except BaseException:
                self.connection.rollback()
                raise
        if rows:
            self.after = rows[-1].id
        return rows

    def _write(self, name: str, values: dict[str, object]) -> Callable[[], None]:
        """The mark as a function that commits it (called at once, or by `confirm`)."""
        sql, order, fixed = self.compiled[name]
        params = {**fixed, **values}
        args: Any = [params[key] for key in order] if order is not None else params
        if self.group is not None:
            return functools.partial(self.group.write, sql, args)
        return functools.partial(self._execute, sql, args)

    def _execute(self, sql: str, args: Any) -> None:
        """One mark on this worker's own PostgreSQL connection: PostgreSQL commits each
        worker's marks side by side (and groups their log writes itself)."""
        raw = self.raw
        if self.cursor is None:
            self.cursor = raw.cursor()
        raw.autocommit = True  # the statement is its own transaction: one round trip
        try:
            self.cursor.execute(sql, args, prepare=True)
        finally:
            raw.autocommit = False

    def sent(self, delivery_id: int, reply: str) -> None:
        """The server accepted the message: it is sent, for good.

        The mark is only noted here; `confirm()` commits it, and must be called before the
        next message's body goes (and before the worker stops): the sender calls it while the
        server reads the next envelope. So at most the message in flight, and none before it,
        can be unmarked when a run is killed: at most one duplicate per connection.
        """
        self.confirm()
        now = utcnow().replace(tzinfo=None)  # stored as naive UTC, as UTCDateTime does
        self.unconfirmed = self._write(
            S.SENT, {"d_id": delivery_id, "d_reply": reply, "d_now": now, "d_user": self.user}
        )

    def confirm(self) -> None:
        """Commit the last `sent` mark, if not yet done (raise its error if it fails)."""
        waiting, self.unconfirmed = self.unconfirmed, None
        if waiting is not None:
            waiting()

    def failed(self, delivery_id: int, reply: str, error: str | None = None) -> None:
        """The server refused the message for good (5xx): its reply, and the error to keep
        (the reply unless said otherwise)."""
        self.confirm()
        self._write(S.FAILED, {"d_id": delivery_id, "d_reply": reply, "d_error": error or reply})()

    def attempt(self, delivery_id: int, error: str) -> None:
        """A try that may be repeated (4xx, dropped connection); the claim is kept."""
        self.confirm()
        self._write("attempt", {"d_id": delivery_id, "d_error": error})()

    def release(self, delivery_id: int) -> None:
        """Give one claimed delivery back: it is pending again, for this run or a later one."""
        self.confirm()
        self._write("released", {"d_id": delivery_id})()

    def close(self) -> None:
        """Give the connection back."""
        if self.cursor is not None:
            self.cursor.close()
        if self.postgresql:
            self.connection.exec_driver_sql("RESET synchronous_commit")
            self.connection.commit()
        self.connection.close()


def release_claims(engine: Engine, key: BatchKey, me: str) -> None:
    """Give back what this worker still holds (claimed deliveries it did not finish)."""
    with engine.begin() as connection:
        connection.execute(
            guarded(S.CLAIMED, S.PENDING)
            .where(key.where(), Delivery.claimed_by == me)
            .values(claimed_by=None, claimed_at=None)
        )
