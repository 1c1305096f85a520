"""The release changes while its messages are going out: a claim takes nothing of an older
revision, a running send stops before the next body on each connection and says why, and
anyone sent the old text after the notice was built is told the notice is due again for
them. (Through the in-memory transport: the change lands between two messages of one
connection, exactly where a real officer's `release update` would.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from civic_contacts.config import load_settings
from civic_contacts.db import make_engine, session_factory, utcnow
from civic_contacts.deliver.ledger import BatchKey, claim
from civic_contacts.deliver.notice_status import due_notices
from civic_contacts.deliver.send import send_batch
from civic_contacts.deliver.sender import SendOptions
from civic_contacts.deliver.transport import MemoryConnection, MemoryTransport
from civic_contacts.registry.models import Delivery, Release
from tests.deliver.test_notices import embargo_of, release_file


class ChangingTransport(MemoryTransport):
    """Keeps messages in memory, and runs `change` once, right after the `after`-th message
    was taken (its "sent" mark not yet committed, as in a real run)."""

    def __init__(self, after: int, change: Callable[[], None]) -> None:
        super().__init__()
        self.after = after
        self.change = change

    def connect(self) -> MemoryConnection:
        outer = self

        class Changing(MemoryConnection):
            def send(self, *args, **kwargs) -> str:
                reply = super().send(*args, **kwargs)
                if len(outer.kept) == outer.after:
                    outer.change()
                return reply

        return Changing(self)


def test_a_send_stops_when_the_embargo_moves_and_the_notice_comes_due_again(
    demo, db_url: str, tmp_path: Path
) -> None:
    """The embargo is moved and the moved notice built after 10 messages: the 11th and later
    never go, the run says the release changed, and the notice is due again for the one
    journalist whose message went while the notice was being built."""

    def move_the_embargo() -> None:
        lift = embargo_of(demo) + dt.timedelta(days=2)
        stamp = lift.strftime("%Y-%m-%dT%H:%M:%SZ")
        files = [release_file(tmp_path, demo, lang, stamp) for lang in ("en", "fr")]
        demo("release", "update", *map(str, files))
        demo("notice", "build", "sahel-civilians", "--kind", "moved", "--out", str(tmp_path / "n"))

    transport = ChangingTransport(10, move_the_embargo)
    settings = load_settings(db=db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        report = send_batch(session, "sahel-civilians", transport, SendOptions(), settings)
    assert len(transport.kept) == 10 == report.sent
    assert report.stopped is not None
    assert "release sahel-civilians changed (revision 1 is now 2)" in report.stopped
    assert not report.complete
    with session_factory(engine)() as session:
        release = session.scalar(select(Release).where(Release.slug == "sahel-civilians"))
        assert release is not None
        due = {d.kind: d for d in due_notices(session, release, utcnow())}
        stale = session.scalars(
            select(Delivery.email).where(BatchKey(release.id).where(), Delivery.status == "pending")
        ).all()
    engine.dispose()
    assert len(stale) == 31
    assert due["moved"].journalists == 10
    assert "1 of them were sent the release after the moved notice was built" in (
        due["moved"].reason
    )


def test_a_claim_takes_nothing_of_an_older_revision(demo, db_url: str, tmp_path: Path) -> None:
    """Once the release has a newer revision, the pending messages rendered from the older
    one are not claimed (the same statement checks), though they are still pending."""
    lift = embargo_of(demo) + dt.timedelta(days=1)
    stamp = lift.strftime("%Y-%m-%dT%H:%M:%SZ")
    files = [release_file(tmp_path, demo, lang, stamp) for lang in ("en", "fr")]
    engine = make_engine(db_url)
    with engine.connect() as connection:
        release_id = connection.scalar(select(Release.id).where(Release.slug == "sahel-civilians"))
        assert release_id is not None
        key = BatchKey(release_id)
        taken = claim(connection, key, "probe", 2, set(), utcnow())
        connection.rollback()
        assert len(taken) == 2
        demo("release", "update", *map(str, files))
        assert claim(connection, key, "probe", 2, set(), utcnow()) == []
        pending = connection.scalar(
            select(Delivery.id).where(key.where(), Delivery.status == "pending").limit(1)
        )
        connection.rollback()
    engine.dispose()
    assert pending is not None


def test_a_send_whose_next_claim_finds_only_the_old_revision_says_why(
    demo, db_url: str, tmp_path: Path
) -> None:
    """At a rate, a worker claims 20 at a time: the embargo moved right after the 20th, the
    next claim finds nothing of the current revision, and the run still says why it ended
    with messages left (it said nothing before)."""

    def move_the_embargo() -> None:
        lift = embargo_of(demo) + dt.timedelta(days=2)
        stamp = lift.strftime("%Y-%m-%dT%H:%M:%SZ")
        files = [release_file(tmp_path, demo, lang, stamp) for lang in ("en", "fr")]
        demo("release", "update", *map(str, files))

    transport = ChangingTransport(20, move_the_embargo)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        report = send_batch(
            session, "sahel-civilians", transport, SendOptions(rate=20), load_settings(db=db_url)
        )
    engine.dispose()
    assert report.sent == 20 == len(transport.kept) and report.final["pending"] == 21
    assert report.stopped is not None and "changed (revision 1 is now 2)" in report.stopped


def test_a_built_notice_waiting_to_go_is_due_as_a_send(demo, db_url: str, tmp_path: Path) -> None:
    """Right after `notice build`, what is due is to send it: the notice status names
    `notice send` (it named `notice build` again, for the notice just built)."""
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        send_batch(
            session,
            "sahel-civilians",
            MemoryTransport(),
            SendOptions(limit=5),
            load_settings(db=db_url),
        )
    lift = embargo_of(demo) + dt.timedelta(days=1)
    stamp = lift.strftime("%Y-%m-%dT%H:%M:%SZ")
    files = [release_file(tmp_path, demo, lang, stamp) for lang in ("en", "fr")]
    demo("release", "update", *map(str, files))
    demo("notice", "build", "sahel-civilians", "--kind", "moved", "--out", str(tmp_path / "n"))
    shown = " ".join(demo("notice", "status", "sahel-civilians").stderr.split())
    shown += " ".join(demo("notice", "status", "sahel-civilians").stdout.split())
    engine.dispose()
    assert "the notice is built, 5 message(s) waiting to be sent" in shown
    assert "run: civic-contacts notice send sahel-civilians --kind moved --yes" in shown
