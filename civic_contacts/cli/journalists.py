"""`civic-contacts journalist`: the people at outlets who receive releases."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

from civic_contacts.cli import common, imports
from civic_contacts.cli.inputs import changes_said, cleared, exists, option
from civic_contacts.errors import InputError

if TYPE_CHECKING:
    from civic_contacts.registry import addresses, codes, exporting, importing, tables, topics
    from civic_contacts.registry import store as registry
else:  # loaded when a command uses them: `journalist --help` needs none of them
    addresses = common.lazy("civic_contacts.registry.addresses")
    codes = common.lazy("civic_contacts.registry.codes")
    exporting = common.lazy("civic_contacts.registry.exporting")
    importing = common.lazy("civic_contacts.registry.importing")
    registry = common.lazy("civic_contacts.registry.store")
    tables = common.lazy("civic_contacts.registry.tables")
    topics = common.lazy("civic_contacts.registry.topics")

app = typer.Typer(
    help="Journalists: who receives releases.", no_args_is_help=True, rich_markup_mode=None
)


UPDATE = typer.Option(False, "--update", help="If it exists, change only the fields given.")
BEATS_HELP = "Topics they cover, as water;mali (codes from topic list)."


def beats_given(session: object, value: str) -> list[str]:
    """--beats, checked against the office's topics."""
    known = topics.known_topics(session)  # type: ignore[arg-type]
    return option("--beats", lambda v: topics.check_beats(v, known), value)


@app.command("add")
def add(
    ctx: typer.Context,
    outlet: str = typer.Option(..., help="Outlet slug."),
    name: str = typer.Option(..., help="Full name."),
    email: str = typer.Option(..., help="Email address."),
    language: str | None = typer.Option(
        None, help="Their own language (a BCP 47 code such as fr or en), if not the outlet's."
    ),
    role: str | None = typer.Option(None, help="Role at the outlet."),
    phone: list[str] = typer.Option([], "--phone", help="Phone text (repeat)."),
    beats: str | None = typer.Option(None, help=BEATS_HELP),
    update: bool = UPDATE,
) -> None:
    """Add a journalist. One with this email exists: refused (use `edit`), unless --update,
    which changes only the fields given; a removed (archived) one is brought back."""
    with common.transaction(ctx) as session:
        address = option("--email", addresses.normalise_email, email)
        from civic_contacts.registry.erasure import erased_among

        if erased_among(session, [address]):
            raise InputError(
                f"{address} was erased on request; it is not added again (only a keyed hash"
                " of it is kept, to say so)"
            )
        found = registry.find_journalist(session, address)
        if found is not None and found.archived_at is None and not update:
            raise exists("journalist", address)
        outlet_row = registry.get_outlet(session, outlet)
        phones, warnings = importing.read_phones(" / ".join(phone), outlet_row.country)
        values: dict[str, object] = {
            "outlet_id": outlet_row.id,
            "name": option("--name", lambda v: importing.check_text(v, "name"), name),
        }
        if language is not None:
            values["language"] = option("--language", codes.check_language, language)
        if role is not None:
            values["role"] = option(
                "--role", lambda v: importing.check_text(v, "role", required=False), role
            )
        if beats is not None:
            values["beats"] = beats_given(session, beats)
        if found is None:
            record = registry.JournalistRecord(
                outlet=outlet_row.slug,
                name=str(values["name"]),
                email=address,
                language=cast("str | None", values.get("language")),
                role=str(values.get("role", "")),
                phones=phones,
                beats=cast("list[str] | None", values.get("beats")),
            )
            said = [f"journalist {address}: {registry.upsert_journalist(session, record)}"]
        else:
            back = found.archived_at is not None
            values["archived_at"] = None
            changes = registry.edit(session, found, values, phones if phone else None)
            said = changes_said("journalist", address, changes)
            if back:
                said[0] = f"journalist {address}: brought back"
    common.warn([f"--phone: {w}" for w in warnings])
    for line in said:
        common.say(line)


CLEARABLE = ("language", "role", "phones", "beats")


