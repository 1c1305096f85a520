"""`civic-contacts contact`: our own press contacts."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import typer

from civic_contacts.cli import common, imports
from civic_contacts.cli.inputs import changes_said, cleared, exists, listed, option
from civic_contacts.errors import InputError

app = typer.Typer(
    help="Press contacts: our spokespeople.", no_args_is_help=True, rich_markup_mode=None
)


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    vcf = "vcf"


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Option(..., help="Full name."),
    office: str = typer.Option(..., help="Office code."),
    email: str = typer.Option(..., help="Email address."),
    role: str | None = typer.Option(None, help="Role, such as Press Officer for the Sahel."),
    role_in: list[str] = typer.Option(
        [],
        "--role-in",
        help="The role in another language, LANG=ROLE (fr=Porte-parole); repeat for several.",
    ),
    language: list[str] = typer.Option(
        ...,
        "--language",
        help="Languages in order, BCP 47 codes such as fr, en, ar, pt-BR (repeat or fr;en).",
    ),
    phone: list[str] = typer.Option(
        [], "--phone", help="Phone text, as typed (repeat for several)."
    ),
    rank: int | None = typer.Option(None, help="Lower is more senior (100 when new)."),
    update: bool = typer.Option(
        False, "--update", help="If it exists, change only the fields given."
    ),
) -> None:
    """Add a press contact. One with this email exists: refused (use `edit`), unless
    --update, which changes only the fields given (rank and role stay unless given)."""
    from civic_contacts.registry import importing
    from civic_contacts.registry import store as registry
    from civic_contacts.registry.addresses import normalise_email
    from civic_contacts.registry.store import ContactRecord

    with common.transaction(ctx) as session:
        address = option("--email", normalise_email, email)
        found = registry.find_contact(session, address)
        if found is not None and not update:
            raise exists("contact", address)
        office_row = registry.get_office(session, office)
        phones, warnings = importing.read_phones(" / ".join(phone), office_row.country)
        values = _values(name=name, role=role, role_in=role_in, language=language, rank=rank)
        values["office_id"] = office_row.id
        if found is None:
            record = ContactRecord(
                name=str(values["name"]),
                office=office_row.code,
                role=str(values.get("role", "")),
                languages=cast(list[str], values["languages"]),
                email=address,
                phones=phones,
                rank=cast(int, values.get("rank", 100)),
                roles=cast("dict[str, str] | None", values.get("roles")),
            )
            said = [f"contact {address}: {registry.upsert_contact(session, record)}"]
        else:
            changes = registry.edit(session, found, values, phones if phone else None)
            said = changes_said("contact", address, changes)
    common.warn([f"--phone: {w}" for w in warnings])
    for line in said:
        common.say(line)


def _values(
    name: str | None = None,
    role: str | None = None,
    role_in: list[str] | None = None,
    language: list[str] | None = None,
    rank: int | None = None,
) -> dict[str, object]:
    """The contact's fields given as options, checked, by column."""
    from civic_contacts.registry import importing

    values: dict[str, object] = {}
    if name is not None:
        values["name"] = option("--name", lambda v: importing.check_text(v, "name"), name)
    if role is not None:
        values["role"] = option(
            "--role", lambda v: importing.check_text(v, "role", required=False), role
        )
    if role_in:
        values["roles"] = dict(sorted((k, v) for k, v in _given_roles(role_in).items() if v))
    if language:
        values["languages"] = option("--language", importing.check_language_list, listed(language))
    if rank is not None:
        values["rank"] = option("--rank", importing.check_rank, str(rank))
    return values


CLEARABLE = ("role", "roles", "phones")


@app.command("edit")
def edit(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The contact's email address (or id)."),
    name: str | None = typer.Option(None, help="Full name."),
    office: str | None = typer.Option(None, help="Office code."),
    role: str | None = typer.Option(None, help="Role."),
    role_in: list[str] = typer.Option(
        [], "--role-in", help="Set the role in a language, LANG=ROLE (LANG= removes it)."
    ),
    language: list[str] = typer.Option([], "--language", help="Languages in order (replace)."),
    phone: list[str] = typer.Option([], "--phone", help="Phone text (repeat): replaces them."),
    rank: int | None = typer.Option(None, help="Lower is more senior."),
    active: bool | None = typer.Option(
        None, "--active/--inactive", help="Routed to journalists, or kept but not routed."
    ),
    clear: list[str] = typer.Option(
        [], "--clear", help=f"Empty a field on purpose (repeat): {', '.join(CLEARABLE)}."
    ),
) -> None:
    """Change only the fields given; everything else of the contact (rank, phones, who is
    routed) stays as it is."""
    from civic_contacts.registry import importing
    from civic_contacts.registry import store as registry

    emptied = cleared(clear, CLEARABLE)
    with common.transaction(ctx) as session:
        found = registry.get_contact(session, email)
        values = _values(name=name, role=role, language=language, rank=rank)
        if role_in:  # merged with the roles it has (LANG= removes one)
            roles = {**found.roles, **_given_roles(role_in)}
            values["roles"] = {k: v for k, v in sorted(roles.items()) if v}
        country = found.office.country
        if office is not None:
            office_row = registry.get_office(session, office)
            values["office_id"], country = office_row.id, office_row.country
        if active is not None:
            values["active"] = active
        if "role" in emptied:
            values["role"] = ""
        if "roles" in emptied:
            values["roles"] = {}
        phones, warnings = importing.read_phones(" / ".join(phone), country)
        given_phones = [] if "phones" in emptied else (phones if phone else None)
        if not values and given_phones is None:
            raise InputError("nothing to change: give a field (--name, --rank, …) or --clear FIELD")
        changes = registry.edit(session, found, values, given_phones)
    common.warn([f"--phone: {w}" for w in warnings])
    for line in changes_said("contact", found.email, changes):
        common.say(line)


