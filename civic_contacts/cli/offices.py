"""`civic-contacts office`: where our press contacts sit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer

from civic_contacts.cli import common, imports
from civic_contacts.cli.inputs import changes_said, cleared, exists, listed, option
from civic_contacts.errors import InputError

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
    help="Offices: where press contacts sit and what they cover.",
    no_args_is_help=True,
    rich_markup_mode=None,
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
        [], "--covers", help="Countries covered (repeat or NE;ML), * for all (the default)."
    ),
    city_in: list[str] = typer.Option(
        [], "--city-in", help="The city in another language, LANG=NAME (fr=La Haye); repeat."
    ),
    update: bool = typer.Option(
        False, "--update", help="If it exists, change only the fields given."
    ),
) -> None:
    """Add an office. One with this code exists: refused (use `edit`), unless --update,
    which changes only the fields given."""
    key = option("--code", importing.check_code, code)
    values = _values(name, city, country, timezone, language, covers, city_in)
    with common.transaction(ctx) as session:
        found = registry.find_office(session, key)
        if found is not None and not update:
            raise exists("office", key)
        if found is None:
            record = registry.OfficeRecord(
                code=key,
                covers=cast(list[str], values.pop("covers", ["*"])),
                cities=cast("dict[str, str] | None", values.pop("cities", None)),
                **cast(dict[str, Any], values),
            )
            said = [f"office {key}: {registry.upsert_office(session, record)}"]
        else:
            said = changes_said("office", key, registry.edit(session, found, values))
    for line in said:
        common.say(line)


def _values(
    name: str | None,
    city: str | None,
    country: str | None,
    timezone: str | None,
    language: list[str],
    covers: list[str],
    city_in: list[str],
    cities: dict[str, str] | None = None,
) -> dict[str, object]:
    """The office's fields given as options, checked, by column."""
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = option("--name", lambda v: importing.check_text(v, "name"), name)
    if city is not None:
        values["city"] = option("--city", lambda v: importing.check_text(v, "city"), city)
    if country is not None:
        values["country"] = option("--country", codes.check_country, country)
    if timezone is not None:
        values["timezone"] = option("--timezone", codes.check_timezone, timezone)
    if language:
        values["languages"] = option("--language", importing.check_language_list, listed(language))
    if covers:
        values["covers"] = option(
            "--covers", lambda v: importing.check_covers(codes.split_list(v)), listed(covers)
        )
    if city_in:
        given = dict(option("--city-in", importing.check_city_given, v) for v in city_in)
        merged = {**(cities or {}), **given}
        values["cities"] = {k: v for k, v in sorted(merged.items()) if v}
    return values


@app.command("edit")
def edit(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The office's code."),
    name: str | None = typer.Option(None, help="Display name."),
    city: str | None = typer.Option(None, help="City."),
    country: str | None = typer.Option(None, help="ISO 3166 country code."),
    timezone: str | None = typer.Option(None, help="IANA time zone."),
    language: list[str] = typer.Option([], "--language", help="Languages in order (replace)."),
    covers: list[str] = typer.Option([], "--covers", help="Countries covered (replace)."),
    city_in: list[str] = typer.Option(
        [], "--city-in", help="The city in another language, LANG=NAME (LANG= removes it)."
    ),
    clear: list[str] = typer.Option(
        [], "--clear", help="Empty a field on purpose: cities (the city's other names)."
    ),
) -> None:
    """Change only the fields given; everything else of the office stays as it is."""
    emptied = cleared(clear, ("cities",))
    with common.transaction(ctx) as session:
        found = registry.get_office(session, code)
        values = _values(
            name, city, country, timezone, language, covers, city_in, dict(found.cities or {})
        )
        if "cities" in emptied:
            values["cities"] = {}
        if not values:
            raise InputError(
                "nothing to change: give a field (--name, --city, …) or --clear cities"
            )
        changes = registry.edit(session, found, values)
    for line in changes_said("office", found.code, changes):
        common.say(line)


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
    dry_run: bool = imports.DRY_RUN,
    blank_clears: bool = imports.BLANK_CLEARS,
    source: str | None = imports.SOURCE,
) -> None:
    """Import offices from CSV: all rows or none (matched by code, so twice changes nothing)."""
    with imports.importing(ctx, encoding, dry_run, blank_clears, "offices", file, source) as run:
        session = run.session
        report = importing.import_offices(session, file, skip_invalid)
        run.report = report
    imports.say(report, "offices", run.noted, dry_run, file)


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
