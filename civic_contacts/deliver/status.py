"""Where a batch stands: its deliveries counted by status, what came back for them (bounces,
complaints, auto-replies, sender alerts), and the audit, one row per delivery."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_contacts.db import reading_whole, utcnow
from civic_contacts.deliver.build import stored_batch
from civic_contacts.deliver.ledger import BatchKey, counts
from civic_contacts.deliver.plan import PAGE, S
from civic_contacts.registry.addresses import domain_of
from civic_contacts.registry.models import Bounce, Delivery
from civic_contacts.releases import store as releases


def bounce_counts(session: Session, release_id: int, notice_id: int | None = None) -> Counter[str]:
    """Bounced, complained and auto-replied deliveries of a batch (or a notice's)."""
    rows = session.execute(
        select(Bounce.kind, Bounce.action, func.count(func.distinct(Bounce.delivery_id)))
        .join(Delivery, Delivery.id == Bounce.delivery_id)
        .where(
            Delivery.release_id == release_id,
            Delivery.notice_id.is_(None) if notice_id is None else Delivery.notice_id == notice_id,
        )
        .group_by(Bounce.kind, Bounce.action)
    )
    counts: Counter[str] = Counter()
    for kind, action, n in rows:
        if kind == "bounce":
            counts["bounced"] += n
            counts[f"bounced ({action})"] += n
        elif kind == "complaint":
            counts["complained"] += n
        elif kind == "auto-reply":
            counts["auto-replied"] += n
    return counts


def release_alerts(session: Session, release_id: int) -> Counter[tuple[str, str]]:
    """Sender problems reported for a release's messages."""
    alerts: Counter[tuple[str, str]] = Counter()
    for email, reason in session.execute(
        select(Bounce.email, Bounce.reason).where(
            Bounce.release_id == release_id, Bounce.action == "alert"
        )
    ):
        alerts[(domain_of(email) if email else "?", reason)] += 1
    return alerts


@dataclass
class BatchStatus:
    """Counts of a batch's deliveries by status, and what it was built with."""

    release: str
    revision: int
    counts: dict[str, int]
    built_at: dt.datetime | None
    outbox: str | None
    built_revision: int | None
    sent_last_minute: int = 0
    recent_pace: float | None = None  # messages per second over the last minute's sending
    # What came back (see returns.py): bounced, complained, auto-replied deliveries, and the
    # sender problems reported, by (recipient domain, reason).
    returned: dict[str, int] = field(default_factory=dict)
    alerts: dict[tuple[str, str], int] = field(default_factory=dict)

    def eta_seconds(self, rate: float | None = None) -> float | None:
        """Seconds left at the pace of the last minute's sending (else at `rate`, the
        configured one); None when nothing is left or no rate is known."""
        left = self.counts[S.PENDING] + self.counts[S.CLAIMED]
        speed = self.recent_pace or rate
        if not left or not speed:
            return None
        return left / speed

    @property
    def total(self) -> int:
        """Every delivery, whatever its status."""
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        """{total, pending, claimed, sent, failed, cancelled, in_progress}."""
        return {
            "total": self.total,
            **self.counts,
            "in_progress": self.counts[S.CLAIMED],
            "bounced": self.returned.get("bounced", 0),
            "complained": self.returned.get("complained", 0),
            "auto_replied": self.returned.get("auto-replied", 0),
        }


def batch_status(session: Session, release: str) -> BatchStatus:
    """Where the release's batch stands (`audit_rows` has one row per recipient)."""
    found = releases.get_release(session, release)
    batch = stored_batch(session, found)
    status = BatchStatus(
        release=found.slug,
        revision=found.revision,
        counts=counts(session, BatchKey(found.id)),
        built_at=batch.built_at if batch else None,
        outbox=batch.outbox if batch else None,
        built_revision=batch.revision if batch else None,
    )
    now = utcnow()
    number, earliest = session.execute(
        select(func.count(), func.min(Delivery.sent_at)).where(
            BatchKey(found.id).where(),
            Delivery.status == S.SENT.value,
            Delivery.sent_at >= now - dt.timedelta(minutes=1),
        )
    ).one()
    status.sent_last_minute = int(number or 0)
    if status.sent_last_minute and earliest is not None:
        if earliest.tzinfo is None:  # a plain aggregate is not converted by UTCDateTime
            earliest = earliest.replace(tzinfo=dt.UTC)
        elapsed = max((now - earliest).total_seconds(), 1.0)
        status.recent_pace = status.sent_last_minute / elapsed
    from civic_contacts.deliver.status import bounce_counts, release_alerts

    status.returned = dict(bounce_counts(session, found.id))
    status.alerts = dict(release_alerts(session, found.id))
    return status


AUDIT_COLUMNS = [
    "outlet",
    "email",
    "language",
    "contacts",
    "message_id",
    "content_hash",
    "revision",
    "embargo",
    "status",
    "attempts",
    "server_reply",
    "last_error",
    "sent_at",
    "sent_by",
]


def audit_rows(session: Session, release: str) -> Iterator[dict[str, Any]]:
    """One row per recipient (who, what, when, by whom, and what the server said), by outlet
    and address, streamed a page at a time (the session must stay open while they are read)."""
    found = releases.get_release(session, release)
    reading_whole(session)
    columns = (
        Delivery.outlet_slug,
        Delivery.email,
        Delivery.language,
        Delivery.contacts,
        Delivery.message_id,
        Delivery.content_hash,
        Delivery.revision,
        Delivery.embargo,
        Delivery.status,
        Delivery.attempts,
        Delivery.server_reply,
        Delivery.last_error,
        Delivery.sent_at,
        Delivery.sent_by,
    )
    rows = session.execute(
        select(*columns)
        .where(BatchKey(found.id).where())
        .order_by(Delivery.outlet_slug, Delivery.email)
        .execution_options(yield_per=PAGE)
    )
    for row in rows:
        values = dict(zip(AUDIT_COLUMNS, row, strict=True))
        values["contacts"] = list(values["contacts"] or [])
        for moment in ("embargo", "sent_at"):
            if values[moment] is not None:
                values[moment] = values[moment].isoformat()
        yield values
