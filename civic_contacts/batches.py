"""The main job: one message per journalist for a release, planned, rendered and recorded.

`plan_batch` reads the registry once (release, routing, suppressions) and yields one planned
message per journalist who is not suppressed. `build_batch` renders them, records each
delivery (pending, with its Message-ID and the SHA-256 of its bytes) and hands them to the
outbox writer. Rebuilding an unchanged release changes nothing; a message already sent is
never rebuilt with other content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from civic_contacts import registry, releases, routing
from civic_contacts.assemble import Assembler
from civic_contacts.config import Settings
from civic_contacts.db import utcnow
from civic_contacts.embargo import check_embargo
from civic_contacts.errors import BatchConflict, InputError
from civic_contacts.models import Delivery, Release
from civic_contacts.phones import format_international, tel_uri, whatsapp_url
from civic_contacts.render import (
    ContactView,
    PhoneView,
    Recipient,
    Variant,
    check_headers,
    domain_of,
)
from civic_contacts.unsubscribe import https_link, mailto_link, make_token, secret_from_environment
from civic_contacts.vcard import contact_card


@dataclass
class BuildOptions:
    """Choices an officer makes for one build."""

    after_embargo: bool = False
    max_contacts: int = 2
    templates: Path | None = None
    now: dt.datetime | None = None
    test: bool = False


@dataclass
class PlannedMessage:
    """One message to one journalist, ready to render."""

    journalist_id: int
    outlet: str
    variant: Variant
    recipient: Recipient
    reply_to: ContactView | None
    contact_names: tuple[str, ...]
    fallback: bool
    path: str


@dataclass
class OutletSummary:
    """A line of the build summary and of preview.html."""

    slug: str
    name: str
    country: str
    language: str
    fallback: bool
    recipients: int
    contacts: tuple[str, ...]


@dataclass
class BatchPlan:
    """What a build will do, before it does it; `messages()` yields the messages one by one."""

    release: Release
    embargo: dt.datetime | None
    warnings: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    outlets: list[OutletSummary] = field(default_factory=list)
    count: int = 0
    make: Callable[[], Iterator[PlannedMessage]] | None = None

    def messages(self) -> Iterator[PlannedMessage]:
        """Every planned message, made as it is needed (the batch is never held whole)."""
        return self.make() if self.make is not None else iter(())


def message_id(slug: str, email: str, domain: str) -> str:
    """A Message-ID that stays the same for this release and recipient."""
    digest = hashlib.sha256(f"{slug}\x00{email}".encode()).hexdigest()[:24]
    return f"<{slug}.{digest}@{domain}>"


def file_name(email: str) -> str:
    """A safe file name for a recipient's message."""
    return re.sub(r"[^a-z0-9._@-]", "_", email.lower()) + ".eml"


def _contact_views(session: Session) -> tuple[dict[int, ContactView], dict[int, str]]:
    """Each press contact as messages show it, and as a vCard 3.0 card."""
    views: dict[int, ContactView] = {}
    cards: dict[int, str] = {}
    for contact in registry.list_contacts(session):
        phones = tuple(
            PhoneView(
                display=format_international(p.e164)
                + (f" ext. {p.extension}" if p.extension else ""),
                tel=tel_uri(p.e164, p.extension),
                whatsapp_url=whatsapp_url(p.e164) if p.whatsapp else None,
            )
            for p in contact.phones
            if p.valid and p.e164
        )
        views[contact.id] = ContactView(
            contact.name, contact.role, contact.office.city, contact.email, phones
        )
        cards[contact.id] = contact_card(contact, version="3.0")
    return views, cards


def lock_release(session: Session, slug: str) -> None:
    """Take the release's row lock first, so two builds or sends of it prepare one at a time.

    On SQLite this first write also takes the database's write lock before anything is read.
    """
    session.execute(
        update(Release)
        .where(Release.slug == slug.strip().lower())
        .values(updated_at=Release.updated_at)
        .execution_options(synchronize_session=False)
    )


