"""What every `import` command shares: --dry-run (what would change, field by field, with
nothing changed) and --blank-clears (an empty cell empties the field; by default an empty
cell, like an absent column, leaves it as it is)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from civic_contacts.cli import common

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DRY_RUN = typer.Option(
    False,
    "--dry-run",
    help="Say what the import would create and change, field by field; change nothing.",
)
BLANK_CLEARS = typer.Option(
    False,
    "--blank-clears",
    help="An empty cell empties that field (by default it, like an absent column, leaves it).",
)
SOURCE = typer.Option(
    None,
    "--source",
    help='Where the list comes from ("Agence list 2026"), kept with the import as the lawful'
    " basis of holding it (legitimate interest) and shown by journalist export-data.",
)
CHANGES_SHOWN = 200


@dataclass
class Run:
    """One import: its session (rolled back for a dry run), the changes noted for a dry run,
    and its report (set by the command: the history entry takes its counts)."""

    session: Session
    noted: list[str]
    report: Any = None


@contextlib.contextmanager
def importing(
    ctx: typer.Context,
    encoding: str | None,
    dry_run: bool,
    blank_clears: bool,
    noun: str,
    file: Path,
    source: str | None = None,
) -> Iterator[Run]:
    """An import in one transaction, recorded as one history entry with its counts."""
    from civic_contacts.registry import history
    from civic_contacts.registry.importing import blank_clearing
    from civic_contacts.registry.store import CHANGES
    from civic_contacts.registry.tables import reading_as

    with (
        reading_as(encoding),
        blank_clearing(blank_clears),
        common.transaction(ctx, commit=not dry_run) as session,
    ):
        run = Run(session, [])
        if dry_run:
            session.info[CHANGES] = run.noted
        with history.importing(session, noun, file.name) as log:
            if source:
                log.source = source.strip()[:200]
            yield run
            if run.report is not None:
                log.counts = {
                    "created": run.report.created,
                    "updated": run.report.updated,
                    "unchanged": run.report.unchanged,
                }


def say(report, noun: str, noted: list[str], dry_run: bool, file: Path) -> None:  # type: ignore[no-untyped-def]
    """The import's summary; for a dry run, each field that would change."""
    common.warn(report.skipped)
    common.warn(report.warnings)
    if not dry_run:
        common.say(report.summary(noun))
        return
    common.say(f"dry run of {file.name}, nothing changed: " + report.summary(noun))
    for line in noted[:CHANGES_SHOWN]:
        common.say(f"  {line}")
    if len(noted) > CHANGES_SHOWN:
        common.say(f"  … and {len(noted) - CHANGES_SHOWN} more changes")
