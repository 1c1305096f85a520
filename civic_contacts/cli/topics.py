"""`civic-contacts topic`: the office's vocabulary of topics (beats and release topics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common
from civic_contacts.cli.inputs import option

if TYPE_CHECKING:
    from civic_contacts.registry import topics
else:  # loaded when a command uses it: `topic --help` needs none of it
    topics = common.lazy("civic_contacts.registry.topics")

app = typer.Typer(
    help="Topics: the shared vocabulary of beats and release topics.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("add")
def add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The topic's code, as water or mali."),
    label_in: list[str] = typer.Option(
        [], "--label-in", help="Its name in a language, as fr=eau (repeat)."
    ),
) -> None:
    """Add a topic, or give a known one more names (the others are kept)."""
    labels = dict(option("--label-in", topics.check_label, given) for given in label_in)
    with common.transaction(ctx) as session:
        outcome = topics.add_topic(session, code, labels)
    common.say(f"topic {code.strip().lower()}: {outcome}")


@app.command("list")
def list_(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="JSON for scripts.")
) -> None:
    """List the topics with their names by language."""
    with common.transaction(ctx) as session:
        found = [(t.code, dict(t.labels)) for t in topics.list_topics(session)]
    if json:
        common.print_json([{"code": code, "labels": labels} for code, labels in found])
        return
    common.print_table(
        "Topics",
        ["topic", "names"],
        [
            [code, "; ".join(f"{k}={v}" for k, v in sorted(labels.items()))]
            for code, labels in found
        ],
    )


@app.command("remove")
def remove(ctx: typer.Context, code: str = typer.Argument(..., help="The topic's code.")) -> None:
    """Remove a topic nobody uses (one still on a journalist, outlet or release is refused)."""
    with common.transaction(ctx) as session:
        topics.remove_topic(session, code)
    common.say(f"topic {code.strip().lower()}: removed")
