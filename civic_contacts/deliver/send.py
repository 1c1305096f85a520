"""Sending: the entry points (`send_batch`, `send_notice`, `send_test`) and the rules the
organisation depends on, applied here so that the command line, the desk and a library
caller all obey them: its rate, which a caller can only lower, and the pre-send check
(`doctor`'s DNS checks), which only an explicit `skip_doctor` passes by.

`send_batch` gets the batch ready (`prepare.prepare_send`), checks that the transport can be
reached before anything is claimed, then hands the run to the workers (`sender.Sender`).
A scheduled send (`--at`) is refused when it could not finish before the lift.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from civic_contacts.compose.assemble import Assembler
from civic_contacts.compose.mime import check_headers
from civic_contacts.compose.templates import Renderer
from civic_contacts.config import Settings
from civic_contacts.db import check_same_file, file_identity, utcnow
from civic_contacts.deliver import build, notices, prepare, recipients, status
from civic_contacts.deliver.ledger import BatchKey, DeliveryStatus, counts, release_dead_claims
from civic_contacts.deliver.notice_rules import parse_kind
from civic_contacts.deliver.plan import Progress, plan_batch
from civic_contacts.deliver.prepare import SendPlan
from civic_contacts.deliver.recipients import Addressing
from civic_contacts.deliver.sender import Sender, SendOptions, SendReport, release_changed
from civic_contacts.deliver.smtp import SmtpTransport
from civic_contacts.deliver.transport import (
    Permanent,
    Transient,
    Transport,
    Unreachable,
)
from civic_contacts.errors import ConfigError, InputError, SendError
from civic_contacts.registry import store as registry
from civic_contacts.registry.addresses import normalise_email
from civic_contacts.registry.models import Delivery, Release
from civic_contacts.releases import store as releases

S = DeliveryStatus

Confirm = Callable[[SendPlan], bool]


def organisation_rate(organisation: float | None, asked: float | None) -> float | None:
    """The rate a send runs at: the organisation's ([send] rate, held over every sender and
    restart), which a caller can only lower."""
    rates = [r for r in (organisation, asked) if r]
    return min(rates) if rates else None


def with_policy(options: SendOptions, settings: Settings) -> SendOptions:
    """The options as the organisation allows them: its rate (a caller can only lower it),
    and its per-domain pace when the caller names none."""
    return replace(
        options,
        rate=organisation_rate(settings.send_rate, options.rate),
        per_domain_rate=settings.per_domain_rate
        if options.per_domain_rate is None
        else options.per_domain_rate,
    )


def check_before_sending(
    session: Session,
    settings: Settings,
    transport: Transport,
    dns_server: str | None = None,
) -> None:
    """The pre-send check: the press identity, then the fast part of `doctor` (DNS only);
    a failure raises `ConfigError` naming each failed check. The demo's own registry, whose
    addresses are all invented, is not checked."""
    if registry.is_demo(session):
        return
    recipients.check_identity(session, settings, "sent")
    from civic_contacts.deliver.doctor import run_doctor

    # Only a relay has DNS of its own to check; a transport in memory sends nowhere.
    relay = transport if isinstance(transport, SmtpTransport) else None
    report = run_doctor(settings, relay, dns_server, relay=False)
    if report.failed:
        raise ConfigError(
            "mailbox providers would refuse or hide this mail: "
            + "; ".join(f"{c.name}: {c.detail}" for c in report.failed)
            + "; nothing was sent",
            hint="civic-contacts doctor says how to fix each; --skip-doctor sends anyway",
        )


def _checked(
    session: Session, options: SendOptions, settings: Settings, transport: Transport
) -> SendOptions:
    """The organisation's rules before a send: its rate, and the pre-send check unless the
    caller skipped it by name (a dry run sends nothing and is not checked)."""
    if not options.dry_run and not options.skip_doctor:
        check_before_sending(session, settings, transport, options.dns_server)
    return with_policy(options, settings)


def send_batch(
    session: Session,
    release: str,
    transport: Transport,
    options: SendOptions,
    settings: Settings,
    progress: Progress | None = None,
    confirm: Confirm | None = None,
) -> SendReport:
    """Send the release's pending messages, each exactly once, with the options the batch was
    built with.

    The batch is brought up to date and committed first (the ledger is shared with every
    other sender, so this function commits the session it is given); `confirm`, when given,
    sees what will go out and may say no. A server that cannot be reached stops the run before
    anything is claimed. The organisation's rate and the pre-send check apply (see
    `with_policy`, `check_before_sending`); `options.skip_doctor` is the one way past the check.
    """
    options = _checked(session, options, settings, transport)
    now = options.clock()
    plan = prepare.prepare_send(
        session, release, settings, options.after_embargo, options.dry_run, now
    )
    return _send(session, plan, now, transport, options, progress, confirm)


def send_notice(
    session: Session,
    release: str,
    kind: str,
    transport: Transport,
    options: SendOptions,
    settings: Settings,
    progress: Progress | None = None,
    confirm: Confirm | None = None,
) -> SendReport:
    """Send the pending messages of the release's notice of this kind (built for its current
    revision), each exactly once, as `send_batch` does for the release itself.

    Who gets it is worked out again first: someone suppressed since the build is cancelled.
    A reminder is rendered now, so it counts down from the moment it goes.
    """
    options = _checked(session, options, settings, transport)
    now = options.clock()
    plan = notices.prepare_notice_send(
        session, release, parse_kind(kind), settings, options.dry_run, now
    )
    return _send(session, plan, now, transport, options, progress, confirm)


SCHEDULE_MARGIN = dt.timedelta(minutes=30)


def check_batch_schedule(
    session: Session,
    release: str,
    at: dt.datetime,
    rate: float | None,
    margin: dt.timedelta = SCHEDULE_MARGIN,
) -> int:
    """Refuse a scheduled send that could not finish before the lift (minus `margin`) at
    `rate`, naming the rate that would; returns how many messages are left to send."""
    found = releases.get_release(session, release)
    left = status.batch_status(session, release).counts[S.PENDING]
    lift = found.embargo
    if lift is None or not left:
        return left
    deadline = lift - margin
    if at >= deadline:
        raise InputError(
            f"--at {at:%Y-%m-%d %H:%M} UTC is less than {_minutes(margin)} before the lift of"
            f" {found.slug} ({lift:%Y-%m-%d %H:%M} UTC); nothing was scheduled"
        )
    if rate:
        needs = dt.timedelta(seconds=left / rate)
        if at + needs > deadline:
            enough = left / (deadline - at).total_seconds()
            raise InputError(
                f"{left} messages at {rate:g} per second take {_minutes(needs)}: started at"
                f" {at:%H:%M} UTC they would not finish {_minutes(margin)} before the lift"
                f" ({lift:%Y-%m-%d %H:%M} UTC); nothing was scheduled",
                hint=f"start earlier, or use --rate {enough:.1f} or more",
            )
    return left


def _minutes(delta: dt.timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def wait_until(
    at: dt.datetime,
    clock: Callable[[], dt.datetime] = utcnow,
    show: Callable[[dt.timedelta], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return at `at`, calling `show` with the time left about once a second."""
    while True:
        left = at - clock()
        if left <= dt.timedelta(0):
            return
        if show is not None:
            show(left)
        sleep(min(left.total_seconds(), 1.0))