@app.command("edit")
def edit(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The journalist's email address."),
    outlet: str | None = typer.Option(None, help="Outlet slug."),
    name: str | None = typer.Option(None, help="Full name."),
    language: str | None = typer.Option(None, help="Their own language (BCP 47)."),
    role: str | None = typer.Option(None, help="Role at the outlet."),
    phone: list[str] = typer.Option([], "--phone", help="Phone text (repeat): replaces them."),
    beats: str | None = typer.Option(None, help=BEATS_HELP),
    clear: list[str] = typer.Option(
        [], "--clear", help=f"Empty a field on purpose (repeat): {', '.join(CLEARABLE)}."
    ),
) -> None:
    """Change only the fields given; everything else of the journalist stays as it is."""
    emptied = cleared(clear, CLEARABLE)
    with common.transaction(ctx) as session:
        found = registry.get_journalist(session, email)
        values: dict[str, object] = {}
        country = found.outlet.country
        if outlet is not None:
            outlet_row = registry.get_outlet(session, outlet)
            values["outlet_id"], country = outlet_row.id, outlet_row.country
        if name is not None:
            values["name"] = option("--name", lambda v: importing.check_text(v, "name"), name)
        if language is not None:
            values["language"] = option("--language", codes.check_language, language)
        if role is not None:
            values["role"] = option(
                "--role", lambda v: importing.check_text(v, "role", required=False), role
            )
        if beats is not None:
            values["beats"] = beats_given(session, beats)
        phones, warnings = importing.read_phones(" / ".join(phone), country)
        if "beats" in emptied:
            values["beats"] = []
        if "language" in emptied:
            values["language"] = None
        if "role" in emptied:
            values["role"] = ""
        given_phones = [] if "phones" in emptied else (phones if phone else None)
        if not values and given_phones is None:
            raise InputError("nothing to change: give a field (--name, --role, …) or --clear FIELD")
        changes = registry.edit(session, found, values, given_phones)
    common.warn([f"--phone: {w}" for w in warnings])
    for line in changes_said("journalist", found.email, changes):
        common.say(line)


