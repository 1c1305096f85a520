"""What is prepared before the first message of a send goes (`prepare_send`): the batch
checked against the release and the registry, and each claimed message's bytes found on
demand (`OutletSource`, `PlannedSource`), always the ones that were built."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from civic_contacts.compose.assemble import Assembler, content_hash
from civic_contacts.compose.templates import Renderer
from civic_contacts.config import Settings
from civic_contacts.deliver import approval
from civic_contacts.deliver.build import (
    built_with,
    remember_registry,
    render_message,
    store_batch,
    stored_batch,
)
from civic_contacts.deliver.ledger import BatchKey, Claimed, counts
from civic_contacts.deliver.plan import (
    BatchPlan,
    BuildOptions,
    PlannedMessage,
    Planner,
    S,
    audience_clause,
    lock_release,
    people_of,
    plan_batch,
)
from civic_contacts.deliver.recipients import Identity, check_identity, file_name
from civic_contacts.deliver.reconcile import Reconciled, Reconciler, with_known
from civic_contacts.errors import BatchConflict, SendError
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Delivery
from civic_contacts.releases import store as releases
from civic_contacts.releases.embargo import check_embargo


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
    # The release's revision the messages were rendered from: a send stops the moment the
    # release has another (moved, corrected, withdrawn), see `Sender`.
    revision: int = 1

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
    batch = stored_batch(session, found)
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
            batch, _changes = store_batch(session, found, options, identity, None, now)
    elif after_embargo and not batch.after_embargo:
        raise BatchConflict(
            f"the batch of {found.slug} was built under embargo; its messages must be"
            " relabelled before they go out after the lift",
            hint=f"run: civic-contacts batch build {found.slug} --out DIR --after-embargo",
        )
    if batch is not None and not dry_run:
        approval.check_may_send(session, settings, found, batch, now)
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
    templates = options.templates or settings.templates
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
        # Planned only if a message must be rendered again (its file gone from the outbox):
        # a send whose files are all there reads nothing more of the registry.
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        planner: Planner | Callable[[], Planner] = _planner_later(
            engine, found.slug, identity, options, embargo, now
        )
        assembler: Assembler | None = None
        recorded = Reconciled(unchanged=batch.recipients)
        recipients, outlets = batch.recipients, batch.outlets
    else:
        plan, planner = plan_batch(session, release, identity, options, now)
        assembler = Assembler(Renderer(templates))
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
            remember_registry(batch, version, recipients, outlets)
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
        revision=found.revision,
        slug=found.slug,
        embargo=embargo,
        recipients=recipients,
        outlets=outlets,
        counts=found_counts,
        from_address=identity.from_address,
        return_path=identity.return_path,
        warnings=warnings,
        source=OutletSource(
            engine,
            planner,
            assembler if assembler is not None else (lambda: Assembler(Renderer(templates))),
            Path(batch.outbox) if batch and batch.outbox else None,
        ),
        recorded=recorded,
        listing=listing,
    )


def _planner_later(
    engine: Engine,
    slug: str,
    identity: Identity,
    options: BuildOptions,
    embargo: dt.datetime | None,
    now: dt.datetime,
) -> Callable[[], Planner]:
    """A planner made when first needed, from the registry as it is then: what it renders is
    checked against the hash recorded at the build, so a change since is refused, not sent."""

    def make() -> Planner:
        with Session(engine) as session:
            return Planner(
                session, releases.get_release(session, slug), identity, options, embargo, now
            )

    return make


MessageSource = Callable[[Claimed], bytes]
"""The bytes of a claimed delivery's message, rendered on demand (called from send threads):
always the message that was built, checked against the hash recorded then (see `built`)."""


def built(data: bytes, claimed: Claimed) -> bytes:
    """`data` when it is the message recorded for the delivery (same SHA-256), else a
    `SendError`: something it is made from changed since the build."""
    if content_hash(data) != claimed.content_hash:
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
        self,
        engine: Engine,
        planner: Planner | Callable[[], Planner],
        assembler: Assembler | Callable[[], Assembler],
        outbox: Path | None = None,
    ) -> None:
        self.engine = engine
        # Either made already, or made when a message must first be rendered (under the lock).
        self._planner = planner
        self._assembler = assembler
        self.outbox = str(outbox) if outbox is not None else None
        self.from_outbox = 0
        self.outlets: OrderedDict[str, dict[str, PlannedMessage]] = OrderedDict()
        self.lock = threading.Lock()

    @property
    def planner(self) -> Planner:
        if not isinstance(self._planner, Planner):
            self._planner = self._planner()
        return self._planner

    @property
    def assembler(self) -> Assembler:
        if not isinstance(self._assembler, Assembler):
            self._assembler = self._assembler()
        return self._assembler

    def _outlet(self, slug: str) -> dict[str, PlannedMessage]:
        known = self.outlets.get(slug)
        if known is not None:
            self.outlets.move_to_end(slug)
            return known
        planned: dict[str, PlannedMessage] = {}
        with Session(self.engine) as session:
            for outlet_slug, people in people_of(session, self.planner.release_id, slug):
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
                if content_hash(data) == claimed.content_hash:
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
