"""The main job: one message per journalist for a release, planned, rendered and recorded.

`plan_batch` reads the registry once (release, routing, suppressions) and yields one planned
message per journalist who is not suppressed. `build_batch` renders them, brings the batch's
deliveries up to date with the registry (see `Reconciler`) and writes the outbox;
`batch_status` says where the batch stands. Sending is `send.send_batch`.

What a batch was built with (templates, contacts per outlet, relabelling after the lift, the
outbox, the sender's identity) is stored with it, so sending and testing use exactly that.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from markupsafe import Markup
from sqlalchemy import ColumnElement, Table, and_, bindparam, exists, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from civic_contacts.compose.assemble import Assembler
from civic_contacts.compose.mime import check_headers
from civic_contacts.compose.outbox import Outbox
from civic_contacts.compose.templates import ContactView, PhoneView, Recipient, Renderer, Variant
from civic_contacts.compose.typography import is_french
from civic_contacts.config import Settings
from civic_contacts.db import analyze_now, reading_whole, refresh_statistics, utcnow
from civic_contacts.deliver.ledger import BatchKey, Claimed, DeliveryStatus, counts, guarded, move
from civic_contacts.deliver.tokens import https_link, mailto_link, make_token, signing_secret
from civic_contacts.errors import BatchConflict, ConfigError, InputError, SendError
from civic_contacts.registry import store as registry
from civic_contacts.registry.addresses import domain_of
from civic_contacts.registry.codes import in_language
from civic_contacts.registry.models import Batch, Delivery, Journalist, Outlet, Release, Suppression
from civic_contacts.registry.phones import format_international, tel_uri, whatsapp_url
from civic_contacts.registry.vcard import contact_card
from civic_contacts.releases import routing
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


@dataclass(frozen=True)
class Identity:
    """Who the messages are from, and the addresses they name for unsubscribing."""

    organisation: str
    from_name: str
    from_address: str
    unsubscribe_mailto: str
    unsubscribe_base_url: str | None = None
    embargo_warning_minutes: int = 15
    message_id_domain: str = ""
    # The envelope sender's base when bounces come back to a mailbox of their own: each
    # message goes from LOCAL+TOKEN@DOMAIN of it (see returns.py); else from `from_address`.
    return_path: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Identity:
        """The identity the config file (or its defaults) gives."""
        from civic_contacts.after.returns import check_return_path

        configured = settings.bounces.get("return_path")
        return cls(
            return_path=check_return_path(str(configured)) if configured else None,
            organisation=settings.press_name,
            from_name=settings.press_name,
            from_address=settings.press_address,
            unsubscribe_mailto=settings.unsubscribe_mailto,
            unsubscribe_base_url=settings.unsubscribe_base_url,
            embargo_warning_minutes=settings.embargo_warning_minutes,
            message_id_domain=settings.message_id_domain,
        )


def check_identity(session: Session, settings: Settings, doing: str) -> None:
    """Refuse to build or send under a press identity that is missing or still an example,
    except in the demo's own registry (whose people and addresses are all invented)."""
    problems = settings.identity_problems()
    if problems and not registry.is_demo(session):
        raise ConfigError(
            f"{settings.config_file}: the press identity is not set up ({'; '.join(problems)});"
            f" nothing was {doing}",
            hint="run civic-contacts config init (or edit that file), then civic-contacts config check",
        )


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


def message_id(slug: str, email: str, domain: str) -> str:
    """A Message-ID that stays the same for this release and recipient."""
    digest = hashlib.sha256(f"{slug}\x00{email}".encode()).hexdigest()[:24]
    return f"<{slug}.{digest}@{domain}>"


_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,99}")


def file_name(email: str) -> str:
    """A safe file name for a recipient's message, the same on every build.

    An address made only of lower-case letters, digits and `._@-` (most of them) is its own
    name. Any other gets a readable part (other characters as `_`, at most 60) and `~` with a
    hash of the whole address, so `a+b@x.org` and `a_b@x.org` never share a file; `~` never
    appears in a plain name, so the two kinds never meet.
    """
    if _PLAIN_NAME.fullmatch(email):
        return email + ".eml"
    readable = re.sub(r"[^a-z0-9._@-]", "_", email.lower())[:60].lstrip(".")
    digest = hashlib.sha256(email.encode("utf-8")).hexdigest()[:12]
    return f"{readable}~{digest}.eml"


EXTENSION_WORD = " ext. "  # " poste " in French


