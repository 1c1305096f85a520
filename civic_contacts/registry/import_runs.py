"""One import as the command line and the desk run it: in the caller's session, recorded in
the history as one entry with its counts and source, or, as a preview, with every change
noted field by field and nothing kept.

The desk shows the preview (created, updated field by field, refused rows with every bad cell)
before anything is written, then runs the same import for real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from civic_contacts.errors import InputError
from civic_contacts.registry import history, importing
from civic_contacts.registry.store import CHANGES
from civic_contacts.registry.tables import reading_as

Importer = Callable[[Session, Path, bool], importing.ImportReport]


def _journalists(session: Session, path: Path, skip_invalid: bool) -> importing.ImportReport:
    return importing.import_journalists(session, path, skip_invalid)


def _outlets(session: Session, path: Path, skip_invalid: bool) -> importing.ImportReport:
    return importing.import_outlets(session, path, skip_invalid)


IMPORTERS: dict[str, Importer] = {"journalists": _journalists, "outlets": _outlets}
SUFFIXES = (".csv", ".vcf", ".vcard")


@dataclass
class ImportRun:
    """What an import did, or (a preview) would do."""

    report: importing.ImportReport
    changes: list[str] = field(default_factory=list)
    applied: bool = False


def run_import(
    session: Session,
    kind: str,
    path: Path,
    name: str,
    apply: bool,
    skip_invalid: bool = True,
    encoding: str | None = None,
    source: str | None = None,
) -> ImportRun:
    """Import `path` (shown as `name`) into the registry. With `apply` False nothing is kept:
    the session is rolled back and the changes it would make are returned, field by field."""
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise InputError(f'kind: "{kind}" is not one of {", ".join(IMPORTERS)}')
    noted: list[str] = []
    if not apply:
        session.info[CHANGES] = noted
    try:
        with (
            reading_as(encoding),
            importing.blank_clearing(False),
            history.importing(session, kind, name) as log,
        ):
            if source and source.strip():
                log.source = source.strip()[:200]
            report = importer(session, path, skip_invalid)
            log.counts = {
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            }
    finally:
        if not apply:
            session.info.pop(CHANGES, None)
            session.rollback()
    return ImportRun(report, noted, applied=apply)
