"""`civic-contacts history` and `civic-contacts import undo`: every change to the registry,
and taking an import back."""

from __future__ import annotations

import typer

from civic_contacts.cli import common


def history(
    ctx: typer.Context,
    kind: str | None = typer.Argument(
        None, help="office, contact, outlet, journalist, suppression, or import."
    ),
    key: str | None = typer.Argument(None, help="Its code, slug or email: that record's changes."),
    since: str | None = typer.Option(None, "--since", help="Only changes since (2026-12-01)."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many entries."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """Every change to the registry, newest first: when, by whom (`officer` in the config
    file, else the system user), the command, and the fields before and after. An import is
    one entry with its counts; `import undo ID` takes one back."""
    from civic_contacts.errors import InputError
    from civic_contacts.registry import history as log

    kinds = ("office", "contact", "outlet", "journalist", "suppression", "topic", "import")
    if kind is not None and kind not in kinds:
        raise InputError(f'"{kind}" is not a kind of record (these are: {", ".join(kinds)})')
    moment = log.check_since(since) if since else None
    with common.transaction(ctx) as session:
        rows = log.entries(session, kind, key.strip().lower() if key else None, moment, limit)
        shown = [log.entry_json(r) for r in rows] if json else [log.entry_line(r) for r in rows]
    if json:
        common.print_json(shown)
        return
    if not shown:
        common.say("no change recorded" + (f" for {kind} {key}" if key else ""))
        return
    for line in shown:
        common.out().print(line, markup=False)


app = typer.Typer(help="Imports: take one back.", no_args_is_help=True, rich_markup_mode=None)


@app.command("undo")
def undo(
    ctx: typer.Context,
    entry: int = typer.Argument(..., help="The import's id in `civic-contacts history import`."),
) -> None:
    """Take an import back: what it created is removed, what it updated gets its fields back.
    Refused, with nothing changed, when anything it touched changed since."""
    from civic_contacts.registry.undo import undo_import

    with common.transaction(ctx) as session:
        said = undo_import(session, entry)
    common.say(said)
