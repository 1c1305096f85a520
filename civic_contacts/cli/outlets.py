"""`civic-contacts outlet`: the media organisations on our list."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer

from civic_contacts.cli import common, imports
from civic_contacts.cli.inputs import changes_said, cleared, exists, listed, option
from civic_contacts.errors import InputError
from civic_contacts.registry.codes import OUTLET_KINDS

if TYPE_CHECKING:
    from civic_contacts.registry import codes, exporting, importing, tables, topics
    from civic_contacts.registry import store as registry
else:  # loaded when a command uses them: `outlet --help` needs none of them
    codes = common.lazy("civic_contacts.registry.codes")
    exporting = common.lazy("civic_contacts.registry.exporting")
    importing = common.lazy("civic_contacts.registry.importing")
    registry = common.lazy("civic_contacts.registry.store")
    tables = common.lazy("civic_contacts.registry.tables")
    topics = common.lazy("civic_contacts.registry.topics")

app = typer.Typer(
    help="Outlets: the media organisations on the list.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


ALSO_READS = typer.Option(
    [],
    "--also-reads",
    help="Languages the readers also read, in order, for a release in none of the outlet's"
    " (repeat or en;fr).",
)
BEATS = typer.Option(
    None, help="Topics the outlet covers, its journalists' beats when they have none (water;mali)."
)


def _beats(session: Any, value: str | None, values: dict[str, object]) -> None:
    """--beats, checked against the office's topics, into `values`."""
    if value is not None:
        known = topics.known_topics(session)
        values["beats"] = option("--beats", lambda v: topics.check_beats(v, known), value)


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
    kind: str | None = typer.Option(
        None, help="One of: " + ", ".join(OUTLET_KINDS) + " (online when new)."
    ),
    tag: list[str] = typer.Option([], "--tag", help="Tags (repeat)."),
    also_reads: list[str] = ALSO_READS,
    beats: str | None = BEATS,
    update: bool = typer.Option(
        False, "--update", help="If it exists, change only the fields given."
    ),
) -> None:
    """Add an outlet. One with this slug exists: refused (use `edit`), unless --update,
    which changes only the fields given."""
    key = option("--slug", lambda v: importing.check_code(v, "slug"), slug)
    values = _values(name, country, timezone, language, kind, tag, also_reads)
    with common.transaction(ctx) as session:
        _beats(session, beats, values)
        found = registry.find_outlet(session, key)
        if found is not None and not update:
            raise exists("outlet", key)
        if found is None:
            record = registry.OutletRecord(
                slug=key,
                kind=str(values.pop("kind", "online")),
                tags=cast(list[str], values.pop("tags", [])),
                also_reads=cast("list[str] | None", values.pop("also_reads", None)),
                beats=cast("list[str] | None", values.pop("beats", None)),
                **cast(dict[str, Any], values),
            )
            said = [f"outlet {key}: {registry.upsert_outlet(session, record)}"]
        else:
            said = changes_said("outlet", key, registry.edit(session, found, values))
    for line in said:
        common.say(line)


def _values(
    name: str | None,
    country: str | None,
    timezone: str | None,
    language: list[str],
    kind: str | None,
    tag: list[str],
    also_reads: list[str],
) -> dict[str, object]:
    """The outlet's fields given as options, checked, by column."""
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = option("--name", lambda v: importing.check_text(v, "name"), name)
    if country is not None:
        values["country"] = option("--country", codes.check_country, country)
    if timezone is not None:
        values["timezone"] = option("--timezone", codes.check_timezone, timezone)
    if language:
        values["languages"] = option("--language", importing.check_language_list, listed(language))
    if kind is not None:
        values["kind"] = option("--kind", importing.check_kind, kind)
    if tag:
        values["tags"] = [
            option("--tag", lambda v: importing.check_text(v, "tag", max_length=50), t)
            for t in codes.split_list(listed(tag))
        ]
    if also_reads:
        values["also_reads"] = option(
            "--also-reads", importing.check_language_list, listed(also_reads)
        )
    return values


@app.command("edit")
def edit(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The outlet's slug."),
    name: str | None = typer.Option(None, help="Display name."),
    country: str | None = typer.Option(None, help="ISO 3166 country code."),
    timezone: str | None = typer.Option(None, help="IANA time zone of the newsroom."),
    language: list[str] = typer.Option([], "--language", help="Languages in order (replace)."),
    kind: str | None = typer.Option(None, help="One of: " + ", ".join(OUTLET_KINDS) + "."),
    tag: list[str] = typer.Option([], "--tag", help="Tags (repeat): replace them."),
    also_reads: list[str] = ALSO_READS,
    beats: str | None = BEATS,
    clear: list[str] = typer.Option(
        [], "--clear", help="Empty a field on purpose: tags, also_reads, beats."
    ),
) -> None:
    """Change only the fields given; everything else of the outlet stays as it is."""
    emptied = cleared(clear, ("tags", "also_reads", "beats"))
    values = _values(name, country, timezone, language, kind, tag, also_reads)
    for emptied_field in emptied:
        values[emptied_field] = []
    if not values and beats is None:
        raise InputError("nothing to change: give a field (--name, --language, …) or --clear tags")
    with common.transaction(ctx) as session:
        _beats(session, beats, values)
        found = registry.get_outlet(session, slug)
        changes = registry.edit(session, found, values)
    for line in changes_said("outlet", found.slug, changes):
        common.say(line)


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
    dry_run: bool = imports.DRY_RUN,
    blank_clears: bool = imports.BLANK_CLEARS,
    source: str | None = imports.SOURCE,
) -> None:
    """Import outlets from CSV: all rows or none (matched by slug)."""
    with imports.importing(ctx, encoding, dry_run, blank_clears, "outlets", file, source) as run:
        session = run.session
        report = importing.import_outlets(session, file, skip_invalid)
        run.report = report
    imports.say(report, "outlets", run.noted, dry_run, file)


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
