"""Planning a release's batch: the registry read once (release, routing, suppressions), and
one planned message per journalist who is not suppressed, outlet by outlet, never the whole
list at once (`plan_batch`, `Planner`)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, or_, select, update
from sqlalchemy.orm import Session

from civic_contacts.compose.templates import ContactView, Recipient, Variant
from civic_contacts.db import reading_whole, refresh_statistics
from civic_contacts.deliver.ledger import BatchKey, DeliveryStatus
from civic_contacts.deliver.recipients import (
    Addressing,
    ContactBook,
    Identity,
    file_name,
)
from civic_contacts.errors import InputError
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Delivery, Journalist, Outlet, Release, Suppression
from civic_contacts.releases import audience, routing
from civic_contacts.releases import store as releases
from civic_contacts.releases.embargo import check_embargo

Progress = Callable[[int, int], None]
"""Called with (done, total) as a long job goes."""


S = DeliveryStatus


@dataclass
class BuildOptions:
    """Choices an officer makes for one build; stored with the batch for sending."""

    after_embargo: bool = False
    max_contacts: int = 2
    templates: Path | None = None
    dry_run: bool = False
    now: dt.datetime | None = None  # the clock's reading; the current time when None
    # The command that sends what is built, as the preview shows it (the command line gives
    # the one with its own options; not stored).
    send_command: str = ""


Known = tuple[int, str, str, int]
"""A delivery already recorded: (id, status, content hash, revision)."""


@dataclass
class PlannedMessage:
    """One message to one journalist, ready to render."""

    journalist_id: int
    revision: int
    outlet: str
    variant: Variant
    recipient: Recipient
    reply_to: ContactView | None
    contact_names: tuple[str, ...]
    fallback: bool
    path: str
    # The delivery the recipient already has in this batch, when the plan read it with the
    # list (a release's does; a notice's is looked up in chunks).
    known: Known | None = None
    looked_up: bool = False
    # Why this language and these contacts, for the preview: the language choice's reason and
    # each routed contact's reasons (a notice goes to the contacts of the message it follows).
    language_reason: str = ""
    routed: tuple[tuple[str, tuple[str, ...]], ...] = ()


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
    fallbacks: list[str] = field(default_factory=list)  # the first SHOWN_FALLBACKS of them
    fallback_count: int = 0
    # Journalists the audience rules leave out (beats, their own choices), with the reason:
    # the first SHOWN_FALLBACKS of them, and how many; and the pending deliveries they had
    # from an earlier build, cancelled by this one.
    left_out: list[str] = field(default_factory=list)
    left_out_count: int = 0
    dropped: list[int] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    outlets: list[OutletSummary] = field(default_factory=list)
    count: int = 0
    make: Callable[[], Iterator[PlannedMessage]] | None = None

    def messages(self) -> Iterator[PlannedMessage]:
        """Every planned message, made as it is needed (the batch is never held whole)."""
        return self.make() if self.make is not None else iter(())

    @property
    def outlet_count(self) -> int:
        """Outlets that get at least one message."""
        return len({o.slug for o in self.outlets if o.recipients})


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


SHOWN_FALLBACKS = 200  # fallback lines kept for the summary and the preview (all are counted)


Person = tuple[routing.JournalistInfo, dt.datetime | None]
"""A journalist to mail, and the Date their message had at an earlier build (None: new)."""


PAGE = 2000  # rows fetched at a time when the list is streamed from the database


PLANNED_TABLES = ("journalists", "outlets", "suppressions", "deliveries")


ANALYZE_AFTER = 1000  # deliveries written by one build before their statistics are refreshed


def people_of(
    session: Session, release_id: int, outlet: str | None = None
) -> Iterator[tuple[str, list[tuple[Person, bool, Known | None]]]]:
    """The journalists a release goes to, outlet by outlet (by slug, then name), each with the
    Date of their earlier message, whether their address is suppressed, and the delivery they
    already have (read here, in the same pass, so that bringing a batch up to date needs no
    look-up per recipient).

    Streamed from the database a page at a time, and given at most `PAGE` at a time: a large
    outlet comes as several pieces in a row under the same slug, so neither the list nor one
    outlet is ever held whole.
    """
    query = (
        select(
            *registry.ROUTING_COLUMNS,
            Suppression.email,
            Delivery.built_at,
            Delivery.id,
            Delivery.status,
            Delivery.content_hash,
            Delivery.revision,
        )
        .join(Journalist.outlet)
        .outerjoin(Suppression, Suppression.email == Journalist.email)
        .outerjoin(Delivery, and_(BatchKey(release_id).where(), Delivery.email == Journalist.email))
        .where(*MAILED)
        .order_by(Outlet.slug, Journalist.name, Journalist.id)
    )
    if outlet is not None:
        query = query.where(Outlet.slug == outlet)
    rows: Iterator[Any] = iter(session.execute(query.execution_options(yield_per=PAGE)))
    n = len(registry.ROUTING_COLUMNS)
    for slug, group in itertools.groupby(rows, key=lambda row: row[3]):
        for piece in _pieces(group):
            yield (
                slug,
                [
                    (
                        (registry.journalist_info(r), r[n + 1]),
                        r[n] is not None,
                        (r[n + 2], r[n + 3], r[n + 4], r[n + 5]) if r[n + 2] is not None else None,
                    )
                    for r in piece
                ],
            )


def _pieces(rows: Iterator[Any]) -> Iterator[list[Any]]:
    """`rows` in lists of at most `PAGE`."""
    while piece := list(itertools.islice(rows, PAGE)):
        yield piece


MAILED = (Journalist.opted_out.is_(False), Journalist.archived_at.is_(None))


_NOT_SUPPRESSED = ~exists().where(Suppression.email == Journalist.email)


def audience_clause() -> ColumnElement[bool]:
    """True for a delivery whose address is still on the list: a journalist who has not
    opted out, is not archived and is not suppressed (for cancelling the others in SQL)."""
    return exists().where(Journalist.email == Delivery.email, *MAILED, _NOT_SUPPRESSED)


class Planner:
    """What every message of a release's batch shares, read once: the texts, the contacts and
    their cards, the identity and the routing rules. `outlet()` plans one outlet's messages
    from its journalists, so a batch is planned outlet by outlet and never held whole.

    Holds plain values only: it outlives the session that read it (a send plans outlets as
    their messages are claimed).
    """

    def __init__(
        self,
        session: Session,
        release: Release,
        identity: Identity,
        options: BuildOptions,
        embargo: dt.datetime | None,
        now: dt.datetime,
        recent: dict[int, int] | None = None,
    ) -> None:
        """`recent`: releases sent to each capped journalist in the last seven days."""
        self.release_id = release.id
        self.slug = release.slug
        self.sequence = release.embargo_sequence
        self.revision = release.revision
        self.texts = {
            t.language: (
                t.title,
                t.dateline,
                releases.message_body(t.body, release.keep_contact_block),
            )
            for t in release.translations
        }
        self.identity = identity
        self.embargo = embargo
        self.now = now
        self.info = releases.release_info(release)
        self.outlets = {o.slug: o for o in registry.routing_outlets(session)}
        self.zones = {
            row[0]: (row[1], row[2])
            for row in session.execute(select(Outlet.slug, Outlet.name, Outlet.timezone))
        }
        self.book = ContactBook(session, identity.organisation)
        self.contacts = registry.routing_contacts(session)
        self.offices = registry.routing_offices(session)
        self.router = routing.Router(
            self.info,
            self.contacts,
            self.offices,
            options.max_contacts,
            embargoed=embargo is not None and embargo > now,
            recent=recent,
        )
        self.addressing = Addressing(identity)
        # The variants of the outlet planned last: a large outlet is planned piece by piece,
        # and its pieces share their variants (and so their rendered parts).
        self.variants: dict[tuple[str, tuple[int, ...]], Variant] = {}
        self.variants_of = ""

    def outlet(
        self, slug: str, people: list[Person]
    ) -> tuple[routing.OutletRouting, list[PlannedMessage]]:
        """The outlet's routing and one planned message per journalist given."""
        by_id = {person[0].id: person[1] for person in people}
        outlet_routing = self.router.route_outlet(self.outlets[slug], [p[0] for p in people])
        outlet_name, outlet_zone = self.zones[slug]
        identity = self.identity
        if self.variants_of != slug:
            self.variants, self.variants_of = {}, slug
        variants = self.variants
        messages = []
        # What a routed contacts tuple gives every message it is shared by (most journalists
        # of an outlet share the outlet's): worked out once per tuple in this call (each is
        # held by the routing meanwhile, so its id stays its own).
        by_contacts: dict[int, tuple[tuple[int, ...], tuple[tuple[str, tuple[str, ...]], ...]]]
        by_contacts = {}
        for journalist_routing in outlet_routing.journalists:
            journalist = journalist_routing.journalist
            choice = journalist_routing.choice
            routed_contacts = journalist_routing.contacts
            shared = by_contacts.get(id(routed_contacts))
            if shared is None:
                shared = by_contacts[id(routed_contacts)] = (
                    tuple(c.id for c in routed_contacts),
                    tuple((c.name, c.reasons) for c in routed_contacts),
                )
            ids, routed = shared
            variant = variants.get((choice.language, ids))
            if variant is None:
                title, dateline, body = self.texts[choice.language]
                variant = Variant(
                    release_slug=self.slug,
                    language=choice.language,
                    title=title,
                    dateline=dateline,
                    body_markdown=body,
                    embargo=self.embargo,
                    embargo_sequence=self.sequence,
                    outlet_name=outlet_name,
                    outlet_timezone=outlet_zone,
                    contacts=self.book.contacts(ids, choice.language),
                    vcard=self.book.cards(ids, choice.language),
                    organisation=identity.organisation,
                    from_name=identity.from_name,
                    from_address=identity.from_address,
                )
                variants[(choice.language, ids)] = variant
            built_at = by_id[journalist.id]
            # The same Message-ID for every build of this release to this person, following
            # the sender's domain until the message is sent.
            recipient = self.addressing.recipient(
                name=journalist.name,
                email=journalist.email,
                key=self.slug,
                date=built_at if built_at is not None else self.now,
                language=choice.language,
            )
            messages.append(
                PlannedMessage(
                    journalist_id=journalist.id,
                    revision=self.revision,
                    outlet=slug,
                    variant=variant,
                    recipient=recipient,
                    reply_to=variant.contacts[0] if variant.contacts else None,
                    contact_names=variant.contact_names,
                    fallback=choice.fallback,
                    path=f"{slug}/{file_name(journalist.email)}",
                    language_reason=choice.reason,
                    routed=routed,
                )
            )
        return outlet_routing, messages


