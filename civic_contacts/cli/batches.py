"""`civic-contacts batch`: build, send and follow the messages of a release."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

import typer
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
from sqlalchemy.engine import Engine

from civic_contacts import batches, outbox, registry
from civic_contacts.addresses import normalise_email
from civic_contacts.assemble import Assembler
from civic_contacts.cli import common
from civic_contacts.cli.inputs import option
from civic_contacts.config import ENV_SMTP_PASSWORD
from civic_contacts.db import utcnow
from civic_contacts.errors import ConfigError, InputError, SendError
from civic_contacts.render import Renderer, build_message, domain_of
from civic_contacts.send import (
    Permanent,
    Sender,
    SendOptions,
    SendReport,
    SmtpConnection,
    SmtpSettings,
    Transient,
    dkim_sign,
)
from civic_contacts.tables import write_csv

app = typer.Typer(help="Batches: one message per journalist for a release.", no_args_is_help=True)


def build_outbox(
    ctx: typer.Context,
    release: str,
    out: Path,
    options: batches.BuildOptions,
) -> outbox.OutboxResult:
    """Plan, render, record and write a batch in one transaction; print the summary."""
    settings = common.settings(ctx)
    renderer = Renderer(options.templates or settings.templates)
    options.now = options.now or utcnow()
    with common.transaction(ctx) as session:
        plan = batches.plan_batch(session, release, settings, options)
        book = batches.DeliveryBook(session, plan.release)
        assembler = Assembler(renderer)
        result = outbox.write_outbox(
            out,
            plan,
            _building_progress(batches.render_messages(plan, assembler), plan.count),
            book,
            renderer,
            lambda planned: assembler.html_for(planned.variant, planned.recipient),
        )
    common.warn(plan.warnings)
    recorded = result.recorded
    assert recorded is not None
    common.say(
        f"built {result.messages} messages for {sum(1 for o in plan.outlets if o.recipients)} outlets"
        f" ({recorded.created} new, {recorded.changed} changed, {recorded.unchanged} unchanged"
        + (f", {recorded.removed} no longer on the list" if recorded.removed else "")
        + ")"
    )
    if plan.suppressed:
        common.say(f"left out {len(plan.suppressed)} suppressed address(es)")
    if plan.fallbacks:
        common.say(f"{len(plan.fallbacks)} message(s) in a fallback language:")
        for line in plan.fallbacks:
            common.say(f"  {line}")
    for gap in plan.gaps:
        common.say(f"coverage gap: {gap}")
    common.say(f"outbox: {result.folder}")
    common.say(f"preview: {result.folder / 'preview.html'}")
    return result


def _building_progress(
    messages: Iterator[batches.BuiltMessage], total: int
) -> Iterator[batches.BuiltMessage]:
    """The messages as they are built, with a progress bar when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield from messages
        return
    step = 50
    with _progress("building") as progress:
        task = progress.add_task("build", total=total)
        for count, built in enumerate(messages, 1):
            yield built
            if count % step == 0:
                progress.update(task, completed=count)
        progress.update(task, completed=total)


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
) -> None:
    """Render one message per journalist into an outbox folder, with preview.html."""
    options = batches.BuildOptions(
        after_embargo=after_embargo, max_contacts=max_contacts, templates=templates
    )
    build_outbox(ctx, release, out, options)


class Security(StrEnum):
    starttls = "starttls"
    ssl = "ssl"
    none = "none"


def _smtp_settings(
    ctx: typer.Context,
    host: str | None,
    port: int | None,
    security: Security | None,
    user: str | None,
    cafile: Path | None,
    dkim_key: Path | None,
    dkim_selector: str | None,
) -> SmtpSettings:
    """SMTP settings: options, then the config file's [smtp] table; password from the environment."""
    settings = common.settings(ctx)
    conf = settings.smtp
    host = host or conf.get("host")
    if not host:
        raise ConfigError(
            "no SMTP server: pass --smtp-host (or set host in [smtp] of the config file)"
        )
    chosen = security.value if security else str(conf.get("security", "starttls"))
    if chosen not in ("starttls", "ssl", "none"):
        raise ConfigError(f'[smtp] security "{chosen}" must be starttls, ssl or none')
    default_port = {"ssl": 465, "starttls": 587, "none": 25}[chosen]
    user = user or conf.get("user")
    password = os.environ.get(ENV_SMTP_PASSWORD)
    if user and not password:
        raise ConfigError(
            f"--user {user} needs the password in the environment variable {ENV_SMTP_PASSWORD}"
        )
    key_path = dkim_key or (Path(conf["dkim_key"]) if conf.get("dkim_key") else None)
    key = None
    if key_path is not None:
        try:
            key = key_path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{key_path}: cannot read the DKIM key ({exc.strerror})") from None
        if not (dkim_selector or conf.get("dkim_selector")):
            raise ConfigError("--dkim-key needs --dkim-selector")
    ca = cafile or (Path(conf["cafile"]) if conf.get("cafile") else None)
    return SmtpSettings(
        host=host,
        port=int(port or conf.get("port") or default_port),
        security=chosen,
        user=user,
        password=password,
        cafile=ca,
        envelope_from=settings.press_address,
        dkim_key=key,
        dkim_selector=dkim_selector or conf.get("dkim_selector"),
        dkim_domain=domain_of(settings.press_address),
    )


