"""What a notice is, who it goes to and when it may go: its kinds, the originals it follows
(each journalist's last message of the release), what changed in the text since, and the
rules of each kind around the lift (`check_allowed`, `check_schedule`). Building and sending
are `notices.py`; where notices stand is `notice_status.py`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.config import Settings
from civic_contacts.db import utcnow
from civic_contacts.deliver.ledger import BatchKey, DeliveryStatus
from civic_contacts.deliver.recipients import (
    check_identity,
)
from civic_contacts.errors import BatchConflict, EmbargoLifted, InputError
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Delivery, Journalist, Notice, Release, ReleaseRevision
from civic_contacts.releases import store as releases

S = DeliveryStatus


class NoticeKind(StrEnum):
    """What a notice tells the journalists who were sent the release."""

    MOVED = "moved"
    CANCELLED = "cancelled"
    CORRECTION = "correction"
    REMINDER = "reminder"
    LIFTED = "lifted"


K = NoticeKind


def parse_kind(value: str) -> NoticeKind:
    """A kind from the command line or a script."""
    try:
        return NoticeKind(value.strip().lower())
    except ValueError:
        raise InputError(
            f'unknown notice kind "{value}" (known: {", ".join(k.value for k in NoticeKind)})'
        ) from None


@dataclass
class Original:
    """One journalist's sent message of the release, and what they have been told since."""

    delivery_id: int
    journalist_id: int | None
    email: str
    outlet: str
    language: str
    contacts: list[str]
    message_id: str
    revision: int
    embargo: dt.datetime | None
    told_embargo: dt.datetime | None = None
    seen_revision: int = 0


def originals(session: Session, release: Release, but_not: int | None = None) -> list[Original]:
    """The journalists who were sent the release, not suppressed or opted out since, with the
    lift and the text revision they were last told (by the original or a notice other than
    `but_not`)."""
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.journalist_id,
            Delivery.email,
            Delivery.outlet_slug,
            Delivery.language,
            Delivery.contacts,
            Delivery.message_id,
            Delivery.revision,
            Delivery.embargo,
        )
        .where(BatchKey(release.id).where(), Delivery.status == S.SENT.value)
        .order_by(Delivery.id)
    ).all()
    suppressed = registry.suppressed_emails(session)
    opted_out = set(
        session.scalars(select(Journalist.email).where(Journalist.opted_out.is_(True))).all()
    )
    found: dict[str, Original] = {}
    for row in rows:
        if row.email in suppressed or row.email in opted_out:
            continue
        found[row.email] = Original(
            delivery_id=row.id,
            journalist_id=row.journalist_id,
            email=row.email,
            outlet=row.outlet_slug,
            language=row.language,
            contacts=list(row.contacts),
            message_id=row.message_id,
            revision=row.revision,
            embargo=row.embargo,
            told_embargo=row.embargo,
            seen_revision=row.revision,
        )
    later = session.execute(
        select(Notice.kind, Notice.revision, Delivery.email, Delivery.embargo)
        .join(Notice, Notice.id == Delivery.notice_id)
        .where(
            Notice.release_id == release.id,
            Notice.kind.in_([K.MOVED.value, K.CORRECTION.value]),
            Delivery.status == S.SENT.value,
            Notice.id != (but_not or 0),
        )
        .order_by(Notice.revision)
    ).all()
    for kind, revision, email, embargo in later:
        told = found.get(email)
        if told is None:
            continue
        if kind == K.MOVED:
            told.told_embargo = embargo
        else:
            told.seen_revision = max(told.seen_revision, revision)
    return list(found.values())


def _texts(session: Session, release: Release) -> dict[int, dict[str, list[str]]]:
    """The text of every recorded revision: {revision: {language: [title, dateline, body]}}."""
    return {
        number: dict(texts)
        for number, texts in session.execute(
            select(ReleaseRevision.number, ReleaseRevision.texts).where(
                ReleaseRevision.release_id == release.id
            )
        )
    }


@dataclass(frozen=True)
class TextChange:
    """What changed in one language between the text a journalist saw and the text now."""

    title: bool
    dateline: bool
    paragraphs: tuple[releases.ParagraphChange, ...]

    def __bool__(self) -> bool:
        return self.title or self.dateline or bool(self.paragraphs)


def text_change(
    texts: dict[int, dict[str, list[str]]], seen: int, release: Release, language: str
) -> TextChange:
    """What changed in `language` since revision `seen` (all of it when that text is unknown)."""
    now = next((t for t in release.translations if t.language == language), None)
    if now is None:
        return TextChange(False, False, ())
    before = texts.get(seen, {}).get(language)
    if before is None:
        before = ["", "", ""]
    title, dateline, body = before
    return TextChange(
        title != now.title,
        dateline != now.dateline,
        tuple(releases.paragraph_changes(body, now.body)),
    )


