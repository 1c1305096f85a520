"""`civic-contacts outlet`: the media organisations on our list."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common
from civic_contacts.cli.inputs import listed, option
from civic_contacts.registry.codes import OUTLET_KINDS

if TYPE_CHECKING:
    from civic_contacts.registry import codes, exporting, importing, tables
    from civic_contacts.registry import store as registry
else:  # loaded when a command uses them: `outlet --help` needs none of them
    codes = common.lazy("civic_contacts.registry.codes")
    exporting = common.lazy("civic_contacts.registry.exporting")
    importing = common.lazy("civic_contacts.registry.importing")
    registry = common.lazy("civic_contacts.registry.store")
    tables = common.lazy("civic_contacts.registry.tables")

app = typer.Typer(help="Outlets: the media organisations on the list.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    slug: str = typer.Option(..., help="Short id, such as agence-sahel-presse."),
    name: str = typer.Option(..., help="Display name."),
    country: str = typer.Option(..., help="ISO 3166 country code."),
    timezone: str = typer.Option(..., help="IANA time zone of the newsroom."),
    language: list[str] = typer.Option(
        ...,
        "--language",
        help="Languages in order, BCP 47 codes such as fr, en, ar, pt-BR (repeat or fr;en).",
    ),
    kind: str = typer.Option("online", help="One of: " + ", ".join(OUTLET_KINDS) + "."),
    tag: list[str] = typer.Option([], "--tag", help="Tags (repeat)."),
) -> None:
    """Add an outlet, or update the one with this slug."""
    record = registry.OutletRecord(
        slug=option("--slug", lambda v: importing.check_code(v, "slug"), slug),
        name=option("--name", lambda v: importing.check_text(v, "name"), name),
        country=option("--country", codes.check_country, country),
        languages=option("--language", importing.check_language_list, listed(language)),
        timezone=option("--timezone", codes.check_timezone, timezone),
        kind=option("--kind", importing.check_kind, kind),
        tags=[
            option("--tag", lambda v: importing.check_text(v, "tag", max_length=50), t)
            for t in codes.split_list(listed(tag))
        ],
    )
    with common.transaction(ctx) as session:
        outcome = registry.upsert_outlet(session, record)
    common.say(f"outlet {record.slug}: {outcome}")


@app.command("list")
def list_(
    ctx: typer.Context,
    country: str | None = typer.Option(None, help="Only outlets of this country."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """List the outlets."""
    with common.transaction(ctx) as session:
        outlets = [exporting.outlet_json(o) for o in registry.list_outlets(session, country)]
    if json:
        common.print_json(outlets)
        return
    common.print_table(
        "Outlets",
        ["slug", "name", "country", "languages", "time zone", "kind", "tags"],
        [
            [
                o["slug"],
                o["name"],
                o["country"],
                " ".join(o["languages"]),
                o["timezone"],
                o["kind"],
                " ".join(o["tags"]),
            ]
            for o in outlets
        ],
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV: slug,name,country,languages,timezone,kind,tags"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Apply the good rows, list the bad."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="utf-8 (default), cp1252 (Excel on Windows) or latin-1."
    ),
) -> None:
    """Import outlets from CSV: all rows or none (matched by slug)."""
    with tables.reading_as(encoding), common.transaction(ctx) as session:
        report = importing.import_outlets(session, file, skip_invalid)
    common.warn(report.skipped)
    common.say(report.summary("outlets"))


@app.command("export")
def export(
    ctx: typer.Context,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (default: stdout)."
    ),
    raw: bool = typer.Option(
        False, "--raw", help="Cells as stored, even ones a spreadsheet would run as formulas."
    ),
) -> None:
    """Export outlets as an import-ready CSV (cells a spreadsheet would run as formulas start
    with ', unless --raw)."""
    with common.transaction(ctx) as session:
        text = exporting.outlets_csv(registry.list_outlets(session), raw)
    common.write_output(text, output)


@app.command("remove")
def remove(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="Outlet slug."),
    yes: bool = common.YES,
) -> None:
    """Remove an outlet nothing depends on (refused while it has journalists)."""
    with common.transaction(ctx) as session:
        common.confirm(yes, f"Remove outlet {slug}?")
        registry.remove_outlet(session, slug)
    common.say(f"removed outlet {slug}")
