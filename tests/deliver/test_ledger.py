"""A delivery's life: statuses, allowed moves, guarded updates and the claim ledger."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from civic_contacts import synthetic
from civic_contacts.db import session_factory, utcnow
from civic_contacts.deliver.ledger import (
    LEASE,
    TRANSITIONS,
    BatchKey,
    DeliveryStatus,
    GroupCommit,
    TransitionError,
    check_transition,
    claim,
    counts,
    move,
    release_dead_claims,
)
from civic_contacts.registry import models
from civic_contacts.registry.models import Delivery, Release

S = DeliveryStatus


def test_the_enum_is_the_schema() -> None:
    """The CHECK constraint allows exactly the statuses of the enum, each with its moves."""
    assert tuple(s.value for s in DeliveryStatus) == models.DELIVERY_STATUSES
    assert set(TRANSITIONS) == set(DeliveryStatus)


def test_only_listed_moves_are_allowed() -> None:
    """A sent message never becomes pending again; a pending one can be claimed or cancelled."""
    check_transition(S.PENDING, S.CLAIMED)
    check_transition(S.PENDING, S.CANCELLED)
    check_transition(S.CLAIMED, S.SENT)
    check_transition(S.CANCELLED, S.PENDING)
    for old, new in [(S.SENT, S.PENDING), (S.FAILED, S.SENT), (S.CANCELLED, S.SENT)]:
        with pytest.raises(TransitionError):
            check_transition(old, new)


def _batch(engine: Engine, size: int) -> list[Any]:
    with session_factory(engine)() as session, session.begin():
        slug = synthetic.load_base(session)
        release = session.scalars(select(Release).where(Release.slug == slug)).one()
        rows = [
            {
                "release_id": release.id,
                "email": f"j{i}@example.com",
                "outlet_slug": "o",
                "language": "en",
                "contacts": [],
                "message_id": f"<m{i}@example.org>",
                "content_hash": "0" * 64,
                "status": S.PENDING.value,
                "attempts": 0,
                "built_at": utcnow(),
            }
            for i in range(size)
        ]
        session.execute(insert(Delivery), rows)
        ids = session.scalars(select(Delivery.id).order_by(Delivery.id)).all()
        return [BatchKey(release.id), *ids]


def test_a_move_is_guarded_by_the_old_status(engine: Engine) -> None:
    """Cancelling pending deliveries leaves one that another run has claimed meanwhile."""
    key, *ids = _batch(engine, 4)
    with engine.begin() as connection:
        taken = claim(connection, key, "other:1:x", 1, set(), utcnow())
    assert [c.id for c in taken] == ids[:1]
    with session_factory(engine)() as session, session.begin():
        assert move(session, ids, S.PENDING, S.CANCELLED) == 3
        assert counts(session, key) == {
            "pending": 0,
            "claimed": 1,
            "sent": 0,
            "failed": 0,
            "cancelled": 3,
        }


def test_claims_never_overlap_and_skip_what_is_held(engine: Engine) -> None:
    """Two claimants take disjoint rows, each marked claimed with its holder."""
    key, *ids = _batch(engine, 10)
    with engine.begin() as connection:
        first = claim(connection, key, "a:1:x", 4, set(), utcnow())
        second = claim(connection, key, "b:1:y", 10, set(), utcnow())
    assert [c.id for c in first] == ids[:4] and [c.id for c in second] == ids[4:]
    with session_factory(engine)() as session:
        holders = dict(session.execute(select(Delivery.id, Delivery.claimed_by)).all())
        assert {holders[i] for i in ids[:4]} == {"a:1:x"}
        assert counts(session, key)["claimed"] == 10


def test_a_claim_goes_on_past_the_last_and_comes_back_for_what_was_given_back(
    engine: Engine,
) -> None:
    """A claim starts after where the claimant's last one ended; a delivery given back behind
    that point (or suppressed meanwhile) is still found before the claim says nothing is left."""
    key, *ids = _batch(engine, 6)
    with engine.begin() as connection:
        first = claim(connection, key, "a:1:x", 3, set(), utcnow())
        assert [c.id for c in first] == ids[:3]
        # Given back: pending again, behind the cursor.
        move(connection, [ids[1]], S.CLAIMED, S.PENDING, claimed_by=None, claimed_at=None)
        onward = claim(connection, key, "a:1:x", 2, set(), utcnow(), after=first[-1].id)
        assert [c.id for c in onward] == ids[3:5]
        connection.execute(insert(models.Suppression).values(email="j5@example.com"))
        # Past the cursor only a suppressed address is left: it is cancelled, and the claim
        # goes back to the start rather than say "nothing left".
        back = claim(connection, key, "a:1:x", 2, set(), utcnow(), after=onward[-1].id)
        assert [c.id for c in back] == [ids[1]]
        assert claim(connection, key, "a:1:x", 2, set(), utcnow(), after=ids[1]) == []
    with session_factory(engine)() as session:
        found = counts(session, key)
        assert (found["claimed"], found["cancelled"], found["pending"]) == (5, 1, 0)


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_claims_and_marks_write_no_index_entry_on_postgresql(engine: Engine) -> None:
    """On PostgreSQL, taking messages and marking them sent or giving them back change no
    column that an index holds: each is a HOT update (a new row version beside the old one,
    with no index entry), whichever of the table's indexes there are."""
    from sqlalchemy import text

    from civic_contacts.deliver.ledger import _RELEASED, _SENT

    key, *_ids = _batch(engine, 6)
    me = "a:1:x"
    with engine.begin() as connection:
        taken = claim(connection, key, me, 6, set(), utcnow())
        assert len(taken) == 6
        connection.execute(
            _SENT,
            [
                {"d_id": c.id, "d_me": me, "d_reply": "250 ok", "d_now": utcnow(), "d_user": "p"}
                for c in taken[:5]
            ],
        )
        connection.execute(_RELEASED, {"d_id": taken[5].id, "d_me": me})
        # This transaction's own counts (the table's statistics come later, from elsewhere).
        updated, hot = connection.execute(
            text(
                "SELECT pg_stat_get_xact_tuples_updated('deliveries'::regclass),"
                " pg_stat_get_xact_tuples_hot_updated('deliveries'::regclass)"
            )
        ).one()
    assert updated == 12
    assert hot == updated
    with session_factory(engine)() as session:
        found = counts(session, key)
        assert (found["sent"], found["pending"]) == (5, 1)


