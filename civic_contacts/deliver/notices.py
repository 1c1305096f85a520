"""Follow-ups to a release, sent from the delivery record: embargo moved, release cancelled,
text corrected, a reminder before the lift, and the lift itself.

A notice goes to exactly the journalists who were sent the release (its sent deliveries),
minus those suppressed or opted out since, each in the language and time zone of their
original, with the contacts of their original (not routed again), threaded to it
(`In-Reply-To` and `References`). It is a batch of its own: its deliveries live in the same
ledger (`ledger.BatchKey` with the notice's id), so claiming, resuming after a kill, two
senders and rate limits work as for the release.

A notice is for one revision of the release; building one for a newer revision cancels what
was still pending of the same kind for older ones, and sending a notice built for an older
revision is refused. Who needs what is worked out from what each journalist was last told:

- `moved`: those whose last message (the original, or an earlier `moved`) gave another lift;
- `correction`: those whose last text (the original, or an earlier correction) differs, in
  their language, from the text now; the message says what changed, paragraph by paragraph;
- `cancelled`, `reminder`, `lifted`: everyone who was sent the release.

Building `cancelled` withdraws the release (a revision of its own): its unsent messages and
other notices are cancelled and nothing but the cancellation can be sent any more, so nobody
ever gets a `moved` after a `cancelled`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.compose.assemble import Assembler
from civic_contacts.compose.outbox import Outbox
from civic_contacts.compose.templates import NoticeContext, Renderer, Variant
from civic_contacts.config import Settings
from civic_contacts.db import utcnow
from civic_contacts.deliver import approval
from civic_contacts.deliver.build import (
    BuildReport,
    built_with,
    render_message,
    render_preview,
    send_command,
    write_messages,
)
from civic_contacts.deliver.ledger import BatchKey, counts, move
from civic_contacts.deliver.notice_rules import (
    K,
    NoticeKind,
    S,
    audience,
    check_allowed,
    current_notice,
    latest_notice,
    originals,
    parse_kind,
)
from civic_contacts.deliver.plan import (
    BatchPlan,
    BuildOptions,
    OutletSummary,
    PlannedMessage,
    Progress,
    lock_release,
)
from civic_contacts.deliver.prepare import PlannedSource, SendPlan
from civic_contacts.deliver.recipients import (
    Addressing,
    ContactBook,
    Identity,
    check_identity,
    file_name,
)
from civic_contacts.deliver.reconcile import Reconciler, with_known
from civic_contacts.errors import BatchConflict
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Delivery, Journalist, Notice, Release
from civic_contacts.releases import store as releases


def withdraw(session: Session, release: Release, now: dt.datetime) -> None:
    """Cancel the release: a revision of its own; its unsent messages and the unsent messages
    of its other notices are cancelled; the calendar entry's SEQUENCE rises."""
    release.cancelled_at = now
    release.embargo_sequence += 1
    release.revision += 1
    session.flush()
    releases.record_revision(
        session,
        release,
        releases.Changes(summary=["cancelled: journalists told not to publish"], cancelled=True),
        now,
    )
    pending = session.scalars(
        select(Delivery.id).where(
            Delivery.release_id == release.id, Delivery.status == S.PENDING.value
        )
    ).all()
    move(session, pending, S.PENDING, S.CANCELLED)