@app.command("list")
def list_(
    ctx: typer.Context,
    outlet: str | None = typer.Option(None, help="Only this outlet."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """List the journalists."""
    with common.transaction(ctx) as session:
        suppressed = registry.suppressed_emails(session)
        journalists = [
            exporting.journalist_json(j, suppressed)
            for j in registry.list_journalists(session, outlet)
        ]
    if json:
        common.print_json(journalists)
        return
    common.print_table(
        "Journalists",
        ["outlet", "name", "email", "language", "role", "phones", "status"],
        [
            [
                j["outlet"],
                j["name"],
                addresses.display_email(j["email"]),
                j["language"] or "",
                j["role"],
                "\n".join(j["phones"]),
                ", ".join(j["status"]),
            ]
            for j in journalists
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The journalist's email address."),
    changes: int = typer.Option(5, "--changes", min=0, help="How many of the last changes."),
) -> None:
    """One journalist: every field, whether suppressed or opted out, and the last changes
    made to them (edits, imports, suppressions)."""
    from civic_contacts.registry import history

    with common.transaction(ctx) as session:
        found = registry.get_journalist(session, email)
        shown = exporting.journalist_json(found, registry.suppressed_emails(session))
        last = [
            history.entry_line(c)
            for c in history.entries(session, "journalist", found.email, limit=changes)
        ] + [
            history.entry_line(c)
            for c in history.entries(session, "suppression", found.email, limit=changes)
        ]
    console = common.out()
    for name in ("name", "email", "outlet", "language", "role"):
        console.print(f"{name + ':':10} {shown[name] or ''}", markup=False)
    for phone in shown["phones"]:
        console.print(f"{'phone:':10} {phone}", markup=False)
    console.print(f"{'beats:':10} {'; '.join(shown['beats']) or 'none'}", markup=False)
    chose = shown["preferences"]
    said = [
        f"also reads {', '.join(chose['also_reads'])}" if chose["also_reads"] else "",
        f"follows {', '.join(chose['follows'])}" if chose["follows"] else "",
        f"at most {chose['weekly_cap']} a week" if chose["weekly_cap"] is not None else "",
        "" if chose["accepts_embargoed"] else "no embargoed material",
    ]
    console.print(f"{'chose:':10} {'; '.join(s for s in said if s) or 'nothing'}", markup=False)
    console.print(f"{'status:':10} {', '.join(shown['status']) or 'on the list'}", markup=False)
    if changes:
        console.print("last changes:" if last else "last changes: none recorded", markup=False)
        for line in sorted(last, key=lambda text: -int(text.split()[0]))[:changes]:
            console.print(f"  {line}", markup=False)


@app.command("export-data")
def export_data(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The journalist's email address."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (default: stdout)."
    ),
) -> None:
    """Everything held about one journalist, as JSON (their right of access): the record,
    its history, every message sent to them, what came back, any suppression."""
    import json as json_module

    from civic_contacts.registry.subject import everything_about

    with common.transaction(ctx) as session:
        data = everything_about(session, email)
    common.write_output(json_module.dumps(data, ensure_ascii=False, indent=2) + "\n", output)


@app.command("erase")
def erase(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The journalist's email address."),
    yes: bool = common.YES,
) -> None:
    """Erase a journalist on request (their right to erasure): the record and its numbers go;
    in the messages sent, what came back and the history only a keyed hash of the address
    stays, which refuses the address if it is imported or added again."""
    from civic_contacts.registry.erasure import erase as erase_journalist

    with common.transaction(ctx) as session:
        common.confirm(yes, f"Erase everything held about {email}?")
        changed = erase_journalist(session, email)
    common.say(
        f"erased {email} ({changed} record(s) changed); a keyed hash refuses it if it comes back"
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV (outlet,name,email,language,role,phones) or vCard."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Apply the good rows, list the bad."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="utf-8 (default), cp1252 (Excel on Windows) or latin-1."
    ),
    outlet: str | None = typer.Option(None, "--outlet", help="Outlet for vCards that name none."),
    dry_run: bool = imports.DRY_RUN,
    blank_clears: bool = imports.BLANK_CLEARS,
    source: str | None = imports.SOURCE,
) -> None:
    """Import journalists: all rows or none (matched by email). A known journalist keeps
    what an absent column or an empty cell does not say (unless --blank-clears)."""
    with imports.importing(
        ctx, encoding, dry_run, blank_clears, "journalists", file, source
    ) as run:
        session = run.session
        if outlet:
            outlet = registry.get_outlet(session, outlet).slug
        report = importing.import_journalists(session, file, skip_invalid, default_outlet=outlet)
        run.report = report
    imports.say(report, "journalists", run.noted, dry_run, file)


@app.command("export")
def export(
    ctx: typer.Context,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (default: stdout)."
    ),
    outlet: str | None = typer.Option(None, help="Only this outlet."),
    raw: bool = typer.Option(
        False, "--raw", help="Cells as stored, even ones a spreadsheet would run as formulas."
    ),
) -> None:
    """Export journalists as an import-ready CSV (cells a spreadsheet would run as formulas
    start with ', unless --raw)."""
    with common.transaction(ctx) as session:
        text = exporting.journalists_csv(
            registry.list_journalists(session, outlet), raw, registry.suppressed_emails(session)
        )
    common.write_output(text, output)


@app.command("remove")
def remove(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The journalist's email address."),
    yes: bool = common.YES,
) -> None:
    """Remove a journalist; one who was sent messages is archived instead (kept for the audit,
    never sent anything again; `journalist add` brings them back)."""
    with common.transaction(ctx) as session:
        common.confirm(yes, f"Remove journalist {email}?")
        outcome = registry.remove_journalist(session, email)
    common.say(
        f"{outcome} journalist {email}"
        + (" (messages were sent to them: kept for the audit)" if outcome == "archived" else "")
    )


@app.command("review")
def review(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="JSON for scripts.")
) -> None:
    """Journalists whose auto-reply says they left and gives another address (from `bounces
    fetch` or `bounces read`): nothing is changed; edit or add them yourself."""
    from civic_contacts.after.returns import reviews

    with common.transaction(ctx) as session:
        rows = [
            {
                "email": b.email,
                "new_address": b.new_address,
                "said": b.diagnostic,
                "received_at": b.received_at.isoformat().replace("+00:00", "Z"),
            }
            for b in reviews(session)
        ]
    if json:
        common.print_json(rows)
        return
    if not rows:
        common.say("nothing to review: no auto-reply said a journalist left")
        return
    common.print_table(
        "Journalists who left (from their auto-replies)",
        ["email", "new address", "they said", "received"],
        [
            [r["email"], r["new_address"], str(r["said"])[:80], str(r["received_at"])[:16]]
            for r in rows
        ],
    )
    common.say(
        "to follow one: civic-contacts journalist add --outlet OUTLET --email NEW ...,"
        " then civic-contacts journalist remove OLD"
    )
