"""`civic-contacts notice`: follow-ups to exactly the journalists who were sent a release.

Each command parses its options, opens one session, calls one function of the core
(`notices.build_notice`, `send.send_notice`, `notice_status.notices_overview`) and prints what it
returned. Sending shares its SMTP options and output with `batch send`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common, options
from civic_contacts.cli.batches import (
    STATUS_COLUMNS,
    STATUS_ORDER,
    _confirm_on_terminal,
    approve_build,
    print_build,
    print_send,
    progress_bar,
    wait_with_countdown,
)

if TYPE_CHECKING:
    from civic_contacts import db
    from civic_contacts.deliver import approval, notice_rules, notice_status, notices, send
    from civic_contacts.deliver import plan as batch_plan
    from civic_contacts.releases import embargo
else:  # loaded when a command uses them: `notice --help` needs none of them
    batch_plan = common.lazy("civic_contacts.deliver.plan")
    approval = common.lazy("civic_contacts.deliver.approval")
    db = common.lazy("civic_contacts.db")
    embargo = common.lazy("civic_contacts.releases.embargo")
    notice_rules = common.lazy("civic_contacts.deliver.notice_rules")
    notice_status = common.lazy("civic_contacts.deliver.notice_status")
    notices = common.lazy("civic_contacts.deliver.notices")
    send = common.lazy("civic_contacts.deliver.send")

app = typer.Typer(
    help="Notices: embargo moved or cancelled, corrections, reminders and the lift, sent to"
    " exactly those who were sent the release, threaded with it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class Kind(StrEnum):
    moved = "moved"
    cancelled = "cancelled"
    correction = "correction"
    reminder = "reminder"
    lifted = "lifted"


KIND = typer.Option(..., "--kind", help="moved, cancelled, correction, reminder or lifted.")


@app.command("build")
def build(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    kind: Kind = KIND,
    out: Path = typer.Option(..., "--out", help="Outbox folder to write (with preview.html)."),
    templates: Path | None = typer.Option(
        None, "--templates", help="Your templates (default: those the release was built with)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say who would get it; record and write nothing."
    ),
    yes: bool = common.YES,
) -> None:
    """Render the notice for the release's current revision: one message per journalist who
    was sent the release and needs it. Building `cancelled` withdraws the release."""
    if kind == Kind.cancelled and not dry_run:
        common.confirm(
            yes,
            f"Cancel {release}? Its unsent messages are cancelled and journalists who were sent"
            " it are told not to publish.",
        )
    settings = common.settings(ctx)
    command = common.command_line(
        ctx, "notice", "send", release.strip().lower(), "--kind", kind.value, "--yes"
    )
    options = batch_plan.BuildOptions(templates=templates, dry_run=dry_run, send_command=command)
    with progress_bar("building") as tick, common.transaction(ctx, commit=not dry_run) as session:
        report = notices.build_notice(session, release, kind.value, out, options, settings, tick)
    if report.withdrawn:
        common.say(
            f"release {report.release} is cancelled (revision {report.revision}): its unsent"
            " messages were cancelled and nothing but this notice can be sent any more"
        )
    common.say(f"{kind.value} notice of {report.release}, revision {report.revision}:")
    print_build(report, command)


@app.command("send")
@options.smtp_options
@options.send_options
def send_command(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    kind: Kind = KIND,
    *,
    smtp: options.SmtpChoice,
    run: options.SendChoice,
) -> None:
    """Send the notice over SMTP: each message exactly once, resumable, rate-limited."""
    transport = options.transport(ctx, smtp)
    settings = common.settings(ctx)
    chosen = options.send_options_of(run)
    if run.at is not None:
        moment = embargo.parse_moment(run.at)
        with common.transaction(ctx, commit=False) as session:
            notice_rules.check_scheduled(session, release, kind.value, moment, settings)
            if not run.dry_run and not run.skip_doctor:
                # Checked before the wait too, so a problem is known now, not at the hour.
                send.check_before_sending(session, settings, transport, run.dns_server)
            if not run.dry_run:
                approval.check_approved(session, settings, release, kind.value)
        if not run.dry_run:
            wait_with_countdown(moment, f"{kind.value} notice of {release}")
    server = transport.describe()
    confirm = _confirm_on_terminal(run.yes, server)
    with (
        progress_bar("sending") as tick,
        common.transaction(ctx, commit=not run.dry_run) as session,
    ):
        report = send.send_notice(
            session, release, kind.value, transport, chosen, settings, tick, confirm
        )
    print_send(report, server)


@app.command("approve")
def approve(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    kind: Kind = KIND,
    user: str = typer.Option(..., "--user", help="The approver's desk name (not the builder)."),
) -> None:
    """Approve the notice as it was last built, as a desk approver other than its builder."""
    approve_build(ctx, release, user, kind.value)


@app.command("status")
def status(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """The release's notices, with their messages by status, and the notices now due."""
    with common.transaction(ctx) as session:
        overview = notice_status.notices_overview(session, release, db.utcnow())
    if json:
        common.print_json(overview.as_json())
        return
    if not overview.notices:
        common.say(
            f"no notices of {overview.release} yet (revision {overview.revision},"
            f" {overview.sent} journalist(s) sent the release)"
        )
    else:
        _notice_table(overview)
    for item in overview.due:
        common.say(
            f"due: {item.kind} notice for {item.journalists:,} journalist(s) who were sent the"
            f" release {item.reason}; run: {item.command}"
        )


def _notice_table(overview: notice_status.NoticesOverview) -> None:
    common.print_table(
        f"Notices of {overview.release} (revision {overview.revision},"
        f" {overview.sent} journalists sent the release"
        + (", cancelled)" if overview.cancelled else ")"),
        ["kind", "revision", *STATUS_COLUMNS, "bounced", "complained", "auto-replied"],
        [
            [
                n.kind,
                f"{n.revision}" + ("" if n.current else " (replaced)"),
                sum(n.counts.values()),
                *(n.counts[s] for s in STATUS_ORDER),
                n.returned.get("bounced", 0),
                n.returned.get("complained", 0),
                n.returned.get("auto-replied", 0),
            ]
            for n in overview.notices
        ],
    )
