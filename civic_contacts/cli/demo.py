"""`civic-contacts demo`: load the demo data and run the main job as far as it goes."""

from __future__ import annotations

from pathlib import Path

import typer

from civic_contacts import demo as core
from civic_contacts.cli import common
from civic_contacts.registry import store as registry
from civic_contacts.releases import routing
from civic_contacts.releases import store as releases


def demo(
    ctx: typer.Context,
    out: Path = typer.Option(
        Path("civic-contacts-demo"), "--out", help="Folder for the demo outbox."
    ),
) -> None:
    """Load the demo offices, contacts, outlets, journalists and release into a registry of
    the demo's own (beside the outbox, unless --db names one), then run the main job."""
    state = common.state(ctx)
    if state.db is None:
        # Never the user's real registry: invented people must not mix with real ones.
        own = out.expanduser().resolve()
        own.parent.mkdir(parents=True, exist_ok=True)  # where the demo was told to write
        state.db = f"sqlite:///{own.parent / (own.name + '.sqlite3')}"
        state.settings = None
    common.say(
        f"registry: {common.engine(ctx).url.render_as_string(hide_password=True)}"
        " (the demo's own; remove it with the outbox when you are done)"
    )
    with common.transaction(ctx) as session:
        load = core.load_demo_data(session)
    for noun, report in load.reports.items():
        common.say(report.summary(noun))
        common.warn(report.warnings)
    common.say(f"release {load.release}: embargo {load.embargo:%Y-%m-%d %H:%M} UTC")
    with common.transaction(ctx) as session:
        release = releases.get_release(session, load.release)
        routings = routing.route_release(
            releases.release_info(release),
            registry.routing_outlets(session),
            registry.routing_journalists(session),
            registry.routing_contacts(session),
            registry.routing_offices(session),
        )
    common.say("routing (outlet: language -> contacts):")
    for r in routings:
        names = ", ".join(c.name for c in r.contacts)
        mark = " (fallback)" if r.choice.fallback else ""
        common.say(f"  {r.outlet.slug}: {r.choice.language}{mark} -> {names}")
    from civic_contacts.cli.batches import build_and_print
    from civic_contacts.deliver.plan import BuildOptions

    common.say(f"building the batch of {load.release}:")
    build_and_print(ctx, load.release, out, BuildOptions())
