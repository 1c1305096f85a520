"""Where reports come from: the bounce mailbox over IMAP (`bounces fetch`), or files
(`bounces read`, `bounces classify`): single messages, mbox files and Maildir folders.

`fetch` reads each new message of the folder once: its source is the mailbox, the folder's
UIDVALIDITY and the UID, recorded with what was done (see `returns.py`), so a second run, or
one running at the same time, does nothing twice. A processed report is moved to the
processed folder; one that matches no delivery, or cannot be read, stays where it is (or goes
to the unmatched folder when one is set). Nothing is ever deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import false, update
from sqlalchemy.orm import Session

from civic_contacts.after.classify import Report
from civic_contacts.after.returns import (
    Matcher,
    Outcome,
    SoftPolicy,
    classify_within,
    record_report,
)
from civic_contacts.config import ENV_BOUNCES_PASSWORD, Settings
from civic_contacts.db import utcnow
from civic_contacts.errors import ConfigError, InputError
from civic_contacts.registry.models import Bounce

LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
FETCH_CHUNK = 50  # messages moved per IMAP round trip
# What is read of one message: a report says what it has to say in its headers and first
# part; a 200 MB message is read as its first megabyte (memory stays bounded by this).
MESSAGE_LIMIT = 1024 * 1024
# A whole `bounce fetch` ends within this, however slowly the server answers (one byte every
# few seconds keeps each read alive; the run as a whole is not).
RUN_LIMIT = dt.timedelta(minutes=10)


@dataclass
class ImapSettings:
    """Where the bounce mailbox is. The password comes from the environment only."""

    host: str
    port: int
    security: str  # ssl, starttls or none (none only to this machine)
    user: str
    password: str
    folder: str = "INBOX"
    processed: str = "Processed"
    unmatched: str = ""
    unreadable: str = "Unreadable"
    cafile: Path | None = None
    timeout: float = 30.0

    def __repr__(self) -> str:  # the password never appears in logs or tracebacks
        return f"ImapSettings(host={self.host!r}, port={self.port}, user={self.user!r})"

    @property
    def label(self) -> str:
        """The mailbox as the source of a report names it."""
        return f"imap:{self.user}@{self.host}:{self.port}/{self.folder}"


def imap_settings(settings: Settings) -> ImapSettings:
    """The bounce mailbox from `[bounces]` of the config file; one line naming what is
    missing or wrong otherwise."""
    conf = settings.bounces
    where = f"[bounces] of {settings.config_file}" if settings.config_file else "[bounces]"
    host = conf.host or ""
    user = conf.user or ""
    if not host or not user:
        missing = ", ".join(k for k, v in (("host", host), ("user", user)) if not v)
        raise ConfigError(f"no bounce mailbox: set {missing} in {where}")
    security = conf.security
    if security not in ("ssl", "starttls", "none"):
        raise ConfigError(f'{where}: security "{security}" must be ssl, starttls or none')
    if security == "none" and host not in LOCAL_HOSTS:
        raise ConfigError(
            f"{where}: security none would send the mailbox password in clear to {host};"
            " use ssl or starttls (none is for a server on this machine only)"
        )
    password = os.environ.get(ENV_BOUNCES_PASSWORD)
    if not password:
        raise ConfigError(f"the bounce mailbox's password goes in {ENV_BOUNCES_PASSWORD}")
    default_port = {"ssl": 993, "starttls": 143, "none": 143}[security]
    folder = conf.folder or "INBOX"
    processed = conf.processed_folder or "Processed"
    if processed == folder:
        raise ConfigError(f"{where}: processed_folder must differ from folder ({folder})")
    return ImapSettings(
        host=host,
        port=int(conf.port or default_port),
        security=security,
        user=user,
        password=password,
        folder=folder,
        processed=processed,
        unmatched=conf.unmatched_folder or "",
        unreadable=conf.unreadable_folder or "Unreadable",
        cafile=conf.cafile,
    )


def _connect(imap: ImapSettings) -> Any:
    import imapclient

    context = ssl.create_default_context(cafile=str(imap.cafile) if imap.cafile else None)
    try:
        client = imapclient.IMAPClient(
            imap.host,
            port=imap.port,
            ssl=imap.security == "ssl",
            ssl_context=context,
            timeout=imap.timeout,
        )
        if imap.security == "starttls":
            client.starttls(context)
        if imap.password.isascii() and imap.user.isascii():
            client.login(imap.user, imap.password)
        else:
            # LOGIN sends ASCII only; SASL PLAIN carries UTF-8 (RFC 4616).
            client.plain_login(imap.user, imap.password)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(
            f"cannot reach the bounce mailbox {imap.host}:{imap.port} ({exc})",
            hint="check [bounces] host, port and security",
        ) from None
    except imapclient.exceptions.IMAPClientError as exc:
        raise InputError(
            f"the bounce mailbox {imap.host} refused the login of {imap.user} ({exc})",
            hint=f"check [bounces] user and {ENV_BOUNCES_PASSWORD}",
        ) from None
    return client


def _ensure_folder(client: Any, name: str) -> None:
    import imapclient

    if not name or client.folder_exists(name):
        return
    try:
        client.create_folder(name)
    except imapclient.exceptions.IMAPClientError:
        # Another run reading the same mailbox may have made it between the look and the
        # create (two fetches at once); only a folder still missing is a failure.
        if not client.folder_exists(name):
            raise


def _move(client: Any, uids: list[int], folder: str) -> None:
    """Move messages to a folder (MOVE, else COPY then expunge those UIDs only). Messages
    another run moved first are gone from here already: they are skipped."""
    import imapclient

    if not uids:
        return
    try:
        _move_now(client, uids, folder)
    except imapclient.exceptions.IMAPClientError:
        for uid in uids:  # one at a time: those still here are moved, the others skipped
            with contextlib.suppress(imapclient.exceptions.IMAPClientError):
                _move_now(client, [uid], folder)


def _move_now(client: Any, uids: list[int], folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move(uids, folder)
        return
    client.copy(uids, folder)
    client.delete_messages(uids)
    client.uid_expunge(uids)


def _fetch_one(client: Any, uid: int) -> bytes | None:
    """One message, at most its first MESSAGE_LIMIT bytes (None when another run moved it)."""
    import imapclient

    part = f"BODY.PEEK[]<0.{MESSAGE_LIMIT}>"
    try:
        fetched = client.fetch([uid], [part])
    except imapclient.exceptions.IMAPClientAbortError:
        raise  # the connection is gone: the run fails, saying so
    except imapclient.exceptions.IMAPClientError:
        return None
    for parts in fetched.values():
        for key, data in parts.items():
            if key.startswith(b"BODY[]") and isinstance(data, bytes):
                return data
    return None


def _connect_within(imap: ImapSettings, limit: dt.timedelta) -> Any:
    """`_connect`, within the run's time limit too: a greeting or a login dripped a byte at a
    time keeps each read alive, not the run. (The limit needs the main thread's alarm; from
    another thread, connecting is bounded by the per-read timeout only.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return _connect(imap)

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"no answer within the run's {limit.total_seconds():g} seconds")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit.total_seconds())
    try:
        return _connect(imap)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class MailboxError(InputError):
    """The bounce mailbox failed under a run: what failed, and what was recorded before."""


