"""Delivering a batch over SMTP: exactly once, rate-limited, resumable.

How "nothing lost, nothing sent twice" holds:

- A delivery is *claimed* before it is sent: one UPDATE that takes pending rows nobody else
  holds (PostgreSQL: a `FOR UPDATE SKIP LOCKED` subquery; SQLite: the statement's write lock),
  marking them with this run's id. Two runs, on one machine or two sharing PostgreSQL, never
  claim the same row.
- As soon as the server accepts a message its delivery is marked sent, with the server's
  reply, in its own transaction. A run killed at any instant leaves at most the messages in
  flight (one per connection) accepted but unmarked; they go again on resume, with the same
  Message-ID, and nothing else does.
- Claims of a run that died on this machine are taken back at once on the next start (its
  process is gone); claims from another machine are taken back after `LEASE`.

Replies are classified by code: 4xx and connection errors are retried with exponential
backoff up to `max_attempts` in the run, then left pending with the last error; 5xx mark the
delivery failed with the server's reply. A refusal of one recipient never stops the others.
An embargoed message is never sent at or after its lift: the run stops and says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import os
import queue
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from civic_contacts.db import UTCDateTime, session_factory, utcnow
from civic_contacts.errors import SendError
from civic_contacts.models import Delivery

LEASE = dt.timedelta(minutes=10)
# Sending is stopped this long before a lift, so a message started just before it cannot
# arrive after it.
EMBARGO_MARGIN = dt.timedelta(seconds=5)
CLAIM_SIZE = 25


@dataclass
class SmtpSettings:
    """Where and how to connect. The password comes from the environment only."""

    host: str
    port: int
    security: str = "starttls"  # starttls, ssl or none
    user: str | None = None
    password: str | None = None
    cafile: Path | None = None
    timeout: float = 30.0
    envelope_from: str = ""
    dkim_key: bytes | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None

    def __repr__(self) -> str:  # the password never appears in logs or tracebacks
        return f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r})"


@dataclass
class SendOptions:
    """How fast and how stubborn a run is."""

    rate: float | None = None  # messages per second over all connections; None: unlimited
    connections: int = 1
    limit: int | None = None
    max_attempts: int = 3
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_backoff: float = 60.0


@dataclass
class SendReport:
    """What a run did."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    left_pending: int = 0
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)


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
        self.window = 1.0 + margin
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


class Transient(Exception):
    """A failure worth retrying (4xx, dropped connection)."""


class Permanent(Exception):
    """A refusal that will not change (5xx)."""


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}"[:500]


def tls_context(cafile: Path | None) -> ssl.SSLContext:
    """A context that verifies the server's certificate (smtplib's own default does not)."""
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)


