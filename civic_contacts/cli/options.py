"""Options that several commands share, declared once: how to reach the SMTP relay (`batch
send`, `batch test`, `notice send`, `doctor`) and how a send runs (`batch send`, `notice send`).

A command asks for a group with a decorator (`@smtp_options`, `@send_options`), and receives it
as one value (`smtp: SmtpChoice`, `run: SendChoice`); the group's options appear in its `--help`
after the command's own, with the same names and help everywhere.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from civic_contacts.config import ENV_DNS_SERVER, ENV_SMTP_PASSWORD

if TYPE_CHECKING:
    from civic_contacts.deliver.sender import SendOptions
    from civic_contacts.deliver.smtp import SmtpTransport

F = TypeVar("F", bound=Callable[..., Any])


class Security(StrEnum):
    """How the connection to the relay is secured."""

    starttls = "starttls"
    ssl = "ssl"
    none = "none"


@dataclass(frozen=True)
class SmtpChoice:
    """The relay as given on the command line (each unset value falls back to the config's
    [smtp] table, then the default)."""

    smtp_host: str | None = None
    smtp_port: int | None = None
    security: Security | None = None
    user: str | None = None
    cafile: Path | None = None
    dkim_key: Path | None = None
    dkim_selector: str | None = None
    connect_timeout: float | None = None
    allow_plaintext_auth: bool = False


SMTP_OPTIONS: dict[str, tuple[Any, Any]] = {
    "smtp_host": (
        str | None,
        typer.Option(
            None, "--smtp-host", help="The SMTP relay (default: smtp.host of the config)."
        ),
    ),
    "smtp_port": (
        int | None,
        typer.Option(None, "--smtp-port", help="SMTP port (587, 465 or 25 by --security)."),
    ),
    "security": (
        Security | None,
        typer.Option(None, "--security", help="starttls (default), ssl or none."),
    ),
    "user": (
        str | None,
        typer.Option(None, "--user", help=f"SMTP login; the password from {ENV_SMTP_PASSWORD}."),
    ),
    "cafile": (
        Path | None,
        typer.Option(None, "--cafile", help="CA certificates of a private relay."),
    ),
    "dkim_key": (
        Path | None,
        typer.Option(None, "--dkim-key", help="PEM private key to sign with (DKIM)."),
    ),
    "dkim_selector": (
        str | None,
        typer.Option(None, "--dkim-selector", help="DKIM selector of that key."),
    ),
    "connect_timeout": (
        float | None,
        typer.Option(
            None, "--connect-timeout", min=1.0, help="Seconds to wait for the relay (default 30)."
        ),
    ),
    "allow_plaintext_auth": (
        bool,
        typer.Option(
            False,
            "--allow-plaintext-auth",
            help="Send the SMTP password even with --security none (a trusted local relay only).",
        ),
    ),
}


@dataclass(frozen=True)
class SendChoice:
    """How a send runs, as given on the command line. The organisation's rate ([send] rate)
    and the pre-send check are applied by the core (`deliver.send`); `--rate` can only lower
    that rate, and `--skip-doctor` is the one way past the check."""

    rate: float | None = None
    connections: int = 1
    limit: int | None = None
    max_attempts: int = 3
    retry_wait: float = 1.0
    dry_run: bool = False
    yes: bool = False
    at: str | None = None
    skip_doctor: bool = False
    dns_server: str | None = None


SEND_OPTIONS: dict[str, tuple[Any, Any]] = {
    "rate": (
        float | None,
        typer.Option(
            None,
            "--rate",
            min=0.1,
            help="At most this many messages per second (never above send.rate of the config).",
        ),
    ),
    "connections": (
        int,
        typer.Option(1, "--connections", min=1, max=32, help="Parallel SMTP connections."),
    ),
    "limit": (
        int | None,
        typer.Option(None, "--limit", min=1, help="Send at most this many now."),
    ),
    "max_attempts": (
        int,
        typer.Option(3, "--max-attempts", min=1, help="Tries per message for 4xx replies."),
    ),
    "retry_wait": (
        float,
        typer.Option(
            1.0, "--retry-wait", min=0.0, help="Seconds before the first retry (doubles each time)."
        ),
    ),
    "dry_run": (
        bool,
        typer.Option(False, "--dry-run", help="Show what would go out; send and record nothing."),
    ),
    "yes": (
        bool,
        typer.Option(False, "--yes", help="Do not ask (needed without a terminal)."),
    ),
    "at": (
        str | None,
        typer.Option(
            None,
            "--at",
            help='Wait and start at this time: 2031-03-09T22:00:00Z or "2031-03-09 23:00 Africa/Niamey".',
        ),
    ),
    "skip_doctor": (
        bool,
        typer.Option(
            False,
            "--skip-doctor",
            help="Send even when the DNS checks of `doctor` fail (SPF, DKIM, DMARC, unsubscribe link).",
        ),
    ),
    "dns_server": (
        str | None,
        typer.Option(
            None,
            "--dns-server",
            help=f"Ask this DNS server (HOST:PORT) for the pre-send check (default: {ENV_DNS_SERVER}, else the system's).",
        ),
    ),
}


def _grouped(name: str, kind: type, declared: dict[str, tuple[Any, Any]]) -> Callable[[F], F]:
    """A decorator that adds the options in `declared` to a command and passes them to it as
    one `kind` value named `name`."""
    assert {f.name for f in fields(kind)} == set(declared), kind  # type: ignore[arg-type]

    def decorate(command: F) -> F:
        hints = dict(inspect.get_annotations(command, eval_str=True))
        hints.pop(name, None)
        signature = inspect.signature(command)
        own = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
            if p.name != name
        ]
        added = [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=hint)
            for key, (hint, option) in declared.items()
        ]

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            group = kind(**{key: kwargs.pop(key) for key in declared})
            return command(*args, **{name: group}, **kwargs)

        run.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[
                *(p for p in own if p.kind != inspect.Parameter.KEYWORD_ONLY),
                *(p for p in own if p.kind == inspect.Parameter.KEYWORD_ONLY),
                *added,
            ]
        )
        hints.update({key: hint for key, (hint, _option) in declared.items()})
        run.__annotations__ = hints
        return run  # type: ignore[return-value]

    return decorate


smtp_options = _grouped("smtp", SmtpChoice, SMTP_OPTIONS)
"""Adds the relay's options to a command, passed to it as `smtp: SmtpChoice`."""