@contextlib.contextmanager
def _deadline(client: Any, limit: dt.timedelta) -> Any:
    """Cut the connection when the run's time is up, wherever a read is waiting; yields an
    event that says whether it was cut."""
    import socket
    import threading

    expired = threading.Event()

    def cut() -> None:
        expired.set()
        with contextlib.suppress(OSError):
            client.socket().shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(limit.total_seconds(), cut)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


@dataclass
class Sink:
    """What a run records reports with: a fresh session per report, the matcher's settings,
    the soft-bounce policy and our own addresses."""

    sessions: Callable[[], Session]
    return_path: str | None
    secrets: list[bytes]
    policy: SoftPolicy
    ours: set[str]

    def record(self, source: str, data: bytes) -> Outcome:
        """Record one report in its own transaction. It is read first, within its time budget,
        before the transaction (and SQLite's write lock) is taken."""
        read = classify_within(data, self.ours)
        classified = read if read is not None else Report(kind="other")
        with self.sessions() as session, session.begin():
            if session.get_bind().dialect.name == "sqlite":
                # Take the write lock first (waiting for another run's), so this transaction
                # never has to turn a read into a write while another run holds the lock.
                session.execute(update(Bounce).where(false()).values(kind=Bounce.kind))
            matcher = Matcher(session, self.return_path, self.secrets)
            outcome = record_report(
                session, source, data, matcher, self.policy, ours=self.ours, classified=classified
            )
            if read is None and not outcome.already:
                outcome.unreadable = 1
                outcome.problems.append(f"{source}: could not be read within its time budget")
            return outcome


