"""Building a batch (`build_batch`): plan, render, record and write the outbox and its
preview, in the caller's transaction. What a batch was built with (templates, contacts per
outlet, relabelling after the lift, the outbox, the sender's identity) is stored with it, so
sending and testing use exactly that (`built_with`)."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.compose.assemble import Assembler, content_hash
from civic_contacts.compose.outbox import BuiltMessage, Outbox, preview_key
from civic_contacts.compose.templates import Renderer
from civic_contacts.config import Settings
from civic_contacts.db import analyze_now, utcnow
from civic_contacts.deliver import approval
from civic_contacts.deliver.ledger import BatchKey, counts
from civic_contacts.deliver.plan import (
    ANALYZE_AFTER,
    BatchPlan,
    BuildOptions,
    PlannedMessage,
    Progress,
    S,
    audience_clause,
    plan_batch,
)
from civic_contacts.deliver.recipients import Identity, check_identity
from civic_contacts.deliver.reconcile import Known, Reconciled, Reconciler, with_known
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Batch, Release

if TYPE_CHECKING:
    from civic_contacts.compose.render_worker import RenderWorker, Result


def render_message(planned: PlannedMessage, assembler: Assembler) -> BuiltMessage:
    """Render one planned message to bytes (its headers checked on the way out)."""
    data, subject = assembler.build(planned.variant, planned.recipient, planned.reply_to)
    return BuiltMessage(planned, data, content_hash(data), subject)


def stored_batch(session: Session, release: Release) -> Batch | None:
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


def store_batch(
    session: Session,
    release: Release,
    options: BuildOptions,
    identity: Identity,
    outbox: Path | None,
    now: dt.datetime,
) -> tuple[Batch, list[str]]:
    """Record what the batch is built with; say what differs from the last build."""
    batch = stored_batch(session, release)
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
    approval.mark_built(session, release, batch)
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
    batch = stored_batch(session, release)
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
    left_out: list[str] = field(default_factory=list)
    left_out_count: int = 0
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
        recorded = book.finish(also=plan.dropped)
        changed: list[str] = []
        if not options.dry_run and recorded.added + recorded.rerendered >= ANALYZE_AFTER:
            # The sends that follow claim through the batch's index: planned for the table as
            # it now is (PostgreSQL; the build's own rows are counted inside its transaction).
            analyze_now(session, ("deliveries",))
        if not options.dry_run:
            stored, changed = store_batch(
                session, plan.release, options, identity, box.folder if box else None, now
            )
            remember_registry(stored, version, plan.count, plan.outlet_count)
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
        left_out=plan.left_out,
        left_out_count=plan.left_out_count,
        gaps=plan.gaps,
        changed_options=changed,
    )


# From this many messages a build assembles and writes them in a second process while this one
# plans and records (see `compose.render_worker`): below it, the second interpreter's start
# would cost more than it saves.
SECOND_PROCESS_FROM = 2_000
# The cores this process may run on: with one, a second process only adds its start.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
# Messages handed to the second process and not yet recorded here, at most (memory stays a
# chunk's whatever the batch's size).
IN_FLIGHT = 4_096


def write_messages(
    plan: BatchPlan,
    assembler: Assembler,
    book: Reconciler,
    box: Outbox | None,
    progress: Progress | None = None,
) -> int:
    """Render every planned message, record it in `book` and add it to `box` (when there is
    one); returns how many. Shared by batches and notices."""
    if box is not None and plan.count >= SECOND_PROCESS_FROM and CORES > 1:
        worker = box.start_worker(assembler.renderer.templates)
        if worker is not None:
            return _write_in_two(plan, worker, book, box, progress)
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


def _write_in_two(
    plan: BatchPlan,
    worker: RenderWorker,
    book: Reconciler,
    box: Outbox,
    progress: Progress | None,
) -> int:
    """`write_messages` with the messages assembled and written by the second process, in the
    plan's order: each is recorded, and its manifest line written, when its hash comes back."""
    tick = progress or (lambda done, total: None)
    waiting: deque[tuple[PlannedMessage, Known | None]] = deque()
    asked: set[tuple[str, str, tuple[str, ...]]] = set()
    written = 0

    def take(results: list[Result]) -> None:
        nonlocal written
        for digest, subject, data, html in results:
            planned, known = waiting.popleft()
            built = BuiltMessage(planned, data or b"", digest, subject)
            book.record(built, known)
            box.note(built, planned.fallback, functools.partial(str, html or ""))
            written += 1
            if written % 50 == 0:
                tick(written, plan.count)

    try:
        for planned, known in with_known(plan.messages(), book):
            # Only the first message of each of the preview's variants comes back whole.
            key = preview_key(planned)
            preview = key not in asked and box.wants_preview(key)
            if preview:
                asked.add(key)
            worker.add(planned.variant, planned.recipient, planned.reply_to, planned.path, preview)
            waiting.append((planned, known))
            for results in worker.results(wait=len(waiting) > IN_FLIGHT):
                take(results)
        for results in worker.finish():
            take(results)
    except OSError as exc:
        raise box.unwritable(exc) from None
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
        left_out=plan.left_out,
        left_out_count=plan.left_out_count,
        outlets=plan.outlets,
        total=box.messages,
        variants=[(v, Markup(v.html)) for v in box.variants.values()],
        more_variants=box.more_variants,
        command=command or send_command(release.slug),
    )


def remember_registry(batch: Batch, version: str | None, recipients: int, outlets: int) -> None:
    """Note that the batch's deliveries now match this version of the registry."""
    batch.registry_version = version
    batch.recipients = recipients
    batch.outlets = outlets