def plan_batch(
    session: Session, slug: str, identity: Identity, options: BuildOptions, now: dt.datetime
) -> tuple[BatchPlan, Planner]:
    """Route the release and plan one message per journalist who is not suppressed.

    What is known before any message is made (how many, who is suppressed, coverage gaps) is
    counted in SQL; the messages, the outlet lines and the fallbacks come as `messages()` runs.
    """
    lock_release(session, slug)
    release = releases.get_release(session, slug)
    releases.check_open(release, "built or sent")
    if not release.translations:
        raise InputError(f"release {release.slug} has no text in any language")
    embargo, warnings = check_embargo(
        release.embargo, now, options.after_embargo, release.slug, identity.embargo_warning_minutes
    )
    plan = BatchPlan(release=release, embargo=embargo, warnings=warnings)
    refresh_statistics(session, PLANNED_TABLES)
    reading_whole(session)
    planner = Planner(
        session, release, identity, options, embargo, now, sent_in_week(session, release.id, now)
    )
    listed = select(Journalist.email).join(Journalist.outlet).where(*MAILED)
    plan.count = int(
        session.scalar(select(func.count()).select_from(listed.where(_NOT_SUPPRESSED).subquery()))
        or 0
    )
    if release.topics or _anyone_chooses(session):
        # The audience rules leave some out: counted by routing them (the list streamed).
        plan.count = sum(
            len(
                planner.router.route_outlet(
                    planner.outlets[slug],
                    [person[0] for person, suppressed, _k in people if not suppressed],
                ).journalists
            )
            for slug, people in people_of(session, release.id)
        )
    plan.suppressed = list(
        session.scalars(
            listed.where(~_NOT_SUPPRESSED).order_by(Outlet.slug, Journalist.name, Journalist.id)
        )
    )
    with_people = session.scalars(
        select(Outlet.slug).where(exists().where(Journalist.outlet_id == Outlet.id, *MAILED))
    ).all()
    for gap in routing.coverage_gaps(
        [planner.outlets[s] for s in sorted(with_people)],
        planner.contacts,
        planner.offices,
        planner.info,
    ):
        plan.gaps.append(f"{gap.outlet.slug}: {gap.problem}")

    def make() -> Iterator[PlannedMessage]:
        plan.outlets.clear()
        plan.fallbacks.clear()
        plan.fallback_count = 0
        plan.left_out.clear()
        plan.left_out_count = 0
        plan.dropped.clear()
        seen: set[str] = set()
        for outlet_slug, people in people_of(session, release.id):
            # An outlet comes in pieces; its line in the summary counts them all.
            mailed = [person for person, suppressed, _known in people if not suppressed]
            outlet_routing, messages = planner.outlet(outlet_slug, mailed)
            known = {person[0].id: found for person, _s, found in people}
            for journalist, reason in outlet_routing.left_out:
                plan.left_out_count += 1
                if len(plan.left_out) < SHOWN_FALLBACKS:
                    plan.left_out.append(f"{journalist.email} ({outlet_slug}): {reason}")
                had = known[journalist.id]
                if had is not None and had[1] == DeliveryStatus.PENDING.value:
                    plan.dropped.append(had[0])
            for message in messages:
                message.known = known[message.journalist_id]
                message.looked_up = True
            if outlet_slug in seen:
                plan.outlets[-1].recipients += len(outlet_routing.journalists)
            else:
                seen.add(outlet_slug)
                plan.outlets.append(
                    _summary(planner, outlet_routing, len(outlet_routing.journalists))
                )
            for journalist_routing in outlet_routing.journalists:
                if journalist_routing.choice.fallback:
                    plan.fallback_count += 1
                    if len(plan.fallbacks) < SHOWN_FALLBACKS:
                        plan.fallbacks.append(
                            f"{journalist_routing.journalist.email} ({outlet_slug}):"
                            f" {journalist_routing.choice.reason}"
                        )
            yield from messages
        for outlet_slug, outlet in planner.outlets.items():
            if outlet_slug not in seen:
                plan.outlets.append(_summary(planner, planner.router.route_outlet(outlet), 0))
        plan.outlets.sort(key=lambda o: o.slug)
        plan.gaps = [g for g in plan.gaps if not g.startswith(TOPIC_GAP)]
        plan.gaps.extend(
            f"{TOPIC_GAP}{problem}"
            for problem in routing.topic_gaps(planner.info, planner.router.covered)
        )

    plan.make = make
    return plan, planner