def test_claims_of_the_dead_and_expired_are_taken_back(engine: Engine) -> None:
    """A claim by a process of this machine that is gone, or older than the lease, goes back
    to pending; a live local run keeps its claim."""
    key, *_ids = _batch(engine, 6)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    now = utcnow()
    with engine.begin() as connection:
        claim(connection, key, f"{host}:{gone.pid}:dead", 2, set(), now)
        claim(connection, key, "elsewhere:1:old", 2, set(), now - LEASE - dt.timedelta(1))
        claim(connection, key, f"{host}:{__import__('os').getpid()}:alive", 2, set(), now)
    with session_factory(engine)() as session, session.begin():
        assert release_dead_claims(session, key, now) == 4
        assert counts(session, key)["claimed"] == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_group_commit_commits_each_mark_once_and_reports_failures(engine: Engine) -> None:
    """Marks written from many threads at once are all committed (whoever holds the write
    lock commits those waiting behind it); a statement that fails raises in its writer."""
    import threading

    key, *ids = _batch(engine, 200)
    with engine.begin() as connection:
        claim(connection, key, "w:1:x", 200, set(), utcnow())
    group = GroupCommit(engine, threading.Lock())
    sql = "UPDATE deliveries SET status = 'sent', claimed_by = NULL WHERE id = ? AND status = 'claimed'"
    errors: list[BaseException] = []

    def write(share: list[int]) -> None:
        try:
            for delivery_id in share:
                group.write(sql, [delivery_id])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(ids[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with pytest.raises(Exception, match="no such column"):
        group.write("UPDATE deliveries SET no_such_field = 1 WHERE id = ?", [ids[0]])
    group.close()
    with session_factory(engine)() as session:
        assert counts(session, key)["sent"] == 200


def test_the_last_mark_is_committed_before_the_release_state_is_read(engine: Engine) -> None:
    """`confirm_then_state` (on PostgreSQL one statement) commits the waiting "sent" mark,
    which another connection then sees, and returns the release's state as it is now: its
    revision, and withdrawn once it is; a release deleted reads as removed."""
    import threading

    from sqlalchemy import delete, update

    from civic_contacts.deliver.ledger import Ledger

    key, *_ids = _batch(engine, 3)
    lock = threading.Lock()
    group = GroupCommit(engine, lock) if engine.dialect.name == "sqlite" else None
    ledger = Ledger(engine, "a:1:x", "pat", lock, group)
    try:
        taken = ledger.claim(key, 3, set())
        ledger.sent(taken[0].id, "250 ok")
        revision, withdrawn, removed = ledger.confirm_then_state(key.release_id)
        assert (withdrawn, removed) == (False, False) and revision >= 1
        with session_factory(engine)() as session:
            assert counts(session, key)["sent"] == 1
        with engine.begin() as connection:
            connection.execute(
                update(Release).where(Release.id == key.release_id).values(cancelled_at=utcnow())
            )
        ledger.sent(taken[1].id, "250 ok")
        assert ledger.confirm_then_state(key.release_id)[1:] == (True, False)
        with session_factory(engine)() as session:
            assert counts(session, key)["sent"] == 2
        ledger.release(taken[2].id)
        with engine.begin() as connection:
            connection.execute(delete(Delivery))
            connection.execute(delete(Release).where(Release.id == key.release_id))
        assert ledger.confirm_then_state(key.release_id) == (-1, False, True)
    finally:
        ledger.close()
        if group is not None:
            group.close()