def plan_batch(session: Session, slug: str, settings: Settings, options: BuildOptions) -> BatchPlan:
    """Route the release and plan one message per journalist who is not suppressed."""
    now = options.now or utcnow()
    lock_release(session, slug)
    release = releases.get_release(session, slug)
    if not release.translations:
        raise InputError(f"release {release.slug} has no text in any language")
    embargo, warnings = check_embargo(
        release.embargo, now, options.after_embargo, release.slug, settings.embargo_warning_minutes
    )
    plan = BatchPlan(release=release, embargo=embargo, warnings=warnings)
    info = releases.release_info(release)
    # Plain values only below: messages are made lazily, possibly after the session is gone.
    texts = {t.language: (t.title, t.dateline, t.body) for t in release.translations}
    release_slug, sequence = release.slug, release.embargo_sequence
    outlets = {o.slug: o for o in registry.list_outlets(session)}
    zones = {o.slug: (o.name, o.timezone) for o in outlets.values()}
    views, contact_cards = _contact_views(session)
    suppressed = registry.suppressed_emails(session)
    existing = {
        row[0]: (row[1], row[2])
        for row in session.execute(
            select(Delivery.email, Delivery.message_id, Delivery.built_at).where(
                Delivery.release_id == release.id
            )
        )
    }
    secret = secret_from_environment()
    domain = domain_of(settings.press_address)
    contacts = registry.routing_contacts(session)
    offices = registry.routing_offices(session)
    routings = routing.route_release(
        info,
        registry.routing_outlets(session),
        registry.routing_journalists(session),
        contacts,
        offices,
        options.max_contacts,
    )
    for gap in routing.coverage_gaps(
        [r.outlet for r in routings if r.journalists], contacts, offices, info
    ):
        plan.gaps.append(f"{gap.outlet.slug}: {gap.problem}")
    for outlet_routing in routings:
        recipients = 0
        for journalist_routing in outlet_routing.journalists:
            email = journalist_routing.journalist.email
            if email in suppressed:
                plan.suppressed.append(email)
                continue
            recipients += 1
            if journalist_routing.choice.fallback:
                plan.fallbacks.append(
                    f"{email} ({outlet_routing.outlet.slug}): {journalist_routing.choice.reason}"
                )
        plan.count += recipients
        outlet = outlets[outlet_routing.outlet.slug]
        plan.outlets.append(
            OutletSummary(
                outlet.slug,
                outlet.name,
                outlet.country,
                outlet_routing.choice.language,
                outlet_routing.choice.fallback,
                recipients,
                tuple(c.name for c in outlet_routing.contacts),
            )
        )

    def make() -> Iterator[PlannedMessage]:
        for outlet_routing in routings:
            slug = outlet_routing.outlet.slug
            outlet_name, outlet_zone = zones[slug]
            variants: dict[tuple[str, tuple[int, ...]], Variant] = {}
            for journalist_routing in outlet_routing.journalists:
                journalist = journalist_routing.journalist
                if journalist.email in suppressed:
                    continue
                choice = journalist_routing.choice
                ids = tuple(c.id for c in journalist_routing.contacts)
                variant = variants.get((choice.language, ids))
                if variant is None:
                    title, dateline, body = texts[choice.language]
                    variant = Variant(
                        release_slug=release_slug,
                        language=choice.language,
                        title=title,
                        dateline=dateline,
                        body_markdown=body,
                        embargo=embargo,
                        embargo_sequence=sequence,
                        outlet_name=outlet_name,
                        outlet_timezone=outlet_zone,
                        contacts=tuple(views[i] for i in ids),
                        vcard="".join(contact_cards[i] for i in ids),
                        organisation=settings.press_name,
                        from_name=settings.press_name,
                        from_address=settings.press_address,
                        test=options.test,
                    )
                    variants[(choice.language, ids)] = variant
                token = make_token(secret, journalist.email) if secret else None
                previous = existing.get(journalist.email)
                recipient = Recipient(
                    name=journalist.name,
                    email=journalist.email,
                    message_id=previous[0]
                    if previous
                    else message_id(release_slug, journalist.email, domain),
                    date=previous[1] if previous else now,
                    unsubscribe_mailto=mailto_link(settings.unsubscribe_mailto, token),
                    unsubscribe_url=https_link(settings.unsubscribe_base_url, token)
                    if token and settings.unsubscribe_base_url
                    else None,
                )
                yield PlannedMessage(
                    journalist_id=journalist.id,
                    outlet=slug,
                    variant=variant,
                    recipient=recipient,
                    reply_to=variant.contacts[0] if variant.contacts else None,
                    contact_names=tuple(c.name for c in variant.contacts),
                    fallback=choice.fallback,
                    path=f"{slug}/{file_name(journalist.email)}",
                )

    plan.make = make
    return plan