@app.command("send")
def send(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    smtp_host: str | None = typer.Option(None, "--smtp-host", help="SMTP server."),
    smtp_port: int | None = typer.Option(
        None, "--smtp-port", help="SMTP port (587, 465 or 25 by security)."
    ),
    security: Security | None = typer.Option(
        None, "--security", help="starttls (default), ssl or none."
    ),
    user: str | None = typer.Option(
        None, "--user", help=f"SMTP login; password from {ENV_SMTP_PASSWORD}."
    ),
    cafile: Path | None = typer.Option(
        None, "--cafile", help="CA certificates for a private server."
    ),
    rate: float | None = typer.Option(
        None, "--rate", min=0.1, help="At most this many messages per second."
    ),
    connections: int = typer.Option(
        1, "--connections", min=1, max=32, help="Parallel SMTP connections."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Send at most this many now."),
    max_attempts: int = typer.Option(
        3, "--max-attempts", min=1, help="Tries per message for 4xx replies."
    ),
    retry_wait: float = typer.Option(
        1.0, "--retry-wait", min=0.0, help="Seconds before the first retry."
    ),
    after_embargo: bool = typer.Option(
        False, "--after-embargo", help="Relabel as immediate after the lift."
    ),
    max_contacts: int = typer.Option(2, "--max-contacts", min=1, help="Contacts per message."),
    templates: Path | None = typer.Option(None, "--templates", help="Your templates, used first."),
    dkim_key: Path | None = typer.Option(None, "--dkim-key", help="PEM private key to sign with."),
    dkim_selector: str | None = typer.Option(None, "--dkim-selector", help="DKIM selector."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would go out; send and record nothing."
    ),
    yes: bool = typer.Option(False, "--yes", help="Do not ask (needed without a terminal)."),
) -> None:
    """Send the release's messages over SMTP: each exactly once, resumable, rate-limited."""
    smtp = _smtp_settings(
        ctx, smtp_host, smtp_port, security, user, cafile, dkim_key, dkim_selector
    )
    settings = common.settings(ctx)
    renderer = Renderer(templates or settings.templates)
    options = batches.BuildOptions(
        after_embargo=after_embargo, max_contacts=max_contacts, now=utcnow()
    )
    engine = common.engine(ctx)
    with common.transaction(ctx, commit=not dry_run) as session:
        plan = batches.plan_batch(session, release, settings, options)
        if not dry_run:
            batches.record_missing(session, plan, Assembler(renderer))
        counts = batches.status_counts(session, plan.release) if not dry_run else None
        release_id = plan.release.id
        embargo = plan.embargo
    common.warn(plan.warnings)
    summary = (
        f"{release}: {plan.count} recipients in {sum(1 for o in plan.outlets if o.recipients)} outlets;"
        f" embargo {embargo:%Y-%m-%d %H:%M} UTC"
        if embargo
        else f"{release}: {plan.count} recipients; immediate release"
    )
    server = f"{smtp.host}:{smtp.port} ({smtp.security}{', as ' + smtp.user if smtp.user else ''})"
    if dry_run:
        common.say(f"dry run, nothing sent or recorded. {summary}; server {server}")
        for planned in plan.messages():
            common.out().print(
                f"{planned.outlet}\t{planned.recipient.email}\t{planned.variant.language}\t"
                f"{planned.recipient.message_id}",
                markup=False,
            )
        return
    assert counts is not None
    common.say(
        f"{summary}; {counts['pending']} pending, {counts['sent']} already sent; server {server}"
    )
    if counts["pending"] == 0:
        common.say("nothing to send")
        raise typer.Exit(0 if counts["failed"] == 0 else 1)
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError("sending needs --yes when there is no terminal to confirm on")
        typer.confirm(f"Send {counts['pending']} messages now?", abort=True)
    source = batches.MessageSource(plan, Assembler(renderer))
    send_options = SendOptions(
        rate=rate or settings.smtp.get("rate"),
        connections=connections,
        limit=limit,
        max_attempts=max_attempts,
        backoff=retry_wait,
    )
    report = _run_with_progress(
        engine, release_id, smtp, send_options, source, counts["pending"], limit
    )
    with common.transaction(ctx) as session:
        final = batches.status_counts(session, batches.releases.get_release(session, release))
    for line in report.errors[:20]:
        common.warn([line])
    if len(report.errors) > 20:
        common.warn([f"... and {len(report.errors) - 20} more"])
    if report.stopped:
        common.say(f"stopped: {report.stopped}")
    busy = f" ({final['in_progress']} being sent by another run)" if final["in_progress"] else ""
    common.say(
        f"sent {report.sent} now; release totals: {final['sent']} sent, {final['failed']} failed,"
        f" {final['pending']} pending of {final['total']}{busy}"
    )
    # Messages another run holds are its to finish; anything else left over is a failure here.
    if final["failed"] or final["pending"] - final["in_progress"] or report.stopped:
        raise typer.Exit(1)


class _RateColumn(ProgressColumn):
    """Messages per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} msg/s")


def _progress(label: str) -> Progress:
    """A progress bar on stderr: label, bar, done/total, messages per second, time left."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        console=common.err(),
    )