# A report recorded this long before a run started, and still in the folder, was left there
# by a run that stopped before moving it: this run moves it.
LEFT_BEHIND = dt.timedelta(minutes=10)


def _left_behind(outcome: Outcome, started: dt.datetime) -> bool:
    return outcome.recorded_at is not None and outcome.recorded_at < started - LEFT_BEHIND


def fetch(
    imap: ImapSettings,
    sink: Sink,
    limit: int | None = None,
    run_limit: dt.timedelta = RUN_LIMIT,
) -> Outcome:
    """Read the folder's new messages, record each in its own transaction, and move the
    processed ones. A report that cannot be recorded is moved to the Unreadable folder with
    its reason in the outcome, and the others go on; a mailbox that fails (a missing folder,
    a refused command, a dropped connection, the run's time up) is a `MailboxError` saying
    what failed and how many reports were recorded before it."""
    import imaplib

    import imapclient
    from sqlalchemy.exc import DBAPIError

    started = utcnow()
    client = _connect_within(imap, run_limit)
    total = Outcome()
    step = "opening the folders"
    expired = None
    try:
        with _deadline(client, run_limit) as expired:
            _ensure_folder(client, imap.processed)
            _ensure_folder(client, imap.unmatched)
            step = f"opening the folder {imap.folder}"
            selected = client.select_folder(imap.folder)
            try:
                validity = int(selected.get(b"UIDVALIDITY", 0))
            except (TypeError, ValueError):
                raise MailboxError(
                    f"the bounce mailbox {imap.host}: the folder {imap.folder} has no valid"
                    " UIDVALIDITY; nothing was read"
                ) from None
            step = "searching the folder"
            uids = sorted(client.search(["ALL"]))
            if limit is not None:
                uids = uids[:limit]
            for start in range(0, len(uids), FETCH_CHUNK):
                done: list[int] = []
                unmatched: list[int] = []
                unreadable: list[int] = []
                for uid in uids[start : start + FETCH_CHUNK]:
                    step = f"reading message {uid}"
                    data = _fetch_one(client, uid)
                    if data is None:
                        continue  # gone since the search (another run moved it)
                    try:
                        outcome = sink.record(f"{imap.label};{validity};{uid}", data)
                    except DBAPIError as exc:
                        # One report the database refuses must not stop the others.
                        first = (str(exc.orig or exc).strip().splitlines() or ["refused"])[0]
                        total.unreadable += 1
                        total.problems.append(f"message {uid}: the database refused it ({first})")
                        unreadable.append(uid)
                        continue
                    total.add(outcome)
                    if outcome.already and not outcome.copy and not _left_behind(outcome, started):
                        continue  # recorded just now by another run, which moves it
                    if outcome.stays:
                        unmatched.append(uid)
                    else:
                        done.append(uid)
                step = "moving the processed messages"
                _move(client, done, imap.processed)
                if unreadable:  # made when first needed
                    _ensure_folder(client, imap.unreadable)
                    _move(client, unreadable, imap.unreadable)
                if imap.unmatched:
                    _move(client, unmatched, imap.unmatched)
    except (imapclient.exceptions.IMAPClientError, imaplib.IMAP4.abort, OSError) as exc:
        cause = " ".join(str(exc).split())[:200] or type(exc).__name__
        if expired is not None and expired.is_set():
            seconds = run_limit.total_seconds()
            cause = (
                f"the run's {seconds / 60:g} minutes were up"
                if seconds >= 60
                else f"the run's {seconds:g} seconds were up"
            )
        raise MailboxError(
            f"the bounce mailbox {imap.host} failed while {step} ({cause});"
            f" {total.reports} report(s) read before that are recorded",
            hint="run civic-contacts bounce fetch again: what was recorded is not read twice",
        ) from None
    finally:
        with contextlib.suppress(Exception):  # a failed goodbye changes nothing recorded
            client.logout()
    return total