send_options = _grouped("run", SendChoice, SEND_OPTIONS)
"""Adds a send's options to a command, passed to it as `run: SendChoice`."""


def transport(ctx: typer.Context, smtp: SmtpChoice) -> SmtpTransport:
    """The relay to use: the options given, then the config file's [smtp] table."""
    from civic_contacts.cli import common
    from civic_contacts.deliver.smtp import transport_from

    return transport_from(
        common.settings(ctx),
        smtp.smtp_host,
        smtp.smtp_port,
        smtp.security.value if smtp.security else None,
        smtp.user,
        smtp.cafile,
        smtp.dkim_key,
        smtp.dkim_selector,
        smtp.connect_timeout,
        smtp.allow_plaintext_auth,
    )


def send_options_of(run: SendChoice, after_embargo: bool = False) -> SendOptions:
    """The core's options for a send as given on the command line (the organisation's rate
    and the pre-send check are the core's to apply)."""
    from civic_contacts.deliver.sender import SendOptions

    return SendOptions(
        rate=run.rate,
        connections=run.connections,
        limit=run.limit,
        max_attempts=run.max_attempts,
        backoff=run.retry_wait,
        after_embargo=after_embargo,
        dry_run=run.dry_run,
        skip_doctor=run.skip_doctor,
        dns_server=run.dns_server,
    )
