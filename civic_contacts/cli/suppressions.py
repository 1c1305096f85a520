"""`civic-contacts suppression` (also `suppress`): addresses that must never receive mail."""

from __future__ import annotations

import re

import typer

from civic_contacts.cli import common
from civic_contacts.cli.inputs import option
from civic_contacts.config import ENV_UNSUBSCRIBE_SECRET
from civic_contacts.deliver.tokens import verification_secrets, verify_token
from civic_contacts.errors import ConfigError
from civic_contacts.registry import store as registry
from civic_contacts.registry.addresses import normalise_email
from civic_contacts.registry.codes import check_text

app = typer.Typer(
    help="Suppressed addresses: never mailed.", no_args_is_help=True, rich_markup_mode=None
)


@app.command("add")
def add(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="Address to suppress."),
    reason: str = typer.Option("asked to be removed", help="Why."),
) -> None:
    """Never send to this address again."""
    address = option("EMAIL", normalise_email, email)
    text = option("--reason", lambda v: check_text(v, "reason"), reason)
    with common.transaction(ctx) as session:
        outcome = registry.suppress(session, address, text)
    common.say(f"{address}: {'suppressed' if outcome == 'created' else 'already suppressed'}")


@app.command("list")
def list_(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="JSON for scripts.")
) -> None:
    """List suppressed addresses with reason and date."""
    with common.transaction(ctx) as session:
        rows = [
            {"email": s.email, "reason": s.reason, "created_at": s.created_at.isoformat()}
            for s in registry.list_suppressions(session)
        ]
    if json:
        common.print_json(rows)
        return
    common.print_table(
        "Suppressed addresses",
        ["email", "reason", "since"],
        [[r["email"], r["reason"], r["created_at"][:16]] for r in rows],
    )


@app.command("remove")
def remove(
    ctx: typer.Context, email: str = typer.Argument(..., help="Address to allow again.")
) -> None:
    """Allow an address again."""
    address = option("EMAIL", normalise_email, email)
    with common.transaction(ctx) as session:
        registry.unsuppress(session, address)
    common.say(f"{address}: no longer suppressed")


@app.command("apply")
def apply(
    ctx: typer.Context,
    token: str = typer.Argument(..., help="The token from an unsubscribe reply's subject."),
) -> None:
    """Suppress the address an unsubscribe token was made for (from a mailto: reply)."""
    secret = verification_secrets()
    if not secret:
        raise ConfigError(
            f"no unsubscribe secret yet (no link was ever signed here): set {ENV_UNSUBSCRIBE_SECRET}"
            " to the one the messages were built with"
        )
    # The token as the reply's subject carries it: "unsubscribe TOKEN", "Re: unsubscribe
    # TOKEN", "AW: Unsubscribe TOKEN"; or the token alone.
    found = re.search(r"(?i)\bunsubscribe\s+(\S+)", token)
    text = found.group(1) if found else token.strip()
    address = verify_token(secret, text)
    with common.transaction(ctx) as session:
        outcome = registry.suppress(session, address, "unsubscribe reply")
    common.say(f"{address}: {'suppressed' if outcome == 'created' else 'already suppressed'}")


def serve_unsubscribe(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8480, "--port", help="Port to listen on."),
) -> None:
    """Serve unsubscribe links: a confirmation page on GET, RFC 8058 one-click on POST."""
    from civic_contacts.after.serve import make_server

    secret = verification_secrets()
    if not secret:
        raise ConfigError(
            f"no unsubscribe secret yet (no link was ever signed here): set {ENV_UNSUBSCRIBE_SECRET}"
            " to the one the messages were built with"
        )
    try:
        settings = common.settings(ctx)
        server = make_server(
            common.engine(ctx),
            secret,
            settings.press_name,
            host,
            port,
            contact=settings.press_address,
        )
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    common.say(
        f"serving unsubscribe links on http://{host}:{port}/unsubscribe and preference pages"
        f" on http://{host}:{port}/preferences with waitress"
        " (Ctrl-C to stop; put it behind your https reverse proxy)"
    )
    try:
        server.run()
    except KeyboardInterrupt:
        common.say("stopped")
    finally:
        server.close()
