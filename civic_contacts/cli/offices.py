"""`civic-contacts office`: where our press contacts sit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common
from civic_contacts.cli.inputs import listed, option

if TYPE_CHECKING:
    from civic_contacts.registry import codes, exporting, importing, tables
    from civic_contacts.registry import store as registry
else:  # loaded when a command uses them: `office --help` needs none of them
    codes = common.lazy("civic_contacts.registry.codes")
    exporting = common.lazy("civic_contacts.registry.exporting")
    importing = common.lazy("civic_contacts.registry.importing")
    registry = common.lazy("civic_contacts.registry.store")
    tables = common.lazy("civic_contacts.registry.tables")

app = typer.Typer(
    help="Offices: where press contacts sit and what they cover.", no_args_is_help=True
)


@app.command("add")
def add(
    ctx: typer.Context,
    code: str = typer.Option(..., help="Short code, such as niamey."),
    name: str = typer.Option(..., help="Display name."),
    city: str = typer.Option(..., help="City."),
    country: str = typer.Option(..., help="ISO 3166 country code, such as NE."),
    timezone: str = typer.Option(..., help="IANA time zone, such as Africa/Niamey."),
    language: list[str] = typer.Option(
        ...,
        "--language",
        help="Languages in order, BCP 47 codes such as fr, en, ar, pt-BR (repeat or fr;en).",
    ),
    covers: list[str] = typer.Option(
        ["*"], "--covers", help="Countries covered (repeat or NE;ML), * for all."
    ),
    city_in: list[str] = typer.Option(
        [], "--city-in", help="The city in another language, LANG=NAME (fr=La Haye); repeat."
    ),
) -> None:
    """Add an office, or update the one with this code."""
    record = registry.OfficeRecord(
        code=option("--code", importing.check_code, code),
        name=option("--name", lambda v: importing.check_text(v, "name"), name),
        city=option("--city", lambda v: importing.check_text(v, "city"), city),
        country=option("--country", codes.check_country, country),
        timezone=option("--timezone", codes.check_timezone, timezone),
        languages=option("--language", importing.check_language_list, listed(language)),
        covers=option(
            "--covers", lambda v: importing.check_covers(codes.split_list(v)), listed(covers)
        ),
        cities={
            language: text
            for language, text in (
                option("--city-in", importing.check_city_given, v) for v in city_in
            )
            if text
        }
        if city_in
        else None,
    )
    with common.transaction(ctx) as session:
        outcome = registry.upsert_office(session, record)
    common.say(f"office {record.code}: {outcome}")


@app.command("list")
def list_(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="JSON for scripts.")
) -> None:
    """List the offices."""
    with common.transaction(ctx) as session:
        offices = [exporting.office_json(o) for o in registry.list_offices(session)]
    if json:
        common.print_json(offices)
        return
    common.print_table(
        "Offices",
        ["code", "name", "city", "country", "time zone", "languages", "covers"],
        [
            [
                o["code"],
                o["name"],
                o["city"],
                o["country"],
                o["timezone"],
                " ".join(o["languages"]),
                " ".join(o["covers"]),
            ]
            for o in offices
        ],
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV: code,name,city,country,timezone,languages,covers"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Apply the good rows, list the bad."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="utf-8 (default), cp1252 (Excel on Windows) or latin-1."
    ),
) -> None:
    """Import offices from CSV: all rows or none (matched by code, so twice changes nothing)."""
    with tables.reading_as(encoding), common.transaction(ctx) as session:
        report = importing.import_offices(session, file, skip_invalid)
    common.warn(report.skipped)
    common.say(report.summary("offices"))


@app.command("remove")
def remove(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Office code."),
    yes: bool = common.YES,
) -> None:
    """Remove an office nothing depends on (refused while contacts or releases belong to it)."""
    with common.transaction(ctx) as session:
        common.confirm(yes, f"Remove office {code}?")
        registry.remove_office(session, code)
    common.say(f"removed office {code}")
