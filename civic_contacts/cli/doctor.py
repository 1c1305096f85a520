"""`civic-contacts doctor`: SPF, DKIM, DMARC, MX, the unsubscribe link and the relay, checked
before anything is sent (see `doctor.py`)."""

from __future__ import annotations

from pathlib import Path

import typer

from civic_contacts.cli import common
from civic_contacts.cli.batches import PLAINTEXT_AUTH, Security, _transport
from civic_contacts.errors import ConfigError

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def doctor(
    ctx: typer.Context,
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
    dns_server: str | None = typer.Option(
        None, "--dns-server", help="Ask this DNS server (HOST:PORT) instead of the system's."
    ),
    smtp_host: str | None = typer.Option(None, "--smtp-host", help="SMTP relay."),
    smtp_port: int | None = typer.Option(None, "--smtp-port", help="SMTP port."),
    security: Security | None = typer.Option(None, "--security", help="starttls, ssl or none."),
    user: str | None = typer.Option(
        None, "--user", help="SMTP login (password from the environment)."
    ),
    cafile: Path | None = typer.Option(None, "--cafile", help="CA certificates."),
    dkim_key: Path | None = typer.Option(None, "--dkim-key", help="PEM private key."),
    dkim_selector: str | None = typer.Option(None, "--dkim-selector", help="DKIM selector."),
    connect_timeout: float | None = typer.Option(None, "--connect-timeout", min=1.0),
    allow_plaintext_auth: bool = PLAINTEXT_AUTH,
) -> None:
    """Check what mailbox providers check (SPF, DKIM, DMARC, MX, one-click unsubscribe) and the
    relay, each ok / warn / fail with a one-line fix; exit 1 when something fails."""
    from civic_contacts.deliver.doctor import run_doctor

    settings = common.settings(ctx)
    try:
        transport = _transport(
            ctx,
            smtp_host,
            smtp_port,
            security,
            user,
            cafile,
            dkim_key,
            dkim_selector,
            connect_timeout,
            allow_plaintext_auth,
        )
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
