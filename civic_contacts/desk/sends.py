"""Sends started at the desk: each runs on a thread of the server, with a Pause.

The send itself is the core's (`send.send_batch`): the shared claim ledger makes a closed
browser, a paused send or a killed server lose nothing and send nothing twice; Send again goes
on from where it stopped. Here is only what a page needs: start, pause, and how the last run
ended.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from civic_contacts.config import Settings
from civic_contacts.db import session_factory, utcnow
from civic_contacts.deliver import approval, send
from civic_contacts.deliver.sender import SendOptions
from civic_contacts.deliver.transport import Transport
from civic_contacts.errors import CivicContactsError, InputError
from civic_contacts.registry.history import acting

LOG = logging.getLogger("civic_contacts.desk")


@dataclass
class Run:
    """One send of one release from the desk."""

    thread: threading.Thread
    pause: threading.Event = field(default_factory=threading.Event)
    outcome: str | None = None  # set when it ended: "finished", "paused" or why it stopped


class Sends:
    """The desk's sends, one at a time per release."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        transport: Callable[[], Transport],
        skip_doctor: bool = False,
        dns_server: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.transport = transport
        self.skip_doctor = skip_doctor
        self.dns_server = dns_server
        self.lock = threading.Lock()
        self.runs: dict[str, Run] = {}

    def running(self, slug: str, kind: str | None = None) -> bool:
        """Whether a send of this release (or of its notice of this kind) runs now."""
        with self.lock:
            run = self.runs.get(_key(slug, kind))
            return run is not None and run.thread.is_alive()

    def outcome(self, slug: str, kind: str | None = None) -> str | None:
        """How the last such send from the desk ended (None: never, or running)."""
        with self.lock:
            run = self.runs.get(_key(slug, kind))
            return run.outcome if run is not None else None

    def start(self, slug: str, by: str, kind: str | None = None) -> None:
        """Start sending the release's batch (or its notice of this kind) as `by`, after
        checking here what can be checked at once (the build exists and its approval holds),
        so the page can say why not."""
        factory = session_factory(self.engine)
        with factory() as session:
            release, built = approval.find_build(session, slug, kind)
            approval.check_may_send(session, self.settings, release, built, utcnow())
            slug = release.slug
        key = _key(slug, kind)
        with self.lock:
            current = self.runs.get(key)
            if current is not None and current.thread.is_alive():
                raise InputError(f"{slug} is being sent already")
            thread = threading.Thread(target=self._send, args=(slug, by, kind), daemon=True)
            self.runs[key] = Run(thread)
            thread.start()

    def pause(self, slug: str, kind: str | None = None) -> bool:
        """Ask a running send to stop after the messages in hand; whether one was running."""
        with self.lock:
            run = self.runs.get(_key(slug, kind))
            if run is None or not run.thread.is_alive():
                return False
            run.pause.set()
            return True

    def _send(self, slug: str, by: str, kind: str | None) -> None:
        with self.lock:
            run = self.runs[_key(slug, kind)]
        options = SendOptions(
            pause=run.pause, skip_doctor=self.skip_doctor, dns_server=self.dns_server
        )
        outcome = "finished"
        try:
            with session_factory(self.engine)() as session, acting(by, "desk: send"):
                if kind is None:
                    report = send.send_batch(
                        session, slug, self.transport(), options, self.settings
                    )
                else:
                    report = send.send_notice(
                        session, slug, kind, self.transport(), options, self.settings
                    )
                session.commit()
            if report.stopped:
                outcome = report.stopped
            elif report.failed:
                outcome = f"{report.failed} failed"
        except CivicContactsError as exc:
            outcome = str(exc)
        except Exception:  # a bug: kept in the server's log with its traceback
            LOG.exception("the send of %s failed", slug)
            outcome = "the send stopped on an error; the server's log has it"
        with self.lock:
            run.outcome = outcome


def _key(slug: str, kind: str | None) -> str:
    return slug if kind is None else f"{slug} {kind}"