@app.command("list")
def list_(
    ctx: typer.Context,
    office: str | None = typer.Option(None, help="Only this office (code)."),
    language: str | None = typer.Option(None, help="Only people who speak this language."),
    role: str | None = typer.Option(
        None, help="Only roles containing these words (case and accents ignored)."
    ),
    active_only: bool = typer.Option(False, "--active-only", help="Leave out inactive contacts."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """List press contacts, filtered by office, language and role in any mix."""
    from civic_contacts.registry import store as registry
    from civic_contacts.registry.codes import check_language
    from civic_contacts.registry.exporting import contact_json

    wanted = option("--language", check_language, language) if language else None
    with common.transaction(ctx) as session:
        contacts = [
            contact_json(c)
            for c in registry.list_contacts(
                session, office, wanted, role, include_inactive=not active_only
            )
        ]
    if json:
        common.print_json(contacts)
        return
    common.print_table(
        "Press contacts",
        ["name", "office", "role", "languages", "email", "phones", "rank"],
        [
            [
                c["name"] + ("" if c["active"] else " (inactive)"),
                c["office"],
                c["role"],
                " ".join(c["languages"]),
                c["email"],
                "\n".join(c["phones"]),
                c["rank"],
            ]
            for c in contacts
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Email address or id."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """Show one press contact with every number in international format."""
    from civic_contacts.registry import store as registry
    from civic_contacts.registry.exporting import contact_json, phone_text

    with common.transaction(ctx) as session:
        found = registry.get_contact(session, contact)
        data = contact_json(found)
        phones = [(phone_text(p), p.problem) for p in found.phones]
        office_name = found.office.name
    if json:
        common.print_json(data)
        return
    console = common.out()
    console.print(f"{data['name']}", markup=False)
    console.print(f"  role:      {data['role']}", markup=False)
    for language, text in data["roles"].items():
        console.print(f"  role [{language}]: {text}", markup=False)
    console.print(f"  office:    {office_name} ({data['office']})", markup=False)
    console.print(f"  languages: {', '.join(data['languages'])}", markup=False)
    console.print(f"  email:     {data['email']}", markup=False)
    console.print(
        f"  rank:      {data['rank']}{'' if data['active'] else '  (inactive)'}", markup=False
    )
    for text, problem in phones:
        # phone_text already says "(WhatsApp)" for a WhatsApp number: once is enough.
        note = f"  (not valid: {problem})" if problem else ""
        console.print(f"  phone:     {text}{note}", markup=False)


@app.command("remove")
def remove(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="Email address or id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask."),
) -> None:
    """Remove a press contact (asks on a terminal; needs --yes in scripts)."""
    from civic_contacts.registry import store as registry

    with common.transaction(ctx) as session:
        found = registry.get_contact(session, contact)
        label = f"{found.name} <{found.email}>"
        common.confirm(yes, f"Remove {label}?")
        registry.remove_contact(session, found)
    common.say(f"removed {label}")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="CSV (name,office,role,languages,email,phones,rank) or vCard."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Apply the good rows, list the bad."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="utf-8 (default), cp1252 (Excel on Windows) or latin-1."
    ),
    office: str | None = typer.Option(None, "--office", help="Office for vCards that name none."),
    dry_run: bool = imports.DRY_RUN,
    blank_clears: bool = imports.BLANK_CLEARS,
    source: str | None = imports.SOURCE,
) -> None:
    """Import press contacts: all rows or none (matched by email, so twice changes nothing)."""
    from civic_contacts.registry import importing
    from civic_contacts.registry import store as registry

    with imports.importing(ctx, encoding, dry_run, blank_clears, "contacts", file, source) as run:
        session = run.session
        if office:
            office = registry.get_office(session, office).code
        report = importing.import_contacts(session, file, skip_invalid, default_office=office)
        run.report = report
    imports.say(report, "contacts", run.noted, dry_run, file)


@app.command("extract")
def extract(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A press release, plain text or Markdown."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
    region: str | None = typer.Option(
        None, "--region", help="Country for numbers when no city says."
    ),
    import_: bool = typer.Option(
        False,
        "--import",
        help="Merge the people into the press contacts: matched by email, then name and office;"
        " new numbers added, what the registry says kept.",
    ),
    office: str | None = typer.Option(None, "--office", help="Office for imported people."),
    replace: bool = typer.Option(
        False, "--replace", help="With --import: where the release differs, take its value."
    ),
    include_desks: bool = typer.Option(
        False, "--include-desks", help="With --import: import desks (entries with no person)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="With --import: print what would change; change nothing."
    ),
) -> None:
    """Find the media-contact block of a release and read each person's details."""
    from civic_contacts.registry.extract import extract_contacts, make_region_lookup
    from civic_contacts.registry.places import read_office_places
    from civic_contacts.registry.tables import decode

    if (replace or include_desks or dry_run) and not import_:
        raise InputError("--replace, --include-desks and --dry-run go with --import")
    text = decode(file)
    if not import_:
        places = read_office_places(common.settings(ctx).db_url)
        if places is not None:
            people = extract_contacts(text, make_region_lookup(places), region=region)
            _print_extracted(file, people, json)
            return
    from civic_contacts.registry import importing
    from civic_contacts.registry import store as registry

    with common.transaction(ctx, commit=not dry_run) as session:
        offices = registry.list_offices(session)
        lookup = make_region_lookup([(o.code, o.city, o.country) for o in offices])
        people = extract_contacts(text, lookup, region=region)
        if import_:
            if office is None:
                if not sys.stdin.isatty():
                    raise InputError("--import needs --office CODE for the people found")
                office = typer.prompt(
                    "Office for these contacts", default=offices[0].code if offices else None
                )
            report = importing.import_extracted(
                session,
                people,
                office or "",
                source=file.name,
                replace=replace,
                include_desks=include_desks,
            )
    _print_extracted(file, people, json)
    if import_:
        common.warn(report.warnings)
        for step in report.steps:
            common.say(("would " if dry_run else "") + step.line())
        common.say(report.summary() + (" (dry run: nothing was changed)" if dry_run else ""))


def _print_extracted(file: Path, people: list[Any], json: bool) -> None:
    if json:
        common.print_json([p.to_json() for p in people])
    else:
        common.print_table(
            f"Contacts in {file.name}",
            ["name", "role", "office", "emails", "phones"],
            [
                [
                    p.name if p.name is not None else "(desk)",
                    p.role,
                    p.office,
                    "\n".join(p.emails),
                    "\n".join(
                        (ph.international or f"{ph.raw} (not valid: {ph.problem})")
                        + (" (WhatsApp)" if ph.whatsapp else "")
                        for ph in p.phones
                    ),
                ]
                for p in people
            ],
        )


@app.command("export")
def export(
    ctx: typer.Context,
    format: ExportFormat = typer.Option(ExportFormat.csv, "--format", help="csv, json or vcf."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (default: stdout)."
    ),
    office: str | None = typer.Option(None, help="Only this office."),
    vcard_version: str = typer.Option("3.0", "--vcard-version", help="3.0 (default) or 4.0."),
    raw: bool = typer.Option(
        False, "--raw", help="Cells as stored, even ones a spreadsheet would run as formulas."
    ),
) -> None:
    """Export press contacts as CSV, JSON or vCard (CSV cells a spreadsheet would run as
    formulas start with ', unless --raw)."""
    from civic_contacts.registry import store as registry
    from civic_contacts.registry.exporting import contact_json, contacts_csv

    with common.transaction(ctx) as session:
        contacts = registry.list_contacts(session, office)
        if format is ExportFormat.csv:
            text = contacts_csv(contacts, raw)
        elif format is ExportFormat.json:
            import json as json_module

            text = (
                json_module.dumps([contact_json(c) for c in contacts], ensure_ascii=False, indent=2)
                + "\n"
            )
        else:
            from civic_contacts.registry.vcard import contacts_to_vcards

            text = contacts_to_vcards(
                contacts, version=vcard_version, organisation=common.settings(ctx).press_name
            )
    if output is None:
        sys.stdout.write(text)
    else:
        from civic_contacts.compose.outbox import write_text_atomic

        write_text_atomic(output, text)
        common.say(f"wrote {len(contacts)} contacts to {output}")


def _given_roles(values: list[str]) -> dict[str, str]:
    """`--role-in` values by language (the last one given wins; an empty role removes)."""
    from civic_contacts.registry import importing

    return dict(option("--role-in", importing.check_role_given, value) for value in values)