def _send(
    session: Session,
    plan: SendPlan,
    now: dt.datetime,
    transport: Transport,
    options: SendOptions,
    progress: Progress | None,
    confirm: Confirm | None,
) -> SendReport:
    """Run a prepared plan: preflight the server, confirm, then send with N workers."""
    report = SendReport(
        release=plan.slug,
        plan=plan,
        dry_run=options.dry_run,
        rate=options.rate,
        limit=options.limit,
    )
    if options.dry_run:
        session.rollback()
        report.final = dict(plan.counts)
        return report
    if release_dead_claims(session, plan.key, now):
        # Claims given back are pending again: counted anew (prepare's count is otherwise
        # a moment old, as any count is while another run sends).
        session.commit()
        plan.counts = counts(session, plan.key)
    session.commit()
    report.final = dict(plan.counts)
    if plan.pending == 0:
        return report
    first = transport.connect()
    try:
        first.open()
    except Unreachable as exc:
        raise SendError(f"{exc}; nothing was sent", hint=transport.reach_hint()) from None
    if confirm is not None and not confirm(plan):
        first.close()
        report.stopped = "not confirmed; nothing was sent"
        return report
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    database = file_identity(engine)
    total = min(plan.pending, options.limit) if options.limit else plan.pending
    tick = progress or (lambda done, total: None)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        tick(done, total)

    Sender(engine, plan, transport, options, advance, report).run(first)
    check_same_file(database, f"sending ({report.sent} messages were handed to the server)")
    session.expire_all()
    report.suppressed = suppress_refused(session, plan.key)
    report.final = counts(session, plan.key)
    if report.stopped is None and report.final.get(S.PENDING):
        # The claims found nothing more of this revision: say why, when that is the reason.
        found = session.get(Release, plan.key.release_id)
        if found is not None:
            report.stopped = release_changed(
                plan, found.revision, found.cancelled_at is not None, found.archived_at is not None
            )
    session.commit()
    return report