class ContactBook:
    """Each press contact as messages show it and as a vCard 3.0 card, in a message's language
    (the role and the office's city translated when the registry has them), read once and
    kept as plain values."""

    def __init__(self, session: Session, organisation: str) -> None:
        contacts = registry.list_contacts(session)
        # A number is on WhatsApp or it is not: one shared by two contacts (a desk line) and
        # marked WhatsApp for one of them is shown as WhatsApp for both, in text and on cards.
        on_whatsapp = frozenset(
            p.e164 for c in contacts for p in c.phones if p.valid and p.e164 and p.whatsapp
        )
        self.names = {contact.name: contact.id for contact in contacts}
        self._views: dict[int, ContactView] = {}
        self._roles: dict[int, dict[str, str]] = {}
        self._cities: dict[int, dict[str, str]] = {}
        self._cards: dict[tuple[int, str], str] = {}
        for contact in contacts:
            phones = tuple(
                PhoneView(
                    display=format_international(p.e164)
                    + (f"{EXTENSION_WORD}{p.extension}" if p.extension else ""),
                    tel=tel_uri(p.e164, p.extension),
                    whatsapp_url=whatsapp_url(p.e164) if p.e164 in on_whatsapp else None,
                )
                for p in contact.phones
                if p.valid and p.e164
            )
            self._views[contact.id] = ContactView(
                contact.name, contact.role, contact.office.city, contact.email, phones
            )
            self._roles[contact.id] = dict(contact.roles or {})
            self._cities[contact.id] = dict(contact.office.cities or {})
            # The card as written, and one per language the role is translated into.
            for language in ("", *self._roles[contact.id]):
                self._cards[(contact.id, language)] = contact_card(
                    contact,
                    version="3.0",
                    organisation=organisation,
                    whatsapp=on_whatsapp,
                    language=language or None,
                )

    def view(self, contact_id: int, language: str) -> ContactView:
        """The contact as a message in `language` shows it."""
        view = self._views[contact_id]
        role = in_language(view.role, self._roles[contact_id], language)
        city = in_language(view.city, self._cities[contact_id], language)
        if (role, city) != (view.role, view.city):
            view = replace(view, role=role, city=city)
        if is_french(language) and any(EXTENSION_WORD in p.display for p in view.phones):
            phones = tuple(
                replace(p, display=p.display.replace(EXTENSION_WORD, " poste "))
                for p in view.phones
            )
            view = replace(view, phones=phones)
        return view

    def card(self, contact_id: int, language: str) -> str:
        """The contact's card for a message in `language`."""
        roles = self._roles[contact_id]
        chosen = next((key for key in (language, language.split("-")[0]) if roles.get(key)), "")
        return self._cards[(contact_id, chosen)]

    def contacts(self, ids: tuple[int, ...], language: str) -> tuple[ContactView, ...]:
        """The routed contacts of a message in `language`."""
        return tuple(self.view(i, language) for i in ids)

    def cards(self, ids: tuple[int, ...], language: str) -> str:
        """The attached card file of a message in `language` (all routed contacts)."""
        return "".join(self.card(i, language) for i in ids)


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


