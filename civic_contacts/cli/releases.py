"""`civic-contacts release`: what is sent, one Markdown file per language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from civic_contacts import registry, releases
from civic_contacts.cli import common

app = typer.Typer(
    help="Releases: one Markdown file per language with TOML front matter.", no_args_is_help=True
)


def _embargo_text(release) -> str:  # type: ignore[no-untyped-def]
    return release.embargo.strftime("%Y-%m-%d %H:%M UTC") if release.embargo else "none"


@app.command("add")
def add(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="One file per language (a.en.md a.fr.md)."),
) -> None:
    """Add a release, or update the one with this slug."""
    parsed = [releases.read_release_file(path) for path in files]
    groups = releases.combine(parsed)
    with common.transaction(ctx) as session:
        results = [releases.add_release(session, group) for group in groups]
        lines = [
            f"release {r.slug}: {outcome} (revision {r.revision};"
            f" {', '.join(t.language for t in r.translations)}; embargo {_embargo_text(r)})"
            + (
                f"; pending messages are re-rendered by the next: civic-contacts batch build {r.slug}"
                " --out DIR"
                if outcome == "updated"
                else ""
            )
            for r, outcome in results
        ]
    for line in lines:
        common.say(line)


@app.command("list")
def list_(
    ctx: typer.Context, json: bool = typer.Option(False, "--json", help="JSON for scripts.")
) -> None:
    """List releases."""
    with common.transaction(ctx) as session:
        rows: list[dict[str, Any]] = [
            {
                "slug": r.slug,
                "office": r.office.code,
                "languages": [t.language for t in r.translations],
                "concerns": list(r.concerns),
                "embargo": r.embargo.isoformat() if r.embargo else None,
                "title": r.translations[0].title if r.translations else "",
            }
            for r in releases.list_releases(session)
        ]
    if json:
        common.print_json(rows)
        return
    common.print_table(
        "Releases",
        ["slug", "office", "languages", "embargo (UTC)", "title"],
        [
            [
                r["slug"],
                r["office"],
                " ".join(r["languages"]),
                (r["embargo"] or "none")[:16],
                r["title"],
            ]
            for r in rows
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="Release slug."),
    json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """Show a release and its translations."""
    with common.transaction(ctx) as session:
        release = releases.get_release(session, slug)
        data: dict[str, Any] = {
            "slug": release.slug,
            "office": release.office.code,
            "concerns": list(release.concerns),
            "embargo": release.embargo.isoformat() if release.embargo else None,
            "embargo_sequence": release.embargo_sequence,
            "revision": release.revision,
            "translations": [
                {"language": t.language, "title": t.title, "dateline": t.dateline, "body": t.body}
                for t in release.translations
            ],
        }
    if json:
        common.print_json(data)
        return
    console = common.out()
    console.print(
        f"{data['slug']}  (office {data['office']}, concerns {' '.join(data['concerns']) or '-'})",
        markup=False,
    )
    console.print(f"embargo: {data['embargo'] or 'none'}", markup=False)
    for t in data["translations"]:
        console.print(f"\n[{t['language']}] {t['title']}", markup=False)
        if t["dateline"]:
            console.print(f"     {t['dateline']}", markup=False)
        first = t["body"].strip().splitlines()[0] if t["body"].strip() else ""
        console.print(f"     {first[:100]}…", markup=False)


@app.command("remove")
def remove(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="Release slug."),
    yes: bool = common.YES,
) -> None:
    """Remove a release; one that was sent is archived instead (never built or sent again,
    its deliveries kept for the audit)."""
    with common.transaction(ctx) as session:
        common.confirm(yes, f"Remove release {slug}?")
        outcome = registry.remove_release(session, slug)
    common.say(
        f"{outcome} release {slug}"
        + (" (it was sent: kept for the audit, never sent again)" if outcome == "archived" else "")
    )