def plan_notice(
    session: Session,
    release: Release,
    notice: Notice,
    kind: NoticeKind,
    identity: Identity,
    now: dt.datetime,
) -> BatchPlan:
    """One planned message per journalist in the notice's audience."""
    people = audience(session, release, kind, but_not=notice.id)
    outlets = {o.slug: o for o in registry.list_outlets(session)}
    book = ContactBook(session, identity.organisation)
    names = {
        j.id: j.name
        for j in session.scalars(
            select(Journalist).where(
                Journalist.id.in_([o.journalist_id for o, _c in people if o.journalist_id])
            )
        )
    }
    texts = {
        t.language: (
            t.title,
            t.dateline,
            releases.message_body(t.body, release.keep_contact_block),
        )
        for t in release.translations
    }
    existing = {
        email: built_at
        for email, built_at in session.execute(
            select(Delivery.email, Delivery.built_at).where(BatchKey(release.id, notice.id).where())
        )
    }
    lift = release.embargo
    if kind == K.LIFTED or (kind == K.CORRECTION and (lift is None or lift <= now)):
        shown: dt.datetime | None = None
    else:
        shown = lift
    addressing = Addressing(identity)
    plan = BatchPlan(release=release, embargo=shown)
    summaries: dict[tuple[str, str], OutletSummary] = {}
    for original, _change in people:
        outlet = outlets.get(original.outlet)
        key = (original.outlet, original.language)
        summary = summaries.get(key)
        if summary is None:
            summary = OutletSummary(
                original.outlet,
                outlet.name if outlet else original.outlet,
                outlet.country if outlet else "",
                original.language,
                False,
                0,
                tuple(original.contacts),
            )
            summaries[key] = summary
        summary.recipients += 1
    plan.outlets = list(summaries.values())
    plan.count = len(people)
    slug, sequence, revision = release.slug, release.embargo_sequence, release.revision
    link = release.link

    def make() -> Iterator[PlannedMessage]:
        variants: dict[Any, Variant] = {}
        for original, change in people:
            outlet = outlets.get(original.outlet)
            zone = outlet.timezone if outlet else "UTC"
            outlet_name = outlet.name if outlet else original.outlet
            language = original.language if original.language in texts else next(iter(texts))
            chosen = tuple(book.names[n] for n in original.contacts if n in book.names)
            key = (
                language,
                original.outlet,
                chosen,
                original.embargo,
                change,
            )
            variant = variants.get(key)
            if variant is None:
                title, dateline, body = texts[language]
                variant = Variant(
                    release_slug=slug,
                    language=language,
                    title=title,
                    dateline=dateline,
                    body_markdown=body,
                    embargo=shown,
                    embargo_sequence=sequence,
                    outlet_name=outlet_name,
                    outlet_timezone=zone,
                    contacts=book.contacts(chosen, language),
                    vcard=book.cards(chosen, language),
                    organisation=identity.organisation,
                    from_name=identity.from_name,
                    from_address=identity.from_address,
                    notice=NoticeContext(
                        kind=kind.value,
                        lift=lift,
                        previous_lift=original.told_embargo,
                        moment=now,
                        link=link,
                        title_changed=bool(change and change.title),
                        dateline_changed=bool(change and change.dateline),
                        changes=tuple(
                            (c.kind, c.number, c.text, c.old, c.marks)
                            for c in (change.paragraphs if change else ())
                        ),
                    ),
                )
                variants[key] = variant
            recipient = addressing.recipient(
                name=names.get(original.journalist_id or 0, ""),
                email=original.email,
                key=f"{slug}.{kind.value}.{revision}",
                date=existing.get(original.email) or now,
                language=language,
                in_reply_to=original.message_id,
            )
            yield PlannedMessage(
                journalist_id=original.journalist_id or 0,
                revision=revision,
                outlet=original.outlet,
                variant=variant,
                recipient=recipient,
                reply_to=variant.contacts[0] if variant.contacts else None,
                contact_names=tuple(v.name for v in variant.contacts),
                fallback=False,
                language_reason="the language of the message it follows",
                routed=tuple(
                    (v.name, ("routed to the message it follows",)) for v in variant.contacts
                ),
                path=f"{original.outlet}/{file_name(original.email)}",
            )

    plan.make = make
    return plan


def _open_notice(
    session: Session,
    release: Release,
    kind: NoticeKind,
    identity: Identity,
    options: BuildOptions,
    outbox: Path | None,
    now: dt.datetime,
) -> Notice:
    """The notice of this kind for the release's current revision, created when new; pending
    messages of the same kind for older revisions are cancelled."""
    notice = current_notice(session, release, kind)
    if notice is None:
        notice = Notice(
            release_id=release.id,
            kind=kind.value,
            revision=release.revision,
            sequence=release.embargo_sequence,
            from_name=identity.from_name,
            from_address=identity.from_address,
            created_at=now,
            built_at=now,
        )
        session.add(notice)
    notice.templates = str(options.templates.resolve()) if options.templates else None
    notice.outbox = str(outbox) if outbox is not None else notice.outbox
    notice.from_name = identity.from_name
    notice.from_address = identity.from_address
    notice.built_at = now
    approval.mark_built(session, release, notice)
    session.flush()
    older = session.scalars(
        select(Delivery.id)
        .join(Notice, Notice.id == Delivery.notice_id)
        .where(
            Notice.release_id == release.id,
            Notice.kind == kind.value,
            Notice.revision < release.revision,
            Delivery.status == S.PENDING.value,
        )
    ).all()
    move(session, older, S.PENDING, S.CANCELLED)
    return notice


def _release(session: Session, slug: str) -> Release:
    lock_release(session, slug)
    return releases.get_release(session, slug)


@dataclass
class NoticeReport(BuildReport):
    """What `build_notice` did (or would do)."""

    kind: str = ""
    revision: int = 0
    withdrawn: bool = False


