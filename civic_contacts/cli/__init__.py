"""The `civic-contacts` command line: thin adapters over the core, one module per noun.

Errors from the core (`CivicContactsError`) and the database driver are caught here, once, and
become one line on stderr and exit code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from civic_contacts.cli import common
from civic_contacts.errors import CivicContactsError, InvalidRow


class _Group(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CivicContactsError as exc:
            report_error(exc)
            raise typer.Exit(2) from None
        except Exception as exc:
            # The database failing under a run (locked past the wait, gone, full) is not a bug
            # of ours: one line, and never a report of success.
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


def _register() -> None:
    from civic_contacts.cli import (
        batches,
        config,
        contacts,
        database,
        demo,
        doctor,
        journalists,
        notices,
        offices,
        outlets,
        phones,
        releases,
        routes,
        suppressions,
    )

    app.add_typer(config.app, name="config")
    app.add_typer(database.app, name="db")
    app.add_typer(offices.app, name="office")
    app.add_typer(contacts.app, name="contact")
    app.add_typer(phones.app, name="phone")
    app.add_typer(outlets.app, name="outlet")
    app.add_typer(journalists.app, name="journalist")
    app.add_typer(suppressions.app, name="suppress")
    app.add_typer(releases.app, name="release")
    app.add_typer(routes.app, name="route")
    app.add_typer(batches.app, name="batch")
    app.add_typer(notices.app, name="notice")
    app.command("demo")(demo.demo)
    app.command("doctor")(doctor.doctor)
    app.command("serve-unsubscribe")(suppressions.serve_unsubscribe)


_register()


def main() -> None:
    """Entry point of the console script."""
    app()
