"""`civic-contacts route`: who speaks to which outlet, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from civic_contacts.cli import common

if TYPE_CHECKING:
    from civic_contacts.registry import store as registry
    from civic_contacts.releases import routing
    from civic_contacts.releases import store as releases
else:  # loaded when a command uses them: `route --help` needs none of them
    registry = common.lazy("civic_contacts.registry.store")
    releases = common.lazy("civic_contacts.releases.store")
    routing = common.lazy("civic_contacts.releases.routing")

app = typer.Typer(
    help="Routing: the language and spokespeople for each outlet.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _short(reasons: tuple[str, ...]) -> str:
    return "; ".join(reasons[1:])


@app.command("show")
def show(
    ctx: typer.Context,
    release: str = typer.Argument(..., help="Release slug."),
    outlet: str | None = typer.Option(None, help="Only this outlet."),
    max_contacts: int = typer.Option(2, "--max-contacts", min=1, help="Contacts per outlet."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """Show, per outlet, the release language and the routed contacts with their reasons,
    and each journalist a build would leave out (beats, their own choices) with why; for a
    release with topics, why each journalist is in."""
    from civic_contacts.deliver.routes import routed_outlets

    with common.transaction(ctx) as session:
        info = releases.release_info(releases.get_release(session, release))
        routed = routed_outlets(session, release, max_contacts, outlet)
        if json:
            common.print_json_stream(_routing_json(r, count) for r, count in routed)
            return
        routings = list(routed)
    rows = []
    for r, count in routings:
        contacts = (
            "\n".join(f"{c.name} ({c.office}): {_short(c.reasons)}" for c in r.contacts) or "nobody"
        )
        language = r.choice.language + (" (fallback)" if r.choice.fallback else "")
        rows.append([r.outlet.slug, r.outlet.country, language, str(count), contacts])
        for j in r.exceptions:
            names = ", ".join(c.name for c in j.contacts) or "nobody"
            rows.append(["", "", f"  {j.journalist.name}: {j.choice.language}", "", names])
        if info.topics:
            for j in r.journalists:
                rows.append(["", "", f"  in: {j.journalist.name}", "", j.why])
        for journalist, reason in r.left_out:
            rows.append(["", "", f"  out: {journalist.name}", "", reason])
    common.print_table(
        f"Routing of {info.slug}",
        ["outlet", "country", "language", "journalists", "contacts (why)"],
        rows,
    )


def _routing_json(r: routing.OutletRouting, count: int) -> dict[str, object]:
    return {
        "outlet": r.outlet.slug,
        "country": r.outlet.country,
        "language": r.choice.language,
        "fallback": r.choice.fallback,
        "why": r.choice.reason,
        "contacts": [
            {"name": c.name, "office": c.office, "reasons": list(c.reasons)} for c in r.contacts
        ],
        "journalists": count,
        "why_in": [
            {"name": j.journalist.name, "email": j.journalist.email, "why": j.why}
            for j in r.journalists
            if j.why and j.why != "on the list"
        ],
        "left_out": [
            {"name": journalist.name, "email": journalist.email, "why": reason}
            for journalist, reason in r.left_out
        ],
        "exceptions": [
            {
                "name": j.journalist.name,
                "email": j.journalist.email,
                "language": j.choice.language,
                "contacts": [
                    {"name": c.name, "office": c.office, "reasons": list(c.reasons)}
                    for c in j.contacts
                ],
            }
            for j in r.exceptions
        ],
    }


@app.command("coverage")
def coverage(
    ctx: typer.Context,
    release: str | None = typer.Option(None, help="Also list outlet languages this release lacks."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """List outlets that cannot be served in one of their languages, and who could."""
    with common.transaction(ctx) as session:
        info = releases.release_info(releases.get_release(session, release)) if release else None
        gaps = routing.coverage_gaps(
            registry.routing_outlets(session),
            registry.routing_contacts(session),
            registry.routing_offices(session),
            info,
        )
        topics_missing: list[str] = []
        if info is not None and info.topics:
            router = routing.Router(
                info, registry.routing_contacts(session), registry.routing_offices(session)
            )
            outlets = {o.slug: o for o in registry.routing_outlets(session)}
            for slug, people in registry.journalists_by_outlet(session):
                router.route_outlet(outlets[slug], people)
            topics_missing = routing.topic_gaps(info, router.covered)
    if json:
        common.print_json(
            [
                {
                    "outlet": g.outlet.slug,
                    "languages": list(g.outlet.languages),
                    "language": g.language,
                    "problem": g.problem,
                    "could": list(g.could),
                }
                for g in gaps
            ]
            + [
                {"outlet": None, "languages": [], "language": None, "problem": p, "could": []}
                for p in topics_missing
            ]
        )
        return
    for problem in topics_missing:
        common.say(f"coverage gap: {problem}")
    if not gaps:
        common.say("every outlet can be served in each of its languages")
        return
    common.print_table(
        "Coverage gaps",
        ["outlet", "languages", "problem", "who could"],
        [
            [g.outlet.slug, " ".join(g.outlet.languages), g.problem, "\n".join(g.could) or "nobody"]
            for g in gaps
        ],
    )
