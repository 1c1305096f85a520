"""`civic-contacts db`: the schema of the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common

if TYPE_CHECKING:
    from civic_contacts import migrations
else:  # loaded when a command uses it: `db --help` needs none of it
    migrations = common.lazy("civic_contacts.migrations")

app = typer.Typer(help="The registry database.", no_args_is_help=True, rich_markup_mode=None)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Bring the database schema to the newest version (harmless when it already is)."""
    engine = common.engine(ctx, migrate=False)
    before, after = migrations.upgrade(engine)
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        common.say(f"{url}: already at schema {after}")
    else:
        common.say(f"{url}: upgraded from {before or 'empty'} to schema {after}")
