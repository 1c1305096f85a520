"""`civic-contacts journalist`: the people at outlets who receive releases."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common
from civic_contacts.cli.inputs import option

if TYPE_CHECKING:
    from civic_contacts.registry import addresses, codes, exporting, importing, tables
    from civic_contacts.registry import store as registry
else:  # loaded when a command uses them: `journalist --help` needs none of them
    addresses = common.lazy("civic_contacts.registry.addresses")
    codes = common.lazy("civic_contacts.registry.codes")
    exporting = common.lazy("civic_contacts.registry.exporting")
    importing = common.lazy("civic_contacts.registry.importing")
    registry = common.lazy("civic_contacts.registry.store")
    tables = common.lazy("civic_contacts.registry.tables")

app = typer.Typer(help="Journalists: who receives releases.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    outlet: str = typer.Option(..., help="Outlet slug."),
    name: str = typer.Option(..., help="Full name."),
    email: str = typer.Option(..., help="Email address."),
    language: str | None = typer.Option(
        None, help="Their own language (a BCP 47 code such as fr or en), if not the outlet's."
    ),
    role: str = typer.Option("", help="Role at the outlet."),
    phone: list[str] = typer.Option([], "--phone", help="Phone text (repeat)."),
) -> None:
    """Add a journalist, or update the one with this email."""
    with common.transaction(ctx) as session:
        outlet_row = registry.get_outlet(session, outlet)
        phones, warnings = importing.read_phones(" / ".join(phone), outlet_row.country)
        record = registry.JournalistRecord(
            outlet=outlet_row.slug,
            name=option("--name", lambda v: importing.check_text(v, "name"), name),
            email=option("--email", addresses.normalise_email, email),
            language=option("--language", codes.check_language, language) if language else None,
            role=option("--role", lambda v: importing.check_text(v, "role", required=False), role),
            phones=phones,
        )
        outcome = registry.upsert_journalist(session, record)
    common.warn([f"--phone: {w}" for w in warnings])
    common.say(f"journalist {record.email}: {outcome}")


@app.command("list")
def list_(
    ctx: typer.Context,
    outlet: str | None = typer.Option(None, help="Only this outlet."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """List the journalists."""
    with common.transaction(ctx) as session:
        journalists = [
            exporting.journalist_json(j) for j in registry.list_journalists(session, outlet)
        ]
    if json:
        common.print_json(journalists)
        return
    common.print_table(
        "Journalists",
        ["outlet", "name", "email", "language", "role", "phones"],
        [
            [
                j["outlet"],
                j["name"],
                addresses.display_email(j["email"]),
                j["language"] or "",
                j["role"],
                "\n".join(j["phones"]),
            ]
            for j in journalists
        ],
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
) -> None:
    """Import journalists: all rows or none (matched by email)."""
    with tables.reading_as(encoding), common.transaction(ctx) as session:
        if outlet:
            outlet = registry.get_outlet(session, outlet).slug
        report = importing.import_journalists(session, file, skip_invalid, default_outlet=outlet)
    common.warn(report.skipped)
    common.warn(report.warnings)
    common.say(report.summary("journalists"))


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
        text = exporting.journalists_csv(registry.list_journalists(session, outlet), raw)
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
