"""`civic-contacts phone`: read the numbers in a piece of text."""

from __future__ import annotations

import typer

from civic_contacts.cli import common
from civic_contacts.registry.phones import parse_phones

app = typer.Typer(help="Phone numbers.", no_args_is_help=True, rich_markup_mode=None)


@app.command("parse")
def parse(
    text: str = typer.Argument(..., help="Free text with one or more numbers."),
    region: str | None = typer.Option(
        None, "--region", help="Country for numbers without one (NE, NL…)."
    ),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """Find every number in TEXT, normalised, with its type and WhatsApp flag."""
    numbers = parse_phones(text, region)
    if json:
        common.print_json([n.to_json() for n in numbers])
        return
    if not numbers:
        common.say("no phone number found")
        raise typer.Exit(1)
    common.print_table(
        None,
        ["raw", "number", "type", "WhatsApp", "problem"],
        [
            [
                n.raw,
                n.international or "",  # includes the extension, as phonenumbers writes it
                n.kind,
                n.whatsapp_url or ("yes" if n.whatsapp else ""),
                n.problem or "",
            ]
            for n in numbers
        ],
    )