@dataclass
class TestSent:
    """One test message that the server took."""

    address: str
    journalist: str
    outlet: str
    language: str
    subject: str
    reply: str


def send_test(
    session: Session,
    release: str,
    transport: Transport,
    to: list[str],
    settings: Settings,
    as_email: str | None = None,
    outlet: str | None = None,
    now: dt.datetime | None = None,
) -> list[TestSent]:
    """Send one journalist's message (`as_email`, else the first of `outlet`, else the first of
    the batch) to test addresses: "[TEST]" in the subject, To the test address, an unsubscribe
    link for the test address only, the same header checks as a real message; nothing recorded.
    """
    moment = now or utcnow()
    recipients.check_identity(session, settings, "sent")
    addresses = [normalise_email(a) for a in to]
    blocked = sorted(set(addresses) & registry.suppressed_emails(session))
    if blocked:
        raise InputError(
            f"{', '.join(blocked)} is suppressed and never receives anything, tests included"
        )
    found = releases.get_release(session, release)
    options, identity = build.built_with(session, found, settings)
    plan, _planner = plan_batch(session, release, identity, options, moment)
    wanted = normalise_email(as_email) if as_email else None
    sample = next(
        (
            m
            for m in plan.messages()
            if (wanted is None or m.recipient.email == wanted)
            and (outlet is None or m.outlet == outlet)
        ),
        None,
    )
    if sample is None:
        who = f'journalist "{wanted}"' if wanted else f'outlet "{outlet}"' if outlet else "anyone"
        raise InputError(
            f"no message for {who} in {found.slug} (not on the list, suppressed, or no journalists)"
        )
    renderer = Renderer(options.templates or settings.templates)
    variant = replace(sample.variant, test=True)
    addressing = Addressing(identity)
    sent: list[TestSent] = []
    connection = transport.connect()
    try:
        for address in addresses:
            # The journalist's own greeting, so the copy reads as theirs will; To the tester,
            # with an unsubscribe link for the tester only.
            recipient = addressing.recipient(
                name=sample.recipient.name,
                email=address,
                key=f"test-{found.slug}-{moment:%Y%m%d%H%M%S}",
                date=moment,
                language=sample.variant.language,
            )
            data, subject = Assembler(renderer).build(variant, recipient, sample.reply_to)
            check_headers(data, address)
            try:
                reply = connection.send(identity.from_address, address, transport.sign(data))
            except Unreachable as exc:
                raise SendError(str(exc), hint=transport.reach_hint()) from None
            except (Transient, Permanent) as exc:
                raise SendError(f"test to {address} failed: {exc}") from None
            sent.append(
                TestSent(
                    address,
                    sample.recipient.email,
                    sample.outlet,
                    variant.language,
                    subject,
                    reply,
                )
            )
    finally:
        connection.close()
    return sent


def suppress_refused(session: Session, key: BatchKey) -> list[str]:
    """Suppress the addresses of this batch that the relay refused at RCPT TO as gone (a
    550 5.1.1 while we sent is the same hard bounce as one that comes back later); the
    addresses newly suppressed. Refusals about how we send, or ambiguous ones, change
    nothing (see `reasons.decide`)."""
    from civic_contacts.deliver.transport import REFUSED_AT_RCPT

    refused = session.execute(
        select(Delivery.email, Delivery.last_error).where(
            key.where(),
            Delivery.status == S.FAILED,
            Delivery.last_error.startswith(REFUSED_AT_RCPT),
        )
    ).all()
    if not refused:
        return []
    from civic_contacts.deliver.reasons import decide, status_in

    done = []
    for email, error in refused:
        words = str(error).removeprefix(REFUSED_AT_RCPT)
        action, reason = decide(status_in(words), words, command="RCPT")
        if action != "suppress":
            continue
        why = f"refused while sending: {reason}: {words}"[:200]
        if registry.suppress(session, email, why) == "created":
            done.append(email)
    session.commit()
    return done