@dataclass
class BuiltMessage:
    """A rendered message and what the manifest says of it."""

    planned: PlannedMessage
    data: bytes
    content_hash: str
    subject: str


def render_messages(plan: BatchPlan, assembler: Assembler) -> Iterator[BuiltMessage]:
    """Render every planned message to bytes, one at a time."""
    for planned in plan.messages():
        data, subject = assembler.build(planned.variant, planned.recipient, planned.reply_to)
        check_headers(data, planned.recipient.email)
        yield BuiltMessage(planned, data, hashlib.sha256(data).hexdigest(), subject)


@dataclass
class Recorded:
    """What recording the deliveries did."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0


class DeliveryBook:
    """Records deliveries as messages are built; refuses to change a message already sent.

    New deliveries are inserted in chunks and changed ones updated in bulk, so recording
    20,000 messages costs a few statements, not 20,000 ORM objects.
    """

    CHUNK = 1000

    def __init__(self, session: Session, release: Release) -> None:
        self.session = session
        self.release = release
        self.existing: dict[str, tuple[int, str, str]] = {
            row[0]: (row[1], row[2], row[3])
            for row in session.execute(
                select(Delivery.email, Delivery.id, Delivery.status, Delivery.content_hash).where(
                    Delivery.release_id == release.id
                )
            )
        }
        self.conflicts: list[str] = []
        self.seen: set[str] = set()
        self.result = Recorded()
        self.new_rows: list[dict[str, Any]] = []
        self.changed_rows: list[dict[str, Any]] = []

    def record(self, built: BuiltMessage) -> None:
        """Record one built message as a pending delivery (or note that it is unchanged)."""
        planned = built.planned
        email = planned.recipient.email
        self.seen.add(email)
        known = self.existing.get(email)
        values = {
            "outlet_slug": planned.outlet,
            "language": planned.variant.language,
            "contacts": list(planned.contact_names),
            "content_hash": built.content_hash,
            "embargo": planned.variant.embargo,
        }
        if known is None:
            self.new_rows.append(
                {
                    "release_id": self.release.id,
                    "journalist_id": planned.journalist_id,
                    "email": email,
                    "message_id": planned.recipient.message_id,
                    "built_at": planned.recipient.date,
                    "status": "pending",
                    "attempts": 0,
                    **values,
                }
            )
            self.result.created += 1
            if len(self.new_rows) >= self.CHUNK:
                self._flush()
            return
        delivery_id, status, content_hash = known
        if content_hash == built.content_hash:
            self.result.unchanged += 1
            return
        if status == "sent":
            self.conflicts.append(email)
            return
        self.changed_rows.append({"id": delivery_id, **values})
        self.result.changed += 1

    def _flush(self) -> None:
        if self.new_rows:
            # Core, not ORM bulk: the rows are plain values and nothing needs them as objects.
            self.session.execute(insert(cast(Table, Delivery.__table__)), self.new_rows)
            self.new_rows = []
        if self.changed_rows:
            self.session.execute(update(Delivery), self.changed_rows)
            self.changed_rows = []

    def finish(self) -> Recorded:
        """Refuse the build if sent messages would change; drop pending ones no longer planned."""
        if self.conflicts:
            raise BatchConflict(
                f"{len(self.conflicts)} message(s) of {self.release.slug} were already sent with other"
                f" content (first: {self.conflicts[0]}); nothing was built",
                hint="make a new release (new slug) for a corrected text, or send only the rest unchanged",
            )
        self._flush()
        stale = [
            delivery_id
            for email, (delivery_id, status, _hash) in self.existing.items()
            if email not in self.seen and status != "sent"
        ]
        if stale:
            self.session.execute(delete(Delivery).where(Delivery.id.in_(stale)))
            self.result.removed = len(stale)
        self.session.flush()
        return self.result


def record_missing(session: Session, plan: BatchPlan, assembler: Assembler) -> Recorded:
    """Record deliveries for planned messages that have none yet (what `batch send` does
    when `batch build` was not run, or the list grew); existing ones are kept as built."""
    book = DeliveryBook(session, plan.release)
    for planned in plan.messages():
        email = planned.recipient.email
        if email in book.existing:
            book.seen.add(email)
            continue
        data, subject = assembler.build(planned.variant, planned.recipient, planned.reply_to)
        check_headers(data, email)
        book.record(BuiltMessage(planned, data, hashlib.sha256(data).hexdigest(), subject))
    return book.finish()


class MessageSource:
    """Renders the message of a planned recipient on demand (thread-safe)."""

    def __init__(self, plan: BatchPlan, assembler: Assembler) -> None:
        self.by_email = {m.recipient.email: m for m in plan.messages()}
        self.assembler = assembler
        self.lock = threading.Lock()

    def __call__(self, email: str) -> bytes:
        planned = self.by_email.get(email)
        if planned is None:
            raise BatchConflict(
                f"{email} has a pending delivery but is no longer on the list",
                hint="run batch build again to bring the batch up to date",
            )
        # The assembler caches shared parts; one builder at a time keeps that simple.
        with self.lock:
            data, _subject = self.assembler.build(
                planned.variant, planned.recipient, planned.reply_to
            )
        # No header check here: the sender compares these bytes' hash with the one recorded
        # when the message was built, and those bytes were checked then.
        return data


def status_counts(session: Session, release: Release) -> dict[str, int]:
    """{total, pending, sent, failed, in_progress} for a release's deliveries, from one
    statement so that the numbers agree with each other while another run is sending."""
    from sqlalchemy import func

    held = Delivery.claimed_by.is_not(None)
    rows = session.execute(
        select(Delivery.status, held, func.count())
        .where(Delivery.release_id == release.id)
        .group_by(Delivery.status, held)
    ).all()
    counts = {"pending": 0, "sent": 0, "failed": 0}
    in_progress = 0
    for status, is_held, number in rows:
        counts[str(status)] += int(number)
        if status == "pending" and is_held:
            in_progress += int(number)
    return {"total": sum(counts.values()), **counts, "in_progress": in_progress}


def audit_rows(session: Session, release: Release) -> list[dict[str, Any]]:
    """One row per recipient: who, what, when, by whom, and what the server said."""
    rows: list[dict[str, Any]] = []
    for d in session.scalars(
        select(Delivery)
        .where(Delivery.release_id == release.id)
        .order_by(Delivery.outlet_slug, Delivery.email)
    ):
        rows.append(
            {
                "outlet": d.outlet_slug,
                "email": d.email,
                "language": d.language,
                "contacts": list(d.contacts),
                "message_id": d.message_id,
                "content_hash": d.content_hash,
                "embargo": d.embargo.isoformat() if d.embargo else None,
                "status": d.status,
                "attempts": d.attempts,
                "server_reply": d.server_reply,
                "last_error": d.last_error,
                "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                "sent_by": d.sent_by,
            }
        )
    return rows