def _people(
    session: Session, release_id: int, outlet: str | None = None
) -> Iterator[tuple[str, list[tuple[Person, bool, Known | None]]]]:
    """The journalists a release goes to, outlet by outlet (by slug, then name), each with the
    Date of their earlier message, whether their address is suppressed, and the delivery they
    already have (read here, in the same pass, so that bringing a batch up to date needs no
    look-up per recipient).

    Streamed from the database a page at a time: the list is never held whole.
    """
    query = (
        select(
            Journalist.id,
            Journalist.name,
            Journalist.email,
            Outlet.slug,
            Journalist.language,
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
        .where(*_MAILED)
        .order_by(Outlet.slug, Journalist.name, Journalist.id)
    )
    if outlet is not None:
        query = query.where(Outlet.slug == outlet)
    rows = session.execute(query.execution_options(yield_per=PAGE))
    for slug, group in itertools.groupby(rows, key=lambda row: row[3]):
        yield (
            slug,
            [
                (
                    (routing.JournalistInfo(r[0], r[1], r[2], r[3], r[4]), r[6]),
                    r[5] is not None,
                    (r[7], r[8], r[9], r[10]) if r[7] is not None else None,
                )
                for r in group
            ],
        )


_MAILED = (Journalist.opted_out.is_(False), Journalist.archived_at.is_(None))
_NOT_SUPPRESSED = ~exists().where(Suppression.email == Journalist.email)


def audience_clause() -> ColumnElement[bool]:
    """True for a delivery whose address is still on the list: a journalist who has not
    opted out, is not archived and is not suppressed (for cancelling the others in SQL)."""
    return exists().where(Journalist.email == Delivery.email, *_MAILED, _NOT_SUPPRESSED)


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
    ) -> None:
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
        self.router = routing.Router(self.info, self.contacts, self.offices, options.max_contacts)
        self.secret = signing_secret()
        self.domain = identity.message_id_domain or domain_of(identity.from_address)

    def outlet(
        self, slug: str, people: list[Person]
    ) -> tuple[routing.OutletRouting, list[PlannedMessage]]:
        """The outlet's routing and one planned message per journalist given."""
        by_id = {person[0].id: person[1] for person in people}
        outlet_routing = self.router.route_outlet(self.outlets[slug], [p[0] for p in people])
        outlet_name, outlet_zone = self.zones[slug]
        identity = self.identity
        variants: dict[tuple[str, tuple[int, ...]], Variant] = {}
        messages = []
        for journalist_routing in outlet_routing.journalists:
            journalist = journalist_routing.journalist
            choice = journalist_routing.choice
            ids = tuple(c.id for c in journalist_routing.contacts)
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
            token = make_token(self.secret, journalist.email)
            built_at = by_id[journalist.id]
            recipient = Recipient(
                name=journalist.name,
                email=journalist.email,
                # The same for every build of this release to this person, and following the
                # sender's domain until the message is sent.
                message_id=message_id(self.slug, journalist.email, self.domain),
                date=built_at if built_at is not None else self.now,
                unsubscribe_mailto=mailto_link(identity.unsubscribe_mailto, token),
                unsubscribe_url=https_link(identity.unsubscribe_base_url, token, choice.language)
                if token and identity.unsubscribe_base_url
                else None,
            )
            messages.append(
                PlannedMessage(
                    journalist_id=journalist.id,
                    revision=self.revision,
                    outlet=slug,
                    variant=variant,
                    recipient=recipient,
                    reply_to=variant.contacts[0] if variant.contacts else None,
                    contact_names=tuple(c.name for c in variant.contacts),
                    fallback=choice.fallback,
                    path=f"{slug}/{file_name(journalist.email)}",
                    language_reason=choice.reason,
                    routed=tuple((c.name, c.reasons) for c in journalist_routing.contacts),
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
    planner = Planner(session, release, identity, options, embargo, now)
    listed = select(Journalist.email).join(Journalist.outlet).where(*_MAILED)
    plan.count = int(
        session.scalar(select(func.count()).select_from(listed.where(_NOT_SUPPRESSED).subquery()))
        or 0
    )
    plan.suppressed = list(
        session.scalars(
            listed.where(~_NOT_SUPPRESSED).order_by(Outlet.slug, Journalist.name, Journalist.id)
        )
    )
    with_people = session.scalars(
        select(Outlet.slug).where(exists().where(Journalist.outlet_id == Outlet.id, *_MAILED))
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
        seen: set[str] = set()
        for outlet_slug, people in _people(session, release.id):
            mailed = [person for person, suppressed, _known in people if not suppressed]
            outlet_routing, messages = planner.outlet(outlet_slug, mailed)
            known = {person[0].id: found for person, _s, found in people}
            for message in messages:
                message.known = known[message.journalist_id]
                message.looked_up = True
            seen.add(outlet_slug)
            plan.outlets.append(_summary(planner, outlet_routing, len(mailed)))
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

    plan.make = make
    return plan, planner


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


@dataclass
class BuiltMessage:
    """A rendered message and what the manifest says of it."""

    planned: PlannedMessage
    data: bytes
    content_hash: str
    subject: str


def render_message(planned: PlannedMessage, assembler: Assembler) -> BuiltMessage:
    """Render one planned message to bytes and check its headers on the way out."""
    data, subject = assembler.build(planned.variant, planned.recipient, planned.reply_to)
    check_headers(data, planned.recipient.email)
    return BuiltMessage(planned, data, hashlib.sha256(data).hexdigest(), subject)


@dataclass
class Reconciled:
    """What bringing a batch up to date did (or, in a dry run, would do)."""

    added: int = 0
    rerendered: int = 0
    cancelled: int = 0
    unchanged: int = 0
    kept_sent: int = 0
    kept_failed: int = 0
    in_progress: int = 0


class Reconciler:
    """Brings a batch's deliveries in line with what is planned now; sent ones are never touched.

    - a planned recipient with no delivery gets a pending one (`added`); one whose delivery was
      cancelled gets it back, pending again (also `added`);
    - a pending delivery whose message changed (text, language, outlet, routed contacts) is
      rendered again (`rerendered`);
    - a pending delivery whose journalist is no longer planned (removed, suppressed, opted out,
      no longer routed) is cancelled and never sent (`cancelled`);
    - sent and failed deliveries, and those another run is sending right now, stay as they are.

    Recipients are looked up a chunk at a time (`lookup`), new deliveries inserted in chunks
    and changed ones updated in bulk: recording a million messages holds one chunk, not the
    batch. Who is no longer planned is found in SQL when an `audience` clause is given (a
    release's list), else from the deliveries looked up (a notice's few). In a dry run
    nothing is written.
    """

    CHUNK = 1000

    def __init__(
        self,
        session: Session,
        release: Release,
        dry_run: bool = False,
        key: BatchKey | None = None,
        audience: ColumnElement[bool] | None = None,
    ) -> None:
        self.session = session
        self.release = release
        self.key = key or BatchKey(release.id)
        self.dry_run = dry_run
        self.audience = audience
        self.seen: set[int] = set()
        # Deliveries recorded before this run (those it inserts come after): only they can be
        # no longer planned.
        self.before = (
            session.scalar(select(func.max(Delivery.id)).where(self.key.where())) or 0
            if audience is None
            else 0
        )
        self.result = Reconciled()
        self.new_rows: list[dict[str, Any]] = []
        self.changed: dict[S, list[dict[str, Any]]] = {S.PENDING: [], S.CANCELLED: []}

    def lookup(self, emails: list[str]) -> dict[str, Known]:
        """The deliveries these recipients already have, in one query per 500."""
        found: dict[str, Known] = {}
        if not emails or (self.audience is None and self.before == 0):
            return found  # nothing was recorded before this run: every recipient is new
        for start in range(0, len(emails), 500):
            for row in self.session.execute(
                select(
                    Delivery.email,
                    Delivery.id,
                    Delivery.status,
                    Delivery.content_hash,
                    Delivery.revision,
                ).where(self.key.where(), Delivery.email.in_(emails[start : start + 500]))
            ):
                found[row[0]] = (row[1], row[2], row[3], row[4])
                if self.audience is None:
                    self.seen.add(row[1])
        return found

    def keep(self, known: Known) -> None:
        """Count a delivery kept as it is without rendering (pending, sent, failed or in flight:
        the sender checks a pending message's bytes against the recorded hash before it goes)."""
        if not self._kept(known[1]):
            self.result.unchanged += 1

    def _kept(self, status: str) -> bool:
        """Count a delivery that stays as it is because it was sent, failed or is in flight."""
        if status == S.SENT:
            self.result.kept_sent += 1
        elif status == S.FAILED:
            self.result.kept_failed += 1
        elif status == S.CLAIMED:
            self.result.in_progress += 1
        else:
            return False
        return True

    def record(self, built: BuiltMessage, known: Known | None) -> None:
        """Record one built message: a new or changed pending delivery, or nothing to do."""
        planned = built.planned
        values = {
            "outlet_slug": planned.outlet,
            "journalist_id": planned.journalist_id,
            "language": planned.variant.language,
            "contacts": list(planned.contact_names),
            "content_hash": built.content_hash,
            "embargo": planned.variant.embargo,
            "revision": planned.revision,
            "message_id": planned.recipient.message_id,
            "in_reply_to": planned.recipient.in_reply_to,
        }
        if known is None:
            self.new_rows.append(
                {
                    "release_id": self.release.id,
                    "notice_id": self.key.notice_id,
                    "email": planned.recipient.email,
                    "built_at": planned.recipient.date,
                    "status": S.PENDING.value,
                    "attempts": 0,
                    **values,
                }
            )
            self.result.added += 1
            if len(self.new_rows) >= self.CHUNK:
                self._flush()
            return
        delivery_id, status, content_hash, revision = known
        if self._kept(status):
            return
        if status == S.CANCELLED:
            self.changed[S.CANCELLED].append({"id": delivery_id, **values})
            self.result.added += 1
        elif content_hash != built.content_hash or revision != planned.revision:
            self.changed[S.PENDING].append({"id": delivery_id, **values})
            if content_hash != built.content_hash:
                self.result.rerendered += 1
            else:
                self.result.unchanged += 1
        else:
            self.result.unchanged += 1
        if sum(len(rows) for rows in self.changed.values()) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.dry_run:
            self.new_rows = []
            for rows in self.changed.values():
                rows.clear()
            return
        if self.new_rows:
            # Core, not ORM bulk: the rows are plain values and nothing needs them as objects.
            self.session.execute(insert(cast(Table, Delivery.__table__)), self.new_rows)
            self.new_rows = []
        connection = self.session.connection()
        for old, rows in self.changed.items():
            if not rows:
                continue
            # Guarded by the old status: a row another run has just claimed is left to it.
            keys = [k for k in rows[0] if k != "id"]
            statement = guarded(old, S.PENDING).where(Delivery.id == bindparam("b_id"))
            statement = statement.values({k: bindparam(f"b_{k}") for k in keys})
            connection.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])
            rows.clear()

    def finish(self) -> Reconciled:
        """Write what is left and cancel the pending deliveries no longer planned."""
        self._flush()
        pending = select(Delivery.id).where(self.key.where(), Delivery.status == S.PENDING.value)
        if self.audience is not None:
            gone = list(self.session.scalars(pending.where(~self.audience)))
        else:
            earlier = pending.where(Delivery.id <= self.before)
            gone = [i for i in self.session.scalars(earlier) if i not in self.seen]
        if gone and not self.dry_run:
            self.result.cancelled = move(self.session, gone, S.PENDING, S.CANCELLED)
        else:
            self.result.cancelled = len(gone)
        if not self.dry_run:
            self.session.flush()
        return self.result


def with_known(
    messages: Iterable[PlannedMessage], book: Reconciler
) -> Iterator[tuple[PlannedMessage, Known | None]]:
    """Each planned message with the delivery its recipient already has, looked up a chunk at a
    time."""
    chunk: list[PlannedMessage] = []

    def flush() -> Iterator[tuple[PlannedMessage, Known | None]]:
        known = book.lookup([m.recipient.email for m in chunk if not m.looked_up])
        for planned in chunk:
            yield (
                planned,
                planned.known if planned.looked_up else known.get(planned.recipient.email),
            )
        chunk.clear()

    for planned in messages:
        chunk.append(planned)
        if len(chunk) >= book.CHUNK:
            yield from flush()
    if chunk:
        yield from flush()


def _stored(session: Session, release: Release) -> Batch | None:
    return session.scalar(select(Batch).where(Batch.release_id == release.id))


def _describe(batch: Batch | None) -> dict[str, str]:
    if batch is None:
        return {}
    return {
        "templates": batch.templates or "(shipped)",
        "contacts per outlet": str(batch.max_contacts),
        "after the embargo": "yes" if batch.after_embargo else "no",
        "from": f"{batch.from_name} <{batch.from_address}>",
    }


def _store(
    session: Session,
    release: Release,
    options: BuildOptions,
    identity: Identity,
    outbox: Path | None,
    now: dt.datetime,
) -> tuple[Batch, list[str]]:
    """Record what the batch is built with; say what differs from the last build."""
    batch = _stored(session, release)
    before = _describe(batch)
    if batch is None:
        batch = Batch(release_id=release.id)
        session.add(batch)
    batch.templates = str(options.templates.resolve()) if options.templates else None
    batch.max_contacts = options.max_contacts
    batch.after_embargo = options.after_embargo
    batch.outbox = str(outbox) if outbox is not None else batch.outbox
    batch.from_name = identity.from_name
    batch.from_address = identity.from_address
    batch.revision = release.revision
    batch.built_at = now
    after = _describe(batch)
    changes = [
        f"{key}: {before[key]} -> {after[key]}"
        for key in after
        if before.get(key, after[key]) != after[key]
    ]
    return batch, changes


def built_with(
    session: Session, release: Release, settings: Settings
) -> tuple[BuildOptions, Identity]:
    """The options and identity the release's batch was last built with (the defaults and the
    configured identity when it was never built)."""
    identity = Identity.from_settings(settings)
    batch = _stored(session, release)
    if batch is None:
        return BuildOptions(), identity
    options = BuildOptions(
        after_embargo=batch.after_embargo,
        max_contacts=batch.max_contacts,
        templates=Path(batch.templates) if batch.templates else None,
    )
    return options, replace(identity, from_name=batch.from_name, from_address=batch.from_address)


@dataclass
class BuildReport:
    """What `build_batch` did (or, with `dry_run`, would do)."""

    release: str
    outbox: Path | None
    messages: int
    outlets: int
    recorded: Reconciled
    pending: int
    dry_run: bool
    warnings: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    fallback_count: int = 0
    gaps: list[str] = field(default_factory=list)
    changed_options: list[str] = field(default_factory=list)

    @property
    def preview(self) -> Path | None:
        """The preview page a person opens before sending."""
        return self.outbox / "preview.html" if self.outbox else None


def build_batch(
    session: Session,
    release: str,
    outbox: Path | None,
    options: BuildOptions,
    settings: Settings,
    progress: Progress | None = None,
) -> BuildReport:
    """Plan, render and record the release's batch and write its outbox, in the session's
    transaction (the caller commits); nothing is written to the outbox folder unless every
    message was built. With `options.dry_run` nothing is recorded or written."""
    now = options.now or utcnow()
    check_identity(session, settings, "built" if not options.dry_run else "checked")
    identity = Identity.from_settings(settings)
    renderer = Renderer(options.templates or settings.templates)
    version = registry.registry_version(session)
    plan, _planner = plan_batch(session, release, identity, options, now)
    assembler = Assembler(renderer)
    book = Reconciler(session, plan.release, dry_run=options.dry_run, audience=audience_clause())
    box = None if options.dry_run or outbox is None else Outbox(outbox)
    try:
        written = write_messages(plan, assembler, book, box, progress)
        recorded = book.finish()
        changed: list[str] = []
        if not options.dry_run and recorded.added + recorded.rerendered >= ANALYZE_AFTER:
            # The sends that follow claim through the batch's index: planned for the table as
            # it now is (PostgreSQL; the build's own rows are counted inside its transaction).
            analyze_now(session, ("deliveries",))
        if not options.dry_run:
            stored, changed = _store(
                session, plan.release, options, identity, box.folder if box else None, now
            )
            _remember_registry(stored, version, plan.count, plan.outlet_count)
        pending = 0 if options.dry_run else counts(session, BatchKey(plan.release.id))[S.PENDING]
        if box is not None:
            box.commit(render_preview(renderer, plan, box, command=options.send_command))
    except BaseException:
        if box is not None:
            box.abandon()
        raise
    if options.dry_run:
        pending = recorded.added + recorded.rerendered + recorded.unchanged
    return BuildReport(
        release=plan.release.slug,
        outbox=box.folder if box else None,
        messages=written,
        outlets=plan.outlet_count,
        recorded=recorded,
        pending=pending,
        dry_run=options.dry_run,
        warnings=plan.warnings,
        suppressed=plan.suppressed,
        fallbacks=plan.fallbacks,
        fallback_count=plan.fallback_count,
        gaps=plan.gaps,
        changed_options=changed,
    )


def write_messages(
    plan: BatchPlan,
    assembler: Assembler,
    book: Reconciler,
    box: Outbox | None,
    progress: Progress | None = None,
) -> int:
    """Render every planned message, record it in `book` and add it to `box` (when there is
    one); returns how many. Shared by batches and notices."""
    tick = progress or (lambda done, total: None)
    written = 0
    for planned, known in with_known(plan.messages(), book):
        built = render_message(planned, assembler)
        book.record(built, known)
        if box is not None:
            box.add(
                built,
                planned.fallback,
                functools.partial(assembler.html_for, planned.variant, planned.recipient),
            )
        written += 1
        if written % 50 == 0:
            tick(written, plan.count)
    tick(written, plan.count)
    return written


def send_command(release: str, notice: str | None = None) -> str:
    """The command that sends a built batch (or notice), as a person types it."""
    if notice:
        return f"civic-contacts notice send {release} --kind {notice} --yes"
    return f"civic-contacts batch send {release} --yes"


def render_preview(
    renderer: Renderer, plan: BatchPlan, box: Outbox, what: str = "", command: str = ""
) -> str:
    """The self-contained preview page: warnings, outlets, each message variant with its
    headers, attachments and routed contacts, and the command that sends them."""
    release = plan.release
    template = renderer.env.get_template("preview.html")
    return template.render(
        what=what,
        release=release,
        titles=[(t.language, t.title) for t in release.translations],
        embargo=plan.embargo,
        warnings=plan.warnings,
        gaps=plan.gaps,
        fallbacks=plan.fallbacks,
        fallback_count=plan.fallback_count,
        suppressed=plan.suppressed,
        outlets=plan.outlets,
        total=box.messages,
        variants=[(v, Markup(v.html)) for v in box.variants.values()],
        more_variants=box.more_variants,
        command=command or send_command(release.slug),
    )


# Sending: what is prepared before the first message goes --------------------------------------


@dataclass
class SendPlan:
    """A batch ready to send: its messages rendered on demand, and what is left to send."""

    key: BatchKey
    slug: str
    embargo: dt.datetime | None
    recipients: int
    outlets: int
    counts: dict[str, int]
    from_address: str
    warnings: list[str]
    source: Callable[[Claimed], bytes]
    recorded: Reconciled
    listing: list[tuple[str, str, str, str]] = field(default_factory=list)
    # The envelope sender's base (see Identity.return_path).
    return_path: str | None = None
    # Messages that must not go before this instant (the lift, for a `lifted` notice).
    not_before: dt.datetime | None = None
    what: str = "release"

    @property
    def pending(self) -> int:
        """Messages that this run (or another) may still send."""
        return self.counts[S.PENDING]


def prepare_send(
    session: Session,
    release: str,
    settings: Settings,
    after_embargo: bool,
    dry_run: bool,
    now: dt.datetime,
) -> SendPlan:
    """Get a batch ready to send with the options it was built with.

    A batch never built is recorded now with the default options. When the registry changed
    since the batch was last brought in line with it, new recipients get a delivery and ones
    no longer on the list are cancelled; when it did not, nothing is routed again and the send
    starts at once, whatever the list's size. Messages rendered from an older revision of the
    release are refused (building again re-renders them, for a look at the preview first).
    """
    lock_release(session, release)
    check_identity(session, settings, "sent")
    found = releases.get_release(session, release)
    releases.check_open(found, "built or sent")
    batch = _stored(session, found)
    options, identity = built_with(session, found, settings)
    configured = Identity.from_settings(settings)
    if batch is not None and (batch.from_name, batch.from_address) != (
        configured.from_name,
        configured.from_address,
    ):
        raise BatchConflict(
            f"the batch of {found.slug} was built From {batch.from_name} <{batch.from_address}>,"
            f" and the config now says {configured.from_name} <{configured.from_address}>;"
            " nothing was sent",
            hint=f"run: civic-contacts batch build {found.slug} --out DIR (unsent messages take the new identity)",
        )
    if batch is None:
        options.after_embargo = after_embargo
        if not dry_run:
            batch, _changes = _store(session, found, options, identity, None, now)
    elif after_embargo and not batch.after_embargo:
        raise BatchConflict(
            f"the batch of {found.slug} was built under embargo; its messages must be"
            " relabelled before they go out after the lift",
            hint=f"run: civic-contacts batch build {found.slug} --out DIR --after-embargo",
        )
    # A build renders every pending message from the release's revision of the moment and
    # records that revision on the batch; while the two agree there is nothing stale to look
    # for (the look reads every pending row: seconds at a million).
    stale = (
        None
        if batch is not None and batch.revision == found.revision
        else session.scalar(
            select(Delivery.id)
            .where(
                BatchKey(found.id).where(),
                Delivery.status == S.PENDING.value,
                Delivery.revision < found.revision,
            )
            .limit(1)
        )
    )
    if stale is not None:
        raise BatchConflict(
            f"messages of {found.slug} were rendered from an older revision of the release"
            f" (it is now at revision {found.revision}); nothing was sent",
            hint=f"run: civic-contacts batch build {found.slug} --out DIR (then check the preview)",
        )
    version = registry.registry_version(session)
    renderer = Renderer(options.templates or settings.templates)
    assembler = Assembler(renderer)
    key = BatchKey(found.id)
    listing: list[tuple[str, str, str, str]] = []
    current = (
        batch is not None
        and version is not None
        and batch.registry_version == version
        and batch.recipients is not None
        and batch.outlets is not None
    )
    if current:
        assert batch is not None and batch.recipients is not None and batch.outlets is not None
        # The deliveries already match the registry: nothing to route, nothing to render.
        embargo, warnings = check_embargo(
            found.embargo,
            now,
            options.after_embargo,
            found.slug,
            identity.embargo_warning_minutes,
        )
        planner = Planner(session, found, identity, options, embargo, now)
        recorded = Reconciled(unchanged=batch.recipients)
        recipients, outlets = batch.recipients, batch.outlets
    else:
        plan, planner = plan_batch(session, release, identity, options, now)
        embargo, warnings = plan.embargo, plan.warnings
        book = Reconciler(session, plan.release, dry_run=dry_run, audience=audience_clause())
        for planned, known in with_known(plan.messages(), book):
            if known is None or known[1] == S.CANCELLED:
                book.record(render_message(planned, assembler), known)
            else:
                book.keep(known)
            if dry_run and (known is None or known[1] in (S.PENDING, S.CANCELLED)):
                listing.append(
                    (
                        planned.outlet,
                        planned.recipient.email,
                        planned.variant.language,
                        planned.recipient.message_id,
                    )
                )
        recorded = book.finish()
        recipients, outlets = plan.count, plan.outlet_count
        if not dry_run and batch is not None:
            _remember_registry(batch, version, recipients, outlets)
    if dry_run and current:
        listing = [
            (row[0], row[1], row[2], row[3])
            for row in session.execute(
                select(Delivery.outlet_slug, Delivery.email, Delivery.language, Delivery.message_id)
                .where(key.where(), Delivery.status == S.PENDING.value)
                .order_by(Delivery.id)
            )
        ]
    found_counts = counts(session, key)
    if dry_run:
        found_counts[S.PENDING] = len(listing)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return SendPlan(
        key=key,
        slug=found.slug,
        embargo=embargo,
        recipients=recipients,
        outlets=outlets,
        counts=found_counts,
        from_address=identity.from_address,
        return_path=identity.return_path,
        warnings=warnings,
        source=OutletSource(
            engine, planner, assembler, Path(batch.outbox) if batch and batch.outbox else None
        ),
        recorded=recorded,
        listing=listing,
    )


def _remember_registry(batch: Batch, version: str | None, recipients: int, outlets: int) -> None:
    """Note that the batch's deliveries now match this version of the registry."""
    batch.registry_version = version
    batch.recipients = recipients
    batch.outlets = outlets


MessageSource = Callable[[Claimed], bytes]
"""The bytes of a claimed delivery's message, rendered on demand (called from send threads):
always the message that was built, checked against the hash recorded then (see `built`)."""


def built(data: bytes, claimed: Claimed) -> bytes:
    """`data` when it is the message recorded for the delivery (same SHA-256), else a
    `SendError`: something it is made from changed since the build."""
    if hashlib.sha256(data).hexdigest() != claimed.content_hash:
        raise SendError(
            f"the message for {claimed.email} is not the one built: the registry, the"
            " templates or the unsubscribe secret (kept beside the config file) changed"
            " since the batch was built; nothing more was sent",
            hint="run: civic-contacts batch build RELEASE --out DIR with the same config"
            " file, check the preview, send again",
        )
    return data


class PlannedSource:
    """Renders the messages of a plan held in memory (a notice's, which goes to those who were
    sent the release), on demand and thread-safe."""

    def __init__(self, plan: BatchPlan, assembler: Assembler) -> None:
        self.by_email = {m.recipient.email: m for m in plan.messages()}
        self.assembler = assembler
        self.lock = threading.Lock()

    def __call__(self, claimed: Claimed) -> bytes:
        planned = self.by_email.get(claimed.email)
        if planned is None:
            raise _gone(claimed.email)
        # The assembler caches shared parts; one builder at a time keeps that simple.
        with self.lock:
            data, _subject = self.assembler.build(
                planned.variant, planned.recipient, planned.reply_to
            )
        # No header check here: these bytes are the ones recorded when the message was built
        # (same hash), and those were checked then.
        return built(data, claimed)


def _gone(email: str) -> BatchConflict:
    return BatchConflict(
        f"{email} has a pending delivery but is no longer on the list; nothing more was sent",
        hint="run the send again: it cancels deliveries of people no longer on the list",
    )


class OutletSource:
    """A claimed delivery's message (thread-safe): the file the build wrote to the outbox when
    it is still there and its hash is the one recorded, else rendered again on demand,
    planning only its outlet.

    Deliveries are claimed in the order they were built, outlet after outlet, so keeping the
    last few outlets' plans is enough: a send of a million messages holds a handful of
    outlets, and its first message goes as soon as its outlet is planned.
    """

    KEEP = 16

    def __init__(
        self, engine: Engine, planner: Planner, assembler: Assembler, outbox: Path | None = None
    ) -> None:
        self.engine = engine
        self.planner = planner
        self.assembler = assembler
        self.outbox = str(outbox) if outbox is not None else None
        self.from_outbox = 0
        self.outlets: OrderedDict[str, dict[str, PlannedMessage]] = OrderedDict()
        self.lock = threading.Lock()

    def _outlet(self, slug: str) -> dict[str, PlannedMessage]:
        known = self.outlets.get(slug)
        if known is not None:
            self.outlets.move_to_end(slug)
            return known
        planned: dict[str, PlannedMessage] = {}
        with Session(self.engine) as session:
            for outlet_slug, people in _people(session, self.planner.release_id, slug):
                mailed = [person for person, suppressed, _known in people if not suppressed]
                _routing, messages = self.planner.outlet(outlet_slug, mailed)
                planned.update((m.recipient.email, m) for m in messages)
        self.outlets[slug] = planned
        if len(self.outlets) > self.KEEP:
            self.outlets.popitem(last=False)
        return planned

    def __call__(self, claimed: Claimed) -> bytes:
        if self.outbox is not None:
            try:
                with open(
                    os.path.join(self.outbox, claimed.outlet, file_name(claimed.email)), "rb"
                ) as handle:
                    data = handle.read()
            except OSError:
                pass
            else:
                if hashlib.sha256(data).hexdigest() == claimed.content_hash:
                    self.from_outbox += 1
                    return data
        with self.lock:
            planned = self._outlet(claimed.outlet).get(claimed.email)
            if planned is None:
                raise _gone(claimed.email)
            data, _subject = self.assembler.build(
                planned.variant, planned.recipient, planned.reply_to
            )
        return built(data, claimed)


# Where a batch stands -------------------------------------------------------------------------


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
    batch = _stored(session, found)
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
    from civic_contacts.after.returns import bounce_counts, release_alerts

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
