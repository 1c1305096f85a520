"""Where a release's notices stand: each notice's deliveries by status and what came back,
which notices are due (a moved lift, a changed text, a cancellation not yet told), and the
audit of one notice, one row per delivery.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.db import utcnow
from civic_contacts.deliver.ledger import BatchKey, counts
from civic_contacts.deliver.notice_rules import (
    K,
    NoticeKind,
    S,
    audience,
    current_notice,
    latest_notice,
)
from civic_contacts.deliver.status import bounce_counts
from civic_contacts.registry.models import Delivery, Notice, Release
from civic_contacts.releases import store as releases


@dataclass
class NoticeStatus:
    """One notice: its kind, revision, counts by status, and whether a newer one replaced it."""

    kind: str
    revision: int
    counts: dict[str, int]
    built_at: dt.datetime
    outbox: str | None
    current: bool
    returned: dict[str, int] = field(default_factory=dict)  # bounced, complained, auto-replied

    def as_json(self) -> dict[str, Any]:
        """{kind, revision, current, built_at, outbox, total, pending, ..., in_progress,
        bounced, complained, auto_replied}."""
        return {
            "kind": self.kind,
            "revision": self.revision,
            "current": self.current,
            "built_at": self.built_at.isoformat(),
            "outbox": self.outbox,
            "total": sum(self.counts.values()),
            **self.counts,
            "in_progress": self.counts[S.CLAIMED],
            "bounced": self.returned.get("bounced", 0),
            "complained": self.returned.get("complained", 0),
            "auto_replied": self.returned.get("auto-replied", 0),
        }


@dataclass
class Due:
    """A notice the release needs now, how many journalists it would reach, and why (the end
    of "N journalists were sent the release ...")."""

    kind: str
    journalists: int
    reason: str
    command: str


@dataclass
class NoticesOverview:
    """The release's notices and what is due."""

    release: str
    revision: int
    sent: int
    cancelled: bool
    notices: list[NoticeStatus] = field(default_factory=list)
    due: list[Due] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """{release, revision, sent, cancelled, notices: [...], due: [...]}."""
        return {
            "release": self.release,
            "revision": self.revision,
            "sent": self.sent,
            "cancelled": self.cancelled,
            "notices": [n.as_json() for n in self.notices],
            "due": [d.__dict__ for d in self.due],
        }


def due_notices(session: Session, release: Release, now: dt.datetime) -> list[Due]:
    """What the journalists who were sent the release still need to be told."""
    if release.cancelled_at is not None or release.archived_at is not None:
        return []
    due: list[Due] = []

    def add(kind: NoticeKind, reason: str, people: list[str]) -> None:
        notice = current_notice(session, release, kind)
        command = f"civic-contacts notice build {release.slug} --kind {kind} --out DIR"
        if notice is not None:
            key = BatchKey(release.id, notice.id)
            left = counts(session, key)
            # Someone sent the release after this notice was built (a send that was running
            # when the release changed) is not among its recipients: it is due again, for them.
            covered = set(
                session.scalars(
                    select(Delivery.email).where(key.where(), Delivery.status != S.CANCELLED.value)
                )
            )
            missed = [email for email in people if email not in covered]
            if missed:
                reason += (
                    f"; {len(missed)} of them were sent the release after the {kind} notice"
                    " was built"
                )
            elif not left[S.PENDING] and not left[S.CANCELLED]:
                return
            elif left[S.PENDING]:
                # Built and waiting: what is left to do is to send it, not to build it again.
                reason += f"; the notice is built, {left[S.PENDING]} message(s) waiting to be sent"
                command = f"civic-contacts notice send {release.slug} --kind {kind} --yes"
        due.append(Due(kind.value, len(people), reason, command))

    lift = release.embargo
    moved = audience(
        session, release, K.MOVED, but_not=_id(current_notice(session, release, K.MOVED))
    )
    if moved:
        if lift is not None and lift > now:
            add(K.MOVED, "with another lift time", [o.email for o, _c in moved])
        else:
            add(
                K.LIFTED,
                "under an embargo since lifted or removed",
                [o.email for o, _c in moved],
            )
    corrected = audience(
        session, release, K.CORRECTION, but_not=_id(current_notice(session, release, K.CORRECTION))
    )
    if corrected:
        add(
            K.CORRECTION,
            "in a text that has changed since",
            [o.email for o, _c in corrected],
        )
    return due


def _id(notice: Notice | None) -> int | None:
    return notice.id if notice is not None else None


def notices_overview(
    session: Session, release: str, now: dt.datetime | None = None
) -> NoticesOverview:
    """The release's notices with counts, and the notices now due."""
    found = releases.get_release(session, release)
    sent = counts(session, BatchKey(found.id))[S.SENT]
    overview = NoticesOverview(found.slug, found.revision, sent, found.cancelled_at is not None)
    latest: dict[str, int] = {}
    rows = list(
        session.scalars(
            select(Notice).where(Notice.release_id == found.id).order_by(Notice.revision, Notice.id)
        )
    )
    for notice in rows:
        latest[notice.kind] = max(latest.get(notice.kind, 0), notice.revision)
    for notice in rows:
        overview.notices.append(
            NoticeStatus(
                kind=notice.kind,
                revision=notice.revision,
                counts=counts(session, BatchKey(found.id, notice.id)),
                built_at=notice.built_at,
                outbox=notice.outbox,
                current=notice.revision == latest[notice.kind],
                returned=dict(bounce_counts(session, found.id, notice.id)),
            )
        )
    overview.due = due_notices(session, found, now or utcnow())
    return overview


def audit_rows(session: Session, release: str, kind: NoticeKind) -> list[dict[str, Any]]:
    """One row per recipient of the current notice of this kind (for scripts and tests)."""
    found = releases.get_release(session, release)
    notice = latest_notice(session, found, kind)
    if notice is None:
        return []
    return [
        {
            "email": d.email,
            "status": d.status,
            "message_id": d.message_id,
            "in_reply_to": d.in_reply_to,
            "revision": d.revision,
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
        }
        for d in session.scalars(
            select(Delivery).where(BatchKey(found.id, notice.id).where()).order_by(Delivery.email)
        )
    ]
