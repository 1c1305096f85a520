"""`civic-contacts batch`: build, test, send and follow the messages of a release.

Each command parses its options, opens one session, calls one function of the core
(`build.build_batch`, `send.send_batch`, `send.send_test`, `status.batch_status`) and
prints what it returned.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common, options
from civic_contacts.errors import ConfigError, InputError
from civic_contacts.registry.statuses import DeliveryStatus as S

if TYPE_CHECKING:
    from civic_contacts.deliver import approval, send, smtp
    from civic_contacts.deliver import build as batch_build
    from civic_contacts.deliver import plan as batch_plan
    from civic_contacts.deliver import prepare as batch_prepare
    from civic_contacts.deliver import recipients as batch_recipients
    from civic_contacts.deliver import status as batch_state
    from civic_contacts.registry import store as registry
    from civic_contacts.registry import tables
    from civic_contacts.releases import embargo
else:  # loaded when a command uses them: `batch --help` needs none of them
    batch_build = common.lazy("civic_contacts.deliver.build")
    approval = common.lazy("civic_contacts.deliver.approval")
    batch_plan = common.lazy("civic_contacts.deliver.plan")
    batch_prepare = common.lazy("civic_contacts.deliver.prepare")
    batch_recipients = common.lazy("civic_contacts.deliver.recipients")
    batch_state = common.lazy("civic_contacts.deliver.status")
    embargo = common.lazy("civic_contacts.releases.embargo")
    registry = common.lazy("civic_contacts.registry.store")
    send = common.lazy("civic_contacts.deliver.send")
    smtp = common.lazy("civic_contacts.deliver.smtp")
    tables = common.lazy("civic_contacts.registry.tables")

app = typer.Typer(
    help="Batches: one message per journalist for a release.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def print_build(report: batch_build.BuildReport, next_command: str) -> None:
    """The build summary, for people (stderr)."""
    common.warn(report.warnings)
    for line in report.changed_options:
        common.say(f"changed since the last build: {line}")
    r = report.recorded
    kept = []
    if r.kept_sent:
        kept.append(f"{r.kept_sent} kept as sent")
    if r.kept_failed:
        kept.append(f"{r.kept_failed} kept as failed")
    if r.in_progress:
        kept.append(f"{r.in_progress} being sent by another run")
    verb = "would build" if report.dry_run else "built"
    common.say(
        f"{verb} {report.messages} messages for {report.outlets} outlets"
        f" ({r.added} new, {r.rerendered} re-rendered, {r.unchanged} unchanged"
        + (f", {r.cancelled} cancelled (no longer on the list)" if r.cancelled else "")
        + (f", {', '.join(kept)}" if kept else "")
        + f"); {report.pending} pending"
    )
    if report.suppressed:
        common.say(f"left out {len(report.suppressed)} suppressed address(es)")
    if report.left_out_count:
        common.say(f"left out {report.left_out_count} by beats and their own choices:")
        for line in report.left_out[:SHOWN_LEFT_OUT]:
            common.say(f"  {line}")
        if report.left_out_count > SHOWN_LEFT_OUT:
            common.say(
                f"  ... and {report.left_out_count - SHOWN_LEFT_OUT} more"
                " (the preview lists more; route show has each)"
            )
    if report.fallbacks:
        count = max(report.fallback_count, len(report.fallbacks))
        common.say(f"{count} message(s) in a fallback language:")
        for line in report.fallbacks:
            common.say(f"  {line}")
        if count > len(report.fallbacks):
            common.say(f"  ... and {count - len(report.fallbacks)} more (the manifest has each)")
    say_gaps(report.gaps, report.release)
    if report.dry_run:
        common.say("dry run: nothing was recorded or written")
        return
    common.say(f"outbox: {report.outbox}")
    common.say(f"preview: {report.preview}")
    if report.pending:
        common.say(f"next: {next_command} (after a look at the preview)")


SHOWN_LEFT_OUT = 20  # left-out journalists named in the build summary
SHOWN_GAP_OUTLETS = 5  # outlets named per coverage problem (a list of 10,000 has hundreds)


def say_gaps(gaps: list[str], release: str) -> None:
    """Coverage gaps ("outlet: problem"), one line per problem with the outlets it touches."""
    by_problem: dict[str, list[str]] = {}
    for gap in gaps:
        outlet, _, problem = gap.partition(": ")
        by_problem.setdefault(problem, []).append(outlet)
    for problem, outlets in by_problem.items():
        if len(outlets) == 1:
            common.say(f"coverage gap: {outlets[0]}: {problem}")
            continue
        named = ", ".join(outlets[:SHOWN_GAP_OUTLETS])
        more = len(outlets) - SHOWN_GAP_OUTLETS
        common.say(
            f"coverage gap: {problem}: {len(outlets)} outlets ({named}"
            + (
                f" and {more} more; civic-contacts route coverage --release {release} lists each)"
                if more > 0
                else ")"
            )
        )


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A (done, total) callback drawing a bar on stderr when it is a terminal; None when piped."""
    if not sys.stderr.isatty():
        yield None
        return
    # Loaded here: a piped or scheduled run never draws a bar.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class _RateColumn(ProgressColumn):
        """Messages per second."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.0f} msg/s")

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        console=common.err(),
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def build_and_print(
    ctx: typer.Context, release: str, out: Path, options: batch_plan.BuildOptions
) -> None:
    """Build a batch in one transaction and print its summary (also used by the demo)."""
    settings = common.settings(ctx)
    command = common.command_line(ctx, "batch", "send", release.strip().lower(), "--yes")
    options = replace(options, send_command=command)
    with (
        progress_bar("building") as tick,
        common.transaction(ctx, commit=not options.dry_run) as session,
    ):
        report = batch_build.build_batch(session, release, out, options, settings, tick)
    print_build(report, command)


@app.command("build")
def build(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    out: Path = typer.Option(..., "--out", help="Outbox folder to write."),
    templates: Path | None = typer.Option(None, "--templates", help="Your templates, used first."),
    after_embargo: bool = typer.Option(
        False, "--after-embargo", help="Build after the lift, relabelled FOR IMMEDIATE RELEASE."
    ),
    max_contacts: int = typer.Option(2, "--max-contacts", min=1, help="Contacts per message."),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Say what would be added, cancelled and re-rendered; change nothing.",
    ),
) -> None:
    """Render one message per journalist into an outbox folder, with preview.html; on a batch
    already started, bring it up to date with the registry (sent messages are never touched)."""
    options = batch_plan.BuildOptions(
        after_embargo=after_embargo, max_contacts=max_contacts, templates=templates, dry_run=dry_run
    )
    build_and_print(ctx, release, out, options)


def wait_with_countdown(moment: dt.datetime, what: str) -> None:
    """Wait until `moment`, with a countdown on a terminal (one line when piped)."""
    common.say(f"{what}: waiting until {moment:%Y-%m-%d %H:%M:%S} UTC (Ctrl-C to stop)")
    if not sys.stderr.isatty():
        send.wait_until(moment)
        return

    def show(left: dt.timedelta) -> None:
        seconds = int(left.total_seconds())
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        sys.stderr.write(f"\rstarting in {hours:d}:{minutes:02d}:{secs:02d} ")
        sys.stderr.flush()

    send.wait_until(moment, show=show)
    sys.stderr.write("\n")


def _confirm_on_terminal(yes: bool, server: str) -> send.Confirm:
    def confirm(plan: batch_prepare.SendPlan) -> bool:
        common.warn(plan.warnings)
        common.say(_summary(plan, server))
        if yes:
            return True
        if not sys.stdin.isatty():
            raise ConfigError("sending needs --yes when there is no terminal to confirm on")
        typer.confirm(f"Send {plan.pending} messages now?", abort=True)
        return True

    return confirm


def _summary(plan: batch_prepare.SendPlan, server: str) -> str:
    name = plan.slug if plan.what == "release" else f"{plan.what} of {plan.slug}"
    head = (
        f"{name}: {plan.recipients} recipients in {plan.outlets} outlets;"
        f" embargo {plan.embargo:%Y-%m-%d %H:%M} UTC"
        if plan.embargo
        else f"{name}: {plan.recipients} recipients; no embargo"
    )
    c = plan.counts
    return f"{head}; {c[S.PENDING]} pending, {c[S.SENT]} already sent; server {server}"


@app.command("send")
@options.smtp_options
@options.send_options
def send_command(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    after_embargo: bool = typer.Option(
        False, "--after-embargo", help="Send after the lift (the batch must be built so)."
    ),
    margin: int = typer.Option(
        30, "--margin", min=0, help="With --at: finish at least this many minutes before the lift."
    ),
    *,
    smtp: options.SmtpChoice,
    run: options.SendChoice,
) -> None:
    """Send the release's messages over SMTP: each exactly once, resumable, rate-limited, with
    the options the batch was built with."""
    transport = options.transport(ctx, smtp)
    settings = common.settings(ctx)
    chosen = options.send_options_of(run, after_embargo=after_embargo)
    if run.at is not None:
        moment = embargo.parse_moment(run.at)
        with common.transaction(ctx, commit=False) as session:
            left = send.check_batch_schedule(
                session,
                release,
                moment,
                send.organisation_rate(settings.send_rate, run.rate),
                dt.timedelta(minutes=margin),
            )
            if not run.dry_run and not run.skip_doctor:
                # Checked before the wait too, so a problem is known now, not at the hour.
                send.check_before_sending(session, settings, transport, run.dns_server)
            if not run.dry_run:
                approval.check_approved(session, settings, release)
        if not run.dry_run:
            wait_with_countdown(moment, f"{release}: {left} message(s)")
    server = transport.describe()
    confirm = _confirm_on_terminal(run.yes, server)
    with (
        progress_bar("sending") as tick,
        common.transaction(ctx, commit=not run.dry_run) as session,
    ):
        report = send.send_batch(session, release, transport, chosen, settings, tick, confirm)
    print_send(report, server)


def print_send(report: send.SendReport, server: str) -> None:
    """What a send did, for people (stderr; the dry run's listing on stdout); exits 1 when
    something failed or is left that this run should have sent."""
    plan = report.plan
    assert plan is not None
    if report.dry_run:
        common.say(f"dry run, nothing sent or recorded. {_summary(plan, server)}")
        for entry in plan.listing:
            common.out().print("\t".join(entry), markup=False)
        return
    final = report.final
    if plan.pending == 0 and not report.sent:
        common.say(_summary(plan, server))
        held = final.get(S.CLAIMED, 0)
        common.say("nothing to send" + (f" ({held} being sent by another run)" if held else ""))
        raise typer.Exit(0 if final.get(S.FAILED, 0) == 0 else 1)
    for line in report.errors[:20]:
        common.warn([line])
    if len(report.errors) > 20:
        common.warn([f"... and {len(report.errors) - 20} more"])
    if report.suppressed:
        common.say(
            f"{len(report.suppressed)} address(es) refused by the relay as gone, now suppressed:"
            f" {', '.join(report.suppressed[:10])}"
            + (" ..." if len(report.suppressed) > 10 else "")
        )
    if report.stopped:
        common.say(f"stopped: {report.stopped}")
    busy = f" ({final[S.CLAIMED]} being sent by another run)" if final[S.CLAIMED] else ""
    common.say(
        f"sent {report.sent} now; {plan.what} totals: {final[S.SENT]} sent, {final[S.FAILED]} failed,"
        f" {final[S.PENDING]} pending of {sum(final.values()) - final[S.CANCELLED]}{busy}"
    )
    # Messages another run holds are its to finish; anything else left over is a failure here.
    if not report.complete:
        raise typer.Exit(1)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


STATUS_ORDER = [S.PENDING, S.CLAIMED, S.SENT, S.FAILED, S.CANCELLED]
STATUS_COLUMNS = ["total", "pending", "in progress", "sent", "failed", "cancelled"]


def approve_build(ctx: typer.Context, release: str, user: str, kind: str | None) -> None:
    """Approve the current build as `user`, whose password is asked for (read from stdin when
    there is no terminal); a wrong password is kept for throttling, nothing else changes."""
    from civic_contacts.registry.users import LoginRefused

    if sys.stdin.isatty():
        password = typer.prompt(f"password of {user}", hide_input=True, err=True)
    else:  # a script gives it on standard input, one line
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InputError(f"no password of {user} was given; nothing was approved")
    refused: LoginRefused | None = None
    with common.transaction(ctx) as session:
        try:
            found, built = approval.approve_as(session, release, user, password, kind)
            said = (
                f"{approval.describe(found, built)}: the build of"
                f" {built.built_at:%Y-%m-%d %H:%M} UTC by {built.built_by or 'someone'}"
                f" approved by {user}; a rebuild withdraws the approval"
            )
        except LoginRefused as exc:
            refused = exc
    if refused is not None:
        raise refused
    common.say(said)


@app.command("approve")
def approve(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    user: str = typer.Option(..., "--user", help="The approver's desk name (not the builder)."),
) -> None:
    """Approve the batch as it was last built, as a desk approver other than its builder: an
    embargoed batch goes out only so (when the desk has users and [web] require_approval)."""
    approve_build(ctx, release, user, None)


@app.command("status")
def status(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """How many messages of the release are pending, being sent, sent, failed and cancelled."""
    with common.transaction(ctx) as session:
        found = batch_state.batch_status(session, release)
    if json:
        common.print_json(found.as_json())
        return
    c = found.counts
    common.print_table(
        f"Batch {found.release} (revision {found.revision})",
        STATUS_COLUMNS,
        [[found.total, *(c[status] for status in STATUS_ORDER)]],
    )
    if found.built_at is not None:
        common.say(
            f"last built {found.built_at:%Y-%m-%d %H:%M} UTC from revision {found.built_revision}"
            + (f" into {found.outbox}" if found.outbox else "")
        )
    rate = common.settings(ctx).send_rate
    eta = found.eta_seconds(rate)
    if eta is not None:
        speed = (
            f"{found.recent_pace:.1f} per second (the last minute's pace)"
            if found.recent_pace
            else f"the configured {float(rate or 0):g} per second"
        )
        common.say(f"about {_duration(eta)} left at {speed}")
    say_returned(found.returned, found.alerts)


def say_returned(returned: dict[str, int], alerts: dict[tuple[str, str], int]) -> None:
    """What came back after the send: one line of counts, one per sender problem."""
    from collections import Counter

    from civic_contacts.after.returns import alert_lines

    if returned:
        hard = returned.get("bounced (suppress)", 0)
        common.say(
            f"came back: {returned.get('bounced', 0)} bounced ({hard} address(es) gone),"
            f" {returned.get('complained', 0)} complained,"
            f" {returned.get('auto-replied', 0)} auto-replied (civic-contacts bounce list)"
        )
    for line in alert_lines(Counter(alerts)):
        common.warn([f"sender problem: {line}"])


@app.command("audit")
def audit(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    csv: Path | None = typer.Option(None, "--csv", help="Write the audit as CSV to this file."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
    raw: bool = typer.Option(
        False, "--raw", help="Cells as stored, even ones a spreadsheet would run as formulas."
    ),
) -> None:
    """One row per recipient: outlet, contacts, Message-ID, hash, embargo, status, reply, time, sender."""
    with common.transaction(ctx) as session:
        # Streamed from the database to the file or the screen: a million rows are never
        # held at once (only the table for people is).
        rows = batch_state.audit_rows(session, release)
        if csv is not None:
            from civic_contacts.compose.outbox import open_text_atomic

            flat = (
                {
                    k: (";".join(v) if isinstance(v, list) else "" if v is None else str(v))
                    for k, v in r.items()
                }
                for r in rows
            )
            with open_text_atomic(csv) as handle:
                tables.write_csv_to(handle, flat, batch_state.AUDIT_COLUMNS, raw)
            common.say(f"wrote {csv}")
            return
        if json:
            common.print_json_stream(rows)
            return
        shown = [
            [
                r["outlet"],
                r["email"],
                r["status"],
                r["attempts"],
                r["server_reply"] or r["last_error"] or "",
                (r["sent_at"] or "")[:19],
                r["sent_by"] or "",
            ]
            for r in rows
        ]
    common.print_table(
        f"Audit of {release}",
        ["outlet", "email", "status", "attempts", "server reply", "sent at", "by"],
        shown,
    )


@app.command("test")
@options.smtp_options
def test(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    to: list[str] = typer.Option(..., "--to", help="Test address (repeat)."),
    as_email: str | None = typer.Option(
        None, "--as", help="Send this journalist's message (their language, zone and contacts)."
    ),
    outlet: str | None = typer.Option(None, "--outlet", help="Send this outlet's first message."),
    *,
    smtp: options.SmtpChoice,
) -> None:
    """Send one journalist's message to test addresses, "[TEST]" in the subject; nothing recorded."""
    transport = options.transport(ctx, smtp)
    settings = common.settings(ctx)
    with common.transaction(ctx, commit=False) as session:
        sent = send.send_test(session, release, transport, to, settings, as_email, outlet)
    for item in sent:
        common.say(
            f"test sent to {item.address} as {item.journalist} ({item.outlet}, {item.language}):"
            f" {item.reply}"
        )
