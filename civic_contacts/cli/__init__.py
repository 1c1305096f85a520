"""The `civic-contacts` command line: thin adapters over the core, one module per noun.

Errors from the core (`CivicContactsError`) and the database driver are caught here, once, and
become one line on stderr and exit code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from civic_contacts.cli import common
from civic_contacts.errors import CivicContactsError, InvalidRow


class _Group(TyperGroup):
    """The root command: lists every command from `COMMANDS` without importing it, and
    imports a command's module only when that command runs."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        name = ALIASES.get(cmd_name, cmd_name)
        entry = COMMANDS.get(name)
        if entry is None:
            return None
        # What the help listing needs: the name and one line. Running it loads the real one.
        return TyperCommand(name, help=entry[2], short_help=entry[2])

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, _listed, rest = super().resolve_command(ctx, args)
        if name is None:
            return None, None, rest
        name = ALIASES.get(name, name)
        return name, load_command(name), rest

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CivicContactsError as exc:
            report_error(exc)
            raise typer.Exit(2) from None
        except Exception as exc:
            # The database failing under a run (locked past the wait, gone, full) is not a bug
            # of ours: one line, and never a report of success. A run that never loaded
            # SQLAlchemy (`--help` among them) cannot have failed in it.
            if "sqlalchemy.exc" not in sys.modules:
                raise
            from sqlalchemy.exc import DBAPIError

            if not isinstance(exc, DBAPIError):
                raise
            report_error(database_failure(exc))
            raise typer.Exit(2) from None


SHOWN_PROBLEMS = 50


def database_failure(exc: Exception) -> CivicContactsError:
    """A driver's error as one line (its first line, which never holds the password)."""
    from civic_contacts.errors import DatabaseError

    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return DatabaseError(
        f"the database failed: {first}; this run stopped, and what it did last may not be recorded",
        hint="run civic-contacts batch status RELEASE once the database is back; a send"
        " resumes where the record ends",
    )


def report_error(exc: CivicContactsError) -> None:
    """Print a core error as people should read it."""
    console = common.err()
    if isinstance(exc, InvalidRow) and len(exc.problems) > 1:
        console.print(f"error: {len(exc.problems)} problems, nothing was imported:", markup=False)
        for problem in exc.problems[:SHOWN_PROBLEMS]:
            console.print(f"  {problem}", markup=False)
        if len(exc.problems) > SHOWN_PROBLEMS:
            console.print(
                f"  ... and {len(exc.problems) - SHOWN_PROBLEMS} more problems", markup=False
            )
    else:
        console.print(f"error: {exc.message}", markup=False)
    if exc.hint:
        console.print(f"hint: {exc.hint}", markup=False)


app = typer.Typer(
    cls=_Group,
    name="civic-contacts",
    help="Press contacts, media lists and embargoed release batches for a press office.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    # Plain help at the root: rich's help renderer alone costs more than the rest of `--help`.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from civic_contacts import __version__

        typer.echo(f"civic-contacts {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None, "--db", help="Database URL (else CIVIC_CONTACTS_DB, else a file in your data folder)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    common.state(ctx).db = db


def _sub_app(module: str) -> Any:
    return _module(module).app


def _module(module: str) -> Any:
    import importlib

    return importlib.import_module(f"civic_contacts.cli.{module}")


# Every command, its module and its one-line help. Modules are imported only when their command
# runs, so `civic-contacts --help` lists them without loading SQLAlchemy, Jinja2 or the core
# (tests/test_cli_help.py checks these lines against the modules' own help).
COMMANDS: dict[str, tuple[str, str | None, str]] = {
    "demo": (
        "demo",
        "demo",
        "Load the demo offices, contacts, outlets, journalists and release into a registry of"
        " the demo's own, then run the main job.",
    ),
    "doctor": (
        "doctor",
        "doctor",
        "Check what mailbox providers check (SPF, DKIM, DMARC, MX, one-click unsubscribe) and"
        " the relay.",
    ),
    "serve-unsubscribe": (
        "suppressions",
        "serve_unsubscribe",
        "Serve unsubscribe links: a confirmation page on GET, RFC 8058 one-click on POST.",
    ),
    "config": ("config", None, "Settings: the config file, checked."),
    "db": ("database", None, "The registry database."),
    "office": ("offices", None, "Offices: where press contacts sit and what they cover."),
    "contact": ("contacts", None, "Press contacts: our spokespeople."),
    "phone": ("phones", None, "Phone numbers."),
    "outlet": ("outlets", None, "Outlets: the media organisations on the list."),
    "journalist": ("journalists", None, "Journalists: who receives releases."),
    "suppression": ("suppressions", None, "Suppressed addresses: never mailed."),
    "topic": ("topics", None, "Topics: the shared vocabulary of beats and release topics."),
    "user": ("users", None, "Users of the desk: names, roles, passwords."),
    "serve": (
        "desk",
        "serve",
        "Serve the desk: the registry, releases, approval and sends in a browser, for officers.",
    ),
    "bounce": (
        "bounces",
        None,
        "Bounces, auto-replies and complaints: read the return mailbox, keep the list true.",
    ),
    "release": (
        "releases",
        None,
        "Releases: one Markdown file per language with TOML front matter.",
    ),
    "route": ("routes", None, "Routing: the language and spokespeople for each outlet."),
    "batch": ("batches", None, "Batches: one message per journalist for a release."),
    "history": (
        "history",
        "history",
        "Every change to the registry, newest first: when, by whom, the command, and the"
        " fields before and after.",
    ),
    "import": ("history", None, "Imports: take one back."),
    "notice": (
        "notices",
        None,
        "Notices: embargo moved or cancelled, corrections, reminders and the lift, sent to"
        " exactly those who were sent the release, threaded with it.",
    ),
}


# Older names of groups, still understood and never listed.
ALIASES = {"suppress": "suppression", "bounces": "bounce"}


def load_command(name: str) -> Any:
    """The click command or group behind `name`, importing its module now."""
    module, function, _help = COMMANDS[name]
    command: Any
    if function is None:
        command = typer.main.get_group(_sub_app(module))
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(getattr(_module(module), function))
        command = typer.main.get_command(single)
    command.name = name
    return command


def main() -> None:
    """Entry point of the console script."""
    app()
