"""`civic-contacts serve`: the desk, the officers' pages in a browser, served by waitress."""

from __future__ import annotations

from pathlib import Path

import typer

from civic_contacts.cli import common
from civic_contacts.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8470, "--port", help="Port to listen on."),
    outbox: Path | None = typer.Option(
        None, "--outbox", help="Folder the desk builds outboxes in (default: the data folder)."
    ),
    skip_doctor: bool = typer.Option(
        False, "--skip-doctor", help="Send from the desk without the pre-send DNS check."
    ),
    dns_server: str | None = typer.Option(
        None, "--dns-server", envvar="CIVIC_CONTACTS_DNS_SERVER", help="Resolver for the check."
    ),
    allowed_host: list[str] = typer.Option(
        [],
        "--allowed-host",
        help="A host name browsers use to reach the desk, such as desk.example.org behind your"
        " proxy (repeat); requests naming any other host are refused.",
    ),
) -> None:
    """Serve the desk: the registry, releases, approval and sends in a browser, for officers
    (create the first user with: civic-contacts user add NAME --role admin)."""
    import platformdirs
    from waitress.server import create_server

    from civic_contacts.config import APP_NAME
    from civic_contacts.deliver.smtp import transport_from
    from civic_contacts.deliver.tokens import signing_secret
    from civic_contacts.desk.app import create_app
    from civic_contacts.registry.users import list_users

    settings = common.settings(ctx)
    engine = common.engine(ctx)
    folder = outbox or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "outboxes"
    folder.mkdir(parents=True, exist_ok=True)
    app = create_app(
        engine,
        settings,
        folder,
        signing_secret(),
        lambda: transport_from(settings),
        skip_doctor=skip_doctor,
        dns_server=dns_server,
        hosts=[*LOOPBACK, *allowed_host] if host in LOOPBACK else [host, *allowed_host],
    )
    with common.transaction(ctx) as session:
        nobody = not list_users(session)
    try:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=8,
            channel_timeout=30,
            connection_limit=200,
            max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
            expose_tracebacks=False,
            ident="civic-contacts",
        )
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    if nobody:
        common.warn(["no user yet: create one with civic-contacts user add NAME --role admin"])
    common.say(
        f"the desk is at http://{host}:{port}/ (waitress; Ctrl-C to stop; behind https, set"
        " [web] secure_cookies = true)"
    )
    try:
        server.run()
    except KeyboardInterrupt:
        common.say("stopped")