def _run_with_progress(
    engine: Engine,
    release_id: int,
    smtp: SmtpSettings,
    options: SendOptions,
    source: batches.MessageSource,
    pending: int,
    limit: int | None,
) -> SendReport:
    total = min(pending, limit) if limit else pending
    if not sys.stderr.isatty():
        return Sender(engine, release_id, smtp, options, source).run()
    with _progress("sending") as progress:
        task = progress.add_task("send", total=total)
        return Sender(
            engine, release_id, smtp, options, source, progress=lambda n: progress.advance(task, n)
        ).run()


@app.command("status")
def status(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """How many messages of the release are pending, sent and failed."""
    with common.transaction(ctx) as session:
        counts = batches.status_counts(session, batches.releases.get_release(session, release))
    if json:
        common.print_json(counts)
        return
    common.print_table(
        f"Batch {release}",
        ["total", "pending", "sent", "failed"],
        [[str(v) for v in counts.values()]],
    )


@app.command("audit")
def audit(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    csv: Path | None = typer.Option(None, "--csv", help="Write the audit as CSV to this file."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """One row per recipient: outlet, contacts, Message-ID, hash, embargo, status, reply, time, sender."""
    with common.transaction(ctx) as session:
        rows = batches.audit_rows(session, batches.releases.get_release(session, release))
    columns = [
        "outlet",
        "email",
        "language",
        "contacts",
        "message_id",
        "content_hash",
        "embargo",
        "status",
        "attempts",
        "server_reply",
        "last_error",
        "sent_at",
        "sent_by",
    ]
    if csv is not None:
        flat = [
            {
                k: (";".join(v) if isinstance(v, list) else "" if v is None else str(v))
                for k, v in r.items()
            }
            for r in rows
        ]
        common.write_output(write_csv(flat, columns), csv)
        return
    if json:
        common.print_json(rows)
        return
    common.print_table(
        f"Audit of {release}",
        ["outlet", "email", "status", "attempts", "server reply", "sent at", "by"],
        [
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
        ],
    )


@app.command("test")
def test(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    outlet: str = typer.Option(..., "--outlet", help="Whose message to send."),
    to: list[str] = typer.Option(..., "--to", help="Test address (repeat)."),
    smtp_host: str | None = typer.Option(None, "--smtp-host"),
    smtp_port: int | None = typer.Option(None, "--smtp-port"),
    security: Security | None = typer.Option(None, "--security"),
    user: str | None = typer.Option(None, "--user"),
    cafile: Path | None = typer.Option(None, "--cafile"),
    after_embargo: bool = typer.Option(False, "--after-embargo"),
) -> None:
    """Send one outlet's message to test addresses, "[TEST]" in the subject; nothing recorded."""
    smtp = _smtp_settings(ctx, smtp_host, smtp_port, security, user, cafile, None, None)
    settings = common.settings(ctx)
    addresses = [option("--to", normalise_email, a) for a in to]
    options = batches.BuildOptions(after_embargo=after_embargo, test=True, now=utcnow())
    with common.transaction(ctx, commit=False) as session:
        blocked = sorted(set(addresses) & registry.suppressed_emails(session))
        if blocked:
            raise InputError(
                f"{', '.join(blocked)} is suppressed and never receives anything, tests included"
            )
        plan = batches.plan_batch(session, release, settings, options)
    sample = next((m for m in plan.messages() if m.outlet == outlet), None)
    if sample is None:
        raise InputError(
            f'no message for outlet "{outlet}" in {release} (unknown outlet, or no journalists)'
        )
    renderer = Renderer(settings.templates)
    connection = SmtpConnection(smtp)
    try:
        for address in addresses:
            recipient = replace(
                sample.recipient,
                email=address,
                name=address,
                message_id=batches.message_id(
                    f"test-{release}-{utcnow():%Y%m%d%H%M%S}",
                    address,
                    domain_of(settings.press_address),
                ),
            )
            parts = renderer.render(sample.variant, recipient)
            data = build_message(sample.variant, recipient, parts, sample.reply_to)
            try:
                reply = connection.send(smtp.envelope_from, address, dkim_sign(data, smtp))
            except (Transient, Permanent) as exc:
                raise SendError(f"test to {address} failed: {exc}") from None
            common.say(f"test sent to {address}: {reply}")
    finally:
        connection.close()