def audience(
    session: Session,
    release: Release,
    kind: NoticeKind,
    but_not: int | None = None,
) -> list[tuple[Original, TextChange | None]]:
    """Who a notice of this kind goes to now, with (for a correction) what changed for them."""
    found = originals(session, release, but_not)
    if kind == K.MOVED:
        return [(o, None) for o in found if o.told_embargo != release.embargo]
    if kind == K.CORRECTION:
        texts = _texts(session, release)
        out: list[tuple[Original, TextChange | None]] = []
        for o in found:
            change = text_change(texts, o.seen_revision, release, o.language)
            if change:
                out.append((o, change))
        return out
    return [(o, None) for o in found]


def check_allowed(release: Release, kind: NoticeKind, now: dt.datetime, sending: bool) -> None:
    """Refuse a notice that makes no sense now (see the table in the README)."""
    if release.archived_at is not None:
        releases.check_open(release, "sent")
    if release.cancelled_at is not None and kind != K.CANCELLED:
        raise BatchConflict(
            f"release {release.slug} was cancelled (journalists were told not to publish);"
            f" no {kind} notice can follow a cancellation; nothing was done",
            hint=f"run: civic-contacts notice status {release.slug}",
        )
    lift = release.embargo
    if kind in (K.MOVED, K.CANCELLED, K.REMINDER):
        if lift is None:
            what = {
                K.MOVED: "a moved notice needs a new lift time",
                K.CANCELLED: "a release without an embargo is public already and cannot be"
                " cancelled by a notice",
                K.REMINDER: "there is no lift to remind of",
            }[kind]
            raise BatchConflict(
                f"release {release.slug} has no embargo: {what}; nothing was done",
                hint="a lifted notice says the release is now public" if kind == K.MOVED else None,
            )
        if lift <= now:
            raise EmbargoLifted(
                f"the embargo of {release.slug} lifted at {lift:%Y-%m-%d %H:%M} UTC; a {kind}"
                " notice is only sent before the lift; nothing was done",
                hint=f"run: civic-contacts notice build {release.slug} --kind lifted --out DIR"
                if kind != K.CANCELLED
                else None,
            )
    if kind == K.LIFTED and sending and lift is not None and now < lift:
        raise BatchConflict(
            f"the embargo of {release.slug} lifts at {lift:%Y-%m-%d %H:%M} UTC; the lifted"
            " notice is never sent before it; nothing was sent",
            hint=f"schedule it: civic-contacts notice send {release.slug} --kind lifted"
            f" --at {lift:%Y-%m-%dT%H:%M:%SZ}",
        )


def check_schedule(release: Release, kind: NoticeKind, at: dt.datetime) -> None:
    """Refuse a send time that the kind does not allow (a reminder after the lift, a lift
    notice before it)."""
    lift = release.embargo
    if lift is None:
        return
    if kind in (K.MOVED, K.CANCELLED, K.REMINDER) and at >= lift:
        raise BatchConflict(
            f"{at:%Y-%m-%d %H:%M} UTC is at or after the lift ({lift:%Y-%m-%d %H:%M} UTC); a"
            f" {kind} notice is only sent before it; nothing was scheduled"
        )
    if kind == K.LIFTED and at < lift:
        raise BatchConflict(
            f"{at:%Y-%m-%d %H:%M} UTC is before the lift ({lift:%Y-%m-%d %H:%M} UTC); the"
            " lifted notice is never sent before it; nothing was scheduled",
            hint=f"use --at {lift:%Y-%m-%dT%H:%M:%SZ} or later",
        )


def check_scheduled(
    session: Session, release: str, kind: NoticeKind | str, at: dt.datetime, settings: Settings
) -> None:
    """Refuse, before waiting, a scheduled send that could not go at `at`: a time the kind
    does not allow, or a notice not built for the release's current revision."""
    kind = parse_kind(kind) if isinstance(kind, str) else kind
    check_identity(session, settings, "scheduled")
    found = releases.get_release(session, release)
    check_allowed(found, kind, utcnow(), sending=False)
    check_schedule(found, kind, at)
    if current_notice(session, found, kind) is None:
        raise BatchConflict(
            f"no {kind} notice of {found.slug} was built for revision {found.revision};"
            " nothing was scheduled",
            hint=f"run: civic-contacts notice build {found.slug} --kind {kind} --out DIR",
        )


def current_notice(session: Session, release: Release, kind: NoticeKind) -> Notice | None:
    """The release's notice of this kind for its current revision, if one was built."""
    return session.scalar(
        select(Notice).where(
            Notice.release_id == release.id,
            Notice.kind == kind.value,
            Notice.revision == release.revision,
        )
    )


def latest_notice(session: Session, release: Release, kind: NoticeKind) -> Notice | None:
    """The release's newest notice of this kind, whatever its revision."""
    return session.scalar(
        select(Notice)
        .where(Notice.release_id == release.id, Notice.kind == kind.value)
        .order_by(Notice.revision.desc())
        .limit(1)
    )
