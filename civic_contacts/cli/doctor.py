"""`civic-contacts doctor`: SPF, DKIM, DMARC, MX, the unsubscribe link and the relay, checked
before anything is sent (see `deliver/doctor.py`)."""

from __future__ import annotations

import typer

from civic_contacts.cli import common, options
from civic_contacts.errors import ConfigError

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "info": "info"}


@options.smtp_options
def doctor(
    ctx: typer.Context,
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
    dns_server: str | None = typer.Option(
        None, "--dns-server", help="Ask this DNS server (HOST:PORT) instead of the system's."
    ),
    *,
    smtp: options.SmtpChoice,
) -> None:
    """Check what mailbox providers check (SPF, DKIM, DMARC, MX, one-click unsubscribe) and the
    relay, each ok / warn / fail with a one-line fix; exit 1 when something fails."""
    from civic_contacts.deliver.doctor import run_doctor

    settings = common.settings(ctx)
    try:
        transport = options.transport(ctx, smtp)
    except ConfigError as exc:
        if "no SMTP server" not in exc.message:
            raise
        transport = None
    report = run_doctor(settings, transport, dns_server)
    if json:
        common.print_json(report.as_json())
    else:
        console = common.out()
        for check in report.checks:
            console.print(f"{MARKS[check.status]}  {check.name}: {check.detail}", markup=False)
            if check.fix and check.status != "ok":
                console.print(f"      fix: {check.fix}", markup=False)
    if report.failed:
        raise typer.Exit(1)