def build_notice(
    session: Session,
    release: str,
    kind: NoticeKind | str,
    outbox: Path | None,
    options: BuildOptions,
    settings: Settings,
    progress: Progress | None = None,
) -> NoticeReport:
    """Plan, render and record a notice of the release for its current revision and write
    its outbox (with preview.html), in the session's transaction (the caller commits).

    Building `cancelled` withdraws the release (see the module's notes). With
    `options.dry_run` nothing is written, and the session is rolled back at the end.
    """
    kind = parse_kind(kind) if isinstance(kind, str) else kind
    now = options.now or utcnow()
    check_identity(session, settings, "built" if not options.dry_run else "checked")
    found = _release(session, release)
    check_allowed(found, kind, now, sending=False)
    identity = Identity.from_settings(settings)
    withdrawn = False
    if kind == K.CANCELLED and found.cancelled_at is None:
        if not originals(session, found):
            raise BatchConflict(
                f"nobody was sent {found.slug} yet, so there is nobody to tell; nothing was done",
                hint=f"to stop it, remove it: civic-contacts release remove {found.slug}",
            )
        withdrawn = True
        withdraw(session, found, now)
    if options.templates is None:
        # The release's own templates, so the notice looks like what the journalist got.
        options = replace(options, templates=built_with(session, found, settings)[0].templates)
    notice = _open_notice(session, found, kind, identity, options, outbox, now)
    renderer = Renderer(options.templates or settings.templates)
    plan = plan_notice(session, found, notice, kind, identity, now)
    assembler = Assembler(renderer)
    book = Reconciler(session, found, dry_run=options.dry_run, key=BatchKey(found.id, notice.id))
    box = None if options.dry_run or outbox is None else Outbox(outbox)
    try:
        written = write_messages(plan, assembler, book, box, progress)
        recorded = book.finish()
        if box is not None:
            command = options.send_command or send_command(found.slug, kind.value)
            box.commit(
                render_preview(renderer, plan, box, f"the {kind} notice of {found.slug}", command)
            )
    except BaseException:
        if box is not None:
            box.abandon()
        raise
    key = BatchKey(found.id, notice.id)
    if options.dry_run:
        pending = recorded.added + recorded.rerendered + recorded.unchanged
        session.rollback()  # the notice row and the withdrawal were only for planning
    else:
        pending = counts(session, key)[S.PENDING]
    return NoticeReport(
        release=found.slug,
        outbox=box.folder if box else None,
        messages=written,
        outlets=len({o.slug for o in plan.outlets}),
        recorded=recorded,
        pending=pending,
        dry_run=options.dry_run,
        kind=kind.value,
        revision=found.revision,
        withdrawn=withdrawn,
    )


def prepare_notice_send(
    session: Session,
    release: str,
    kind: NoticeKind,
    settings: Settings,
    dry_run: bool,
    now: dt.datetime,
) -> SendPlan:
    """Get the notice for the release's current revision ready to send: its audience is worked
    out again (someone suppressed since is cancelled) and every unsent message rendered now."""
    check_identity(session, settings, "sent")
    found = _release(session, release)
    check_allowed(found, kind, now, sending=True)
    notice = current_notice(session, found, kind)
    if notice is None:
        latest = latest_notice(session, found, kind)
        problem = (
            f"the {kind} notice of {found.slug} was built for revision {latest.revision}, and"
            f" the release is now at revision {found.revision}"
            if latest is not None
            else f"no {kind} notice of {found.slug} was built for revision {found.revision}"
        )
        raise BatchConflict(
            f"{problem}; nothing was sent",
            hint=f"run: civic-contacts notice build {found.slug} --kind {kind} --out DIR"
            " (then check the preview)",
        )
    configured = Identity.from_settings(settings)
    if (notice.from_name, notice.from_address) != (configured.from_name, configured.from_address):
        raise BatchConflict(
            f"the {kind} notice of {found.slug} was built From {notice.from_name}"
            f" <{notice.from_address}>, and the config now says {configured.from_name}"
            f" <{configured.from_address}>; nothing was sent",
            hint=f"run: civic-contacts notice build {found.slug} --kind {kind} --out DIR",
        )
    if not dry_run:
        approval.check_may_send(session, settings, found, notice, now)
    identity = replace(configured, from_name=notice.from_name, from_address=notice.from_address)
    renderer = Renderer(Path(notice.templates) if notice.templates else settings.templates)
    plan = plan_notice(session, found, notice, kind, identity, now)
    assembler = Assembler(renderer)
    key = BatchKey(found.id, notice.id)
    book = Reconciler(session, found, dry_run=dry_run, key=key)
    listing: list[tuple[str, str, str, str]] = []
    for planned, known in with_known(plan.messages(), book):
        email = planned.recipient.email
        status = known[1] if known is not None else S.PENDING
        if status in (S.PENDING, S.CANCELLED):
            # Rendered now: a reminder counts down from this moment.
            book.record(render_message(planned, assembler), known)
            if dry_run:
                listing.append(
                    (planned.outlet, email, planned.variant.language, planned.recipient.message_id)
                )
        else:
            assert known is not None
            book.keep(known)
    recorded = book.finish()
    found_counts = counts(session, key)
    if dry_run:
        found_counts[S.PENDING] = len(listing)
    return SendPlan(
        key=key,
        revision=found.revision,
        slug=found.slug,
        embargo=plan.embargo,
        recipients=plan.count,
        outlets=len({o.slug for o in plan.outlets}),
        counts=found_counts,
        from_address=identity.from_address,
        return_path=identity.return_path,
        warnings=[],
        source=PlannedSource(plan, assembler),
        recorded=recorded,
        listing=listing,
        not_before=found.embargo if kind == K.LIFTED else None,
        what=f"{kind} notice",
    )
