"""`civic-contacts release`: what is sent, one Markdown file per language."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from civic_contacts.cli import common
from civic_contacts.registry.statuses import DeliveryStatus as S

if TYPE_CHECKING:
    from civic_contacts import db
    from civic_contacts.deliver import notice_status
    from civic_contacts.deliver import status as batch_state
    from civic_contacts.registry import store as registry
    from civic_contacts.releases import store as releases
else:  # loaded when a command uses them: `release --help` needs none of them
    batch_state = common.lazy("civic_contacts.deliver.status")
    db = common.lazy("civic_contacts.db")
    notice_status = common.lazy("civic_contacts.deliver.notice_status")
    registry = common.lazy("civic_contacts.registry.store")
    releases = common.lazy("civic_contacts.releases.store")

app = typer.Typer(
    help="Releases: one Markdown file per language with TOML front matter.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _embargo_text(release) -> str:  # type: ignore[no-untyped-def]
    return release.embargo.strftime("%Y-%m-%d %H:%M UTC") if release.embargo else "none"


@app.command("add")
def add(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="One file per language (a.en.md a.fr.md)."),
) -> None:
    """Add a new release (adding the same files again changes nothing; to change a release,
    use `release update`)."""
    parsed = [releases.read_release_file(path) for path in files]
    groups = releases.combine(parsed)
    with common.transaction(ctx) as session:
        results = [releases.add_release(session, group) for group in groups]
        lines = []
        for r, outcome in results:
            lines.append(
                f"release {r.slug}: {outcome} (revision {r.revision};"
                f" {', '.join(t.language for t in r.translations)}; embargo {_embargo_text(r)})"
            )
            found = [t.language for t in r.translations if _contact_block(t.body, False)]
            if found and not r.keep_contact_block:
                lines.append(
                    f"  the body's own contact block ({', '.join(found)}) is left out of"
                    " messages: each ends with the contacts routed to its outlet"
                    " (keep_contact_block = true in the front matter keeps it)"
                )
    for line in lines:
        common.say(line)


@app.command("update")
def update(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(
        ..., help="The changed files of one release (languages not given are kept)."
    ),
) -> None:
    """Record a new revision of a release: a moved embargo or a changed text. Says which
    notices are now due and to how many journalists."""
    parsed = [releases.read_release_file(path) for path in files]
    groups = releases.combine(parsed)
    if len(groups) != 1:
        raise typer.BadParameter(
            f"these files belong to {len(groups)} releases ({', '.join(g[0].slug for g in groups)});"
            " update one release at a time",
            param_hint="FILES",
        )
    with common.transaction(ctx) as session:
        release, changes = releases.update_release(session, groups[0])
        due = notice_status.due_notices(session, release, db.utcnow()) if changes else []
        slug, revision = release.slug, release.revision
        pending = batch_state.batch_status(session, slug).counts[S.PENDING]
    if not changes:
        common.say(f"release {slug}: unchanged (revision {revision})")
        return
    common.say(f"release {slug}: revision {revision}")
    for line in changes.summary:
        common.say(f"  {line}")
    if pending:
        common.say(
            f"{pending} unsent message(s) are re-rendered from this revision by the next:"
            f" civic-contacts batch build {slug} --out DIR"
        )
    for item in due:
        common.say(
            f"{item.kind} notice due: {item.journalists:,} journalist(s) were sent the release"
            f" {item.reason}; run: {item.command}"
        )


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
            "link": release.link,
            "cancelled_at": release.cancelled_at.isoformat() if release.cancelled_at else None,
            "keep_contact_block": release.keep_contact_block,
            "fallback": list(release.fallback or []),
            "topics": list(release.topics or []),
            "topics_open": release.topics_open,
            "translations": [
                {
                    "language": t.language,
                    "title": t.title,
                    "dateline": t.dateline,
                    "body": t.body,
                    "contact_block": _contact_block(t.body, release.keep_contact_block),
                }
                for t in release.translations
            ],
            "revisions": [
                {
                    "number": r.number,
                    "at": r.created_at.isoformat(),
                    "embargo": r.embargo.isoformat() if r.embargo else None,
                    "changes": list(r.summary),
                }
                for r in releases.revisions(session, release)
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
    if data["cancelled_at"]:
        console.print(f"cancelled: {data['cancelled_at']}", markup=False)
    if data["link"]:
        console.print(f"public link: {data['link']}", markup=False)
    if data["topics"]:
        console.print(
            f"topics: {', '.join(data['topics'])}"
            + (
                " (and journalists with no beats)"
                if data["topics_open"]
                else " (only journalists with those beats)"
            ),
            markup=False,
        )
    for t in data["translations"]:
        console.print(f"\n[{t['language']}] {t['title']}", markup=False)
        if t["dateline"]:
            console.print(f"     {t['dateline']}", markup=False)
        first = t["body"].strip().splitlines()[0] if t["body"].strip() else ""
        console.print(f"     {first[:100]}…", markup=False)
        block = t["contact_block"]
        if block:
            lines = f"lines {block['lines'][0]}-{block['lines'][1]} of the body"
            console.print(
                f'     its own contact block ({lines}, "{block["heading"][:60]}"): '
                + (
                    "kept in messages (keep_contact_block = true)"
                    if block["kept"]
                    else "left out of messages; each ends with the contacts routed to its"
                    " outlet (keep_contact_block = true keeps it)"
                ),
                markup=False,
            )

    if data["revisions"]:
        console.print("\nrevisions:", markup=False)
        for r in data["revisions"]:
            console.print(
                f"  {r['number']}  {r['at'][:16].replace('T', ' ')} UTC  {'; '.join(r['changes'])}",
                markup=False,
            )


def _contact_block(body: str, kept: bool) -> dict[str, Any] | None:
    """Where the body's own closing contact block is (1-based lines) and what messages do."""
    from civic_contacts.registry.extract import closing_block

    found = closing_block(body)
    if found is None:
        return None
    start, end = found
    return {"lines": [start + 1, end], "heading": body.splitlines()[start].strip(), "kept": kept}


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
        outcome = releases.remove_release(session, slug)
    common.say(
        f"{outcome} release {slug}"
        + (" (it was sent: kept for the audit, never sent again)" if outcome == "archived" else "")
    )