class SmtpConnection:
    """One SMTP connection, opened on demand and reopened after a drop."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        """Connect, secure and authenticate; `SendError` when it cannot."""
        s = self.settings
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=tls_context(s.cafile)
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.ehlo()
                    smtp.starttls(context=tls_context(s.cafile))
            smtp.ehlo()
            if s.user:
                _login(smtp, s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(
                f"{s.host}:{s.port} refused the login for {s.user}: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except ssl.SSLError as exc:
            raise SendError(
                f"{s.host}:{s.port}: TLS failed ({exc.reason or exc}); pass --cafile for a private CA"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise SendError(
                f"{s.host}:{s.port} does not offer STARTTLS; use --security ssl or none"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Transient(f"cannot connect to {s.host}:{s.port}: {exc}") from None
        self.smtp = smtp
        return smtp

    def close(self) -> None:
        """Say goodbye if the server still listens."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def drop(self) -> None:
        """Forget a connection that failed."""
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
            self.smtp = None

    def send(
        self,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], None] = lambda: None,
    ) -> str:
        """Send one message to one recipient; the server's reply on success.

        Raises `Transient` for 4xx and dropped connections, `Permanent` for 5xx.
        """
        smtp = self.smtp or self.open()
        try:
            if smtp.has_extn("pipelining"):
                return self._send_pipelined(smtp, sender, recipient, data, before_data)
            code, message = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, message, sender)
            code, message = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient: (code, message)})
            before_data()
            code, message = smtp.data(data)
            if code != 250:
                raise smtplib.SMTPDataError(code, message)
            return _reply(code, message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, message = exc.recipients[recipient]
            self._reset_or_drop(code)
            raise (Transient if 400 <= code < 500 else Permanent)(_reply(code, message)) from None
        except smtplib.SMTPResponseException as exc:
            self._reset_or_drop(exc.smtp_code)
            raise (Transient if exc.smtp_code < 500 else Permanent)(
                _reply(exc.smtp_code, exc.smtp_error)
            ) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.drop()
            raise Transient(f"connection lost: {exc}") from None

    def _send_pipelined(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], None],
    ) -> str:
        """MAIL, RCPT and DATA in one write (RFC 2920), then the message: two round trips."""
        if any(char in sender + recipient for char in "\r\n<> \x00"):
            raise Permanent(
                f"refusing to send: an address holds characters no address may hold: {recipient!r}"
            )
        smtp.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode("ascii"))
        mail = smtp.getreply()
        rcpt = smtp.getreply()
        data_reply = smtp.getreply()
        if data_reply[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            # The server took DATA although MAIL or RCPT failed: end it empty, keep the refusal.
            smtp.send(b".\r\n")
            smtp.getreply()
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        if data_reply[0] != 354:
            raise smtplib.SMTPDataError(*data_reply)
        before_data()
        body = smtplib._quote_periods(data)  # type: ignore[attr-defined]
        if body[-2:] != b"\r\n":
            body += b"\r\n"
        smtp.send(body + b".\r\n")
        code, message = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, message)
        return _reply(code, message)

    def _reset_or_drop(self, code: int) -> None:
        if code == 421 or self.smtp is None:
            self.drop()
            return
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.drop()


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH with one mechanism: a 535 means wrong credentials, and trying the next mechanism
    only makes some servers wait for an answer that never comes."""
    smtp.user, smtp.password = user, password
    advertised = smtp.esmtp_features.get("auth", "").upper().split()
    for mechanism in ("PLAIN", "LOGIN"):
        if mechanism in advertised:
            smtp.auth(mechanism, getattr(smtp, f"auth_{mechanism.lower()}"))
            return
    smtp.login(user, password)


def dkim_sign(data: bytes, settings: SmtpSettings) -> bytes:
    """The message with a DKIM-Signature covering List-Unsubscribe and List-Unsubscribe-Post."""
    if not settings.dkim_key:
        return data
    import dkim

    headers = [
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"reply-to",
        b"mime-version",
        b"content-type",
        b"content-language",
        b"list-unsubscribe",
        b"list-unsubscribe-post",
    ]
    present = {
        line.split(b":", 1)[0].strip().lower()
        for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        if line and not line[:1].isspace()
    }
    signature = dkim.sign(
        data,
        (settings.dkim_selector or "").encode(),
        (settings.dkim_domain or "").encode(),
        settings.dkim_key,
        include_headers=[h for h in headers if h in present],
    )
    return signature + data


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


def release_dead_claims(session: Session, release_id: int) -> int:
    """Take back claims of runs that died on this machine (their process is gone)."""
    host = socket.gethostname()
    holders = session.scalars(
        select(Delivery.claimed_by)
        .where(
            Delivery.release_id == release_id,
            Delivery.status == "pending",
            Delivery.claimed_by.is_not(None),
        )
        .distinct()
    ).all()
    dead = []
    for holder in holders:
        parts = (holder or "").split(":")
        if (
            len(parts) == 3
            and parts[0] == host
            and parts[1].isdigit()
            and not _pid_alive(int(parts[1]))
        ):
            dead.append(holder)
    if not dead:
        return 0
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.release_id == release_id,
            Delivery.claimed_by.in_(dead),
            Delivery.status == "pending",
        )
        .values(claimed_by=None, claimed_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claimed:
    """A delivery this run holds."""

    id: int
    email: str
    message_id: str
    content_hash: str
    embargo: dt.datetime | None


def claim(
    session: Session | Connection, release_id: int, me: str, size: int, skip: set[int]
) -> list[Claimed]:
    """Atomically take up to `size` pending deliveries nobody else holds."""
    now = utcnow()
    free = or_(Delivery.claimed_by.is_(None), Delivery.claimed_at < now - LEASE)
    candidates = (
        select(Delivery.id)
        .where(Delivery.release_id == release_id, Delivery.status == "pending", free)
        .order_by(Delivery.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    if skip:
        candidates = candidates.where(Delivery.id.not_in(skip))
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    if dialect.name == "postgresql":
        # Lock the rows first: PostgreSQL may run an IN (... LIMIT ... SKIP LOCKED) subquery
        # more than once inside an UPDATE and so take more rows than asked for.
        ids = list(session.scalars(candidates).all())
        if not ids:
            return []
        target = Delivery.id.in_(ids)
    else:
        # SQLite: one UPDATE statement runs under the database's write lock, so it is atomic.
        target = Delivery.id.in_(candidates.scalar_subquery())
    session.execute(
        update(Delivery)
        .where(target, Delivery.status == "pending", free)
        .values(claimed_by=me, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.email,
            Delivery.message_id,
            Delivery.content_hash,
            Delivery.embargo,
        )
        .where(
            Delivery.release_id == release_id,
            Delivery.claimed_by == me,
            Delivery.status == "pending",
        )
        .order_by(Delivery.id)
    ).all()
    return [Claimed(*row) for row in rows if row[0] not in skip]


_SENT = (
    update(Delivery)
    .where(Delivery.id == bindparam("d_id"), Delivery.claimed_by == bindparam("d_me"))
    .values(
        status="sent",
        attempts=Delivery.attempts + 1,
        server_reply=bindparam("d_reply"),
        last_error=None,
        sent_at=bindparam("d_now", type_=UTCDateTime()),
        sent_by=bindparam("d_user"),
        claimed_by=None,
        claimed_at=None,
    )
)
_FAILED = (
    update(Delivery)
    .where(Delivery.id == bindparam("d_id"), Delivery.claimed_by == bindparam("d_me"))
    .values(
        status="failed",
        attempts=Delivery.attempts + 1,
        server_reply=bindparam("d_reply"),
        last_error=bindparam("d_error"),
        claimed_by=None,
        claimed_at=None,
    )
)
_ATTEMPT = (
    update(Delivery)
    .where(Delivery.id == bindparam("d_id"), Delivery.claimed_by == bindparam("d_me"))
    .values(attempts=Delivery.attempts + 1, last_error=bindparam("d_error"))
)


class Marker:
    """Commits the marks of all workers together ("group commit").

    A worker hands over its mark and waits until it is committed before it takes its next
    message, so the promise holds (at most the message in flight per connection is unmarked
    at any instant); the commit, the expensive part, is shared by whoever is waiting.
    """

    def __init__(self, engine: Engine, lock: threading.Lock) -> None:
        self.connection = engine.connect()
        self.lock = lock
        self.queue: queue.Queue[tuple[str, Any, threading.Event, list[BaseException]] | None] = (
            queue.Queue()
        )
        self.thread = threading.Thread(target=self._run, name="marker", daemon=True)
        self.thread.start()

    def write(self, sql: str, args: Any) -> None:
        """Run one statement and return once it is committed (or raise its error)."""
        done = threading.Event()
        errors: list[BaseException] = []
        self.queue.put((sql, args, done, errors))
        done.wait()
        if errors:
            raise errors[0]

    def _run(self) -> None:
        raw = self.connection.connection.dbapi_connection
        assert raw is not None
        while True:
            item = self.queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < 64:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.queue.put(None)
                    break
                batch.append(more)
            with self.lock:
                cursor = raw.cursor()
                try:
                    for sql, args, _done, _errors in batch:
                        cursor.execute(sql, args)
                    raw.commit()
                except BaseException as exc:
                    raw.rollback()
                    for _sql, _args, _done, errors in batch:
                        errors.append(exc)
                finally:
                    cursor.close()
            for _sql, _args, done, _errors in batch:
                done.set()

    def close(self) -> None:
        """Finish what is queued and give the connection back."""
        self.queue.put(None)
        self.thread.join()
        self.connection.close()


class Ledger:
    """One worker's link to the database: claims and marks, each committed at once.

    Marking is the per-message cost, so its statements are compiled once and run on the
    driver's own cursor. A lock shared by the run's workers keeps them from contending for
    SQLite's write lock (whose busy handler sleeps in steps of milliseconds).
    """

    def __init__(
        self, engine: Engine, me: str, user: str, lock: threading.Lock, marker: Marker
    ) -> None:
        self.connection = engine.connect()
        self.me = me
        self.user = user
        self.lock = lock
        self.marker = marker
        dialect = self.connection.dialect
        self.compiled = {
            "sent": _SENT.compile(dialect=dialect),
            "failed": _FAILED.compile(dialect=dialect),
            "attempt": _ATTEMPT.compile(dialect=dialect),
        }

    def claim(self, release_id: int, size: int, skip: set[int]) -> list[Claimed]:
        """Take pending deliveries for this worker."""
        with self.lock:
            try:
                rows = claim(self.connection, release_id, self.me, size, skip)
                self.connection.commit()
            except BaseException:
                self.connection.rollback()
                raise
        return rows

    def _write(self, name: str, values: dict[str, object]) -> None:
        compiled = self.compiled[name]
        params = compiled.construct_params({"d_me": self.me, **values})
        args: Any = (
            [params[key] for key in compiled.positiontup] if compiled.positiontup else params
        )
        self.marker.write(compiled.string, args)

    def sent(self, delivery_id: int, reply: str) -> None:
        """The server accepted the message: it is sent, for good."""
        now = utcnow().replace(tzinfo=None)  # stored as naive UTC, as UTCDateTime does
        self._write(
            "sent", {"d_id": delivery_id, "d_reply": reply, "d_now": now, "d_user": self.user}
        )

    def failed(self, delivery_id: int, reply: str) -> None:
        """The server refused the message for good (5xx)."""
        self._write("failed", {"d_id": delivery_id, "d_reply": reply, "d_error": reply})

    def attempt(self, delivery_id: int, error: str) -> None:
        """A try that may be repeated (4xx, dropped connection)."""
        self._write("attempt", {"d_id": delivery_id, "d_error": error})

    def close(self) -> None:
        """Give the connection back."""
        self.connection.close()


def release_claims(engine: Engine, release_id: int, me: str) -> None:
    """Give back what this run still holds (pending deliveries it did not finish)."""
    with session_factory(engine)() as session, session.begin():
        session.execute(
            update(Delivery)
            .where(
                Delivery.release_id == release_id,
                Delivery.claimed_by == me,
                Delivery.status == "pending",
            )
            .values(claimed_by=None, claimed_at=None)
        )


MessageSource = Callable[[str], bytes]


class Sender:
    """Sends the pending deliveries of one release with N connections and one rate limit."""

    def __init__(
        self,
        engine: Engine,
        release_id: int,
        smtp: SmtpSettings,
        options: SendOptions,
        message_for: MessageSource,
        progress: Callable[[int], None] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.release_id = release_id
        self.smtp = smtp
        self.options = options
        self.message_for = message_for
        self.progress = progress or (lambda n: None)
        self.clock = clock
        self.me = run_id()
        self.user = getpass.getuser()
        self.limiter = RateLimiter(options.rate)
        self.report = SendReport()
        self.lock = threading.Lock()
        self.db_lock = threading.Lock()
        self.stop = threading.Event()
        self.budget = options.limit
        self.exhausted: set[int] = set()
        self.fatal: BaseException | None = None

    def _take_budget(self) -> bool:
        with self.lock:
            if self.budget is None:
                return True
            if self.budget <= 0:
                return False
            self.budget -= 1
            return True

    def _claim(self, ledger: Ledger) -> list[Claimed]:
        with self.lock:
            skip = set(self.exhausted)
        size = CLAIM_SIZE if self.budget is None else max(1, min(CLAIM_SIZE, self.budget))
        return ledger.claim(self.release_id, size, skip)

    def run(self) -> SendReport:
        """Send until nothing is left, the limit is reached, or the embargo stops the run."""
        with session_factory(self.engine)() as session, session.begin():
            release_dead_claims(session, self.release_id)
        self.marker = Marker(self.engine, self.db_lock)
        self.workers = [f"{self.me}/{i}" for i in range(max(1, self.options.connections))]
        workers = [
            threading.Thread(target=self._work, args=(name,), name=name, daemon=True)
            for name in self.workers
        ]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                while worker.is_alive():
                    worker.join(0.2)
        except KeyboardInterrupt:
            self.stop.set()
            for worker in workers:
                worker.join()
            self.report.stopped = self.report.stopped or "interrupted"
        finally:
            self.marker.close()
            for name in self.workers:
                release_claims(self.engine, self.release_id, name)
        if self.fatal is not None:
            raise self.fatal
        return self.report

    def _work(self, worker: str) -> None:
        connection = SmtpConnection(self.smtp)
        ledger = Ledger(self.engine, worker, self.user, self.db_lock, self.marker)
        try:
            while not self.stop.is_set():
                batch = self._claim(ledger)
                if not batch:
                    return
                for claimed in batch:
                    if self.stop.is_set():
                        return
                    if not self._take_budget():
                        self.stop.set()
                        return
                    self._deliver(connection, claimed, ledger)
        except BaseException as exc:  # a bug or a SendError: stop every worker and report it
            self.fatal = exc
            self.stop.set()
        finally:
            connection.close()
            ledger.close()

    def _deliver(self, connection: SmtpConnection, claimed: Claimed, ledger: Ledger) -> None:
        data = self.message_for(claimed.email)
        if hashlib.sha256(data).hexdigest() != claimed.content_hash:
            raise SendError(
                f"the message for {claimed.email} is not the one built (the registry or release changed"
                " since the batch was built); nothing more was sent",
                hint="run batch build (or batch send) again so the new content is recorded first",
            )
        signed = dkim_sign(data, self.smtp)
        attempt = 0
        while True:
            if claimed.embargo is not None and self.clock() + EMBARGO_MARGIN >= claimed.embargo:
                with self.lock:
                    self.report.stopped = (
                        f"the embargo lifts at {claimed.embargo:%Y-%m-%d %H:%M:%S} UTC; embargoed messages"
                        " are never sent at or after it"
                    )
                self.stop.set()
                return
            attempt += 1
            held = False

            def start_body() -> None:
                nonlocal held
                self.limiter.acquire()
                held = True

            try:
                # The limiter's slot is taken just before the body goes and given back when
                # the server has answered: see RateLimiter.
                try:
                    reply = connection.send(
                        self.smtp.envelope_from, claimed.email, signed, start_body
                    )
                finally:
                    if held:
                        self.limiter.release()
            except Permanent as exc:
                ledger.failed(claimed.id, str(exc))
                with self.lock:
                    self.report.failed += 1
                    self.report.errors.append(f"{claimed.email}: {exc}")
                self.progress(1)
                return
            except Transient as exc:
                ledger.attempt(claimed.id, str(exc))
                if attempt >= self.options.max_attempts or self.stop.is_set():
                    with self.lock:
                        self.report.left_pending += 1
                        self.exhausted.add(claimed.id)
                        self.report.errors.append(f"{claimed.email}: {exc} (left pending)")
                    self.progress(1)
                    return
                with self.lock:
                    self.report.retried += 1
                delay = min(self.options.backoff * 2 ** (attempt - 1), self.options.max_backoff)
                if self.stop.wait(delay):
                    return
                continue
            ledger.sent(claimed.id, reply)
            with self.lock:
                self.report.sent += 1
            self.progress(1)
            return