TOPIC_GAP = "every outlet: "  # a topic gap is the list's, not one outlet's


def sent_in_week(session: Session, release_id: int, now: dt.datetime) -> dict[int, int]:
    """Other releases sent in the last seven days to each journalist who set a weekly cap,
    by journalist id (notices are follow-ups of a release, not releases: not counted)."""
    since = now - dt.timedelta(days=audience.WEEK_DAYS)
    rows = session.execute(
        select(Journalist.id, func.count(func.distinct(Delivery.release_id)))
        .join(Delivery, Delivery.email == Journalist.email)
        .where(
            Journalist.weekly_cap.is_not(None),
            Delivery.notice_id.is_(None),
            Delivery.release_id != release_id,
            Delivery.status == DeliveryStatus.SENT.value,
            Delivery.sent_at >= since,
        )
        .group_by(Journalist.id)
    )
    return {row[0]: int(row[1]) for row in rows}


def _anyone_chooses(session: Session) -> bool:
    """Whether a journalist on the list has chosen anything that can leave them out."""
    chooses = or_(
        Journalist.weekly_cap.is_not(None),
        Journalist.accepts_embargoed.is_(False),
        cast(Journalist.follows, String) != "[]",
    )
    return session.scalar(select(exists().where(*MAILED, chooses))) or False


def _summary(
    planner: Planner, outlet_routing: routing.OutletRouting, recipients: int
) -> OutletSummary:
    outlet = outlet_routing.outlet
    return OutletSummary(
        outlet.slug,
        planner.zones[outlet.slug][0],
        outlet.country,
        outlet_routing.choice.language,
        outlet_routing.choice.fallback,
        recipients,
        tuple(c.name for c in outlet_routing.contacts),
    )
