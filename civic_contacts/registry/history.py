"""The history of the registry: every change to an office, contact, outlet, journalist or
suppression, with when, by whom, the command and the fields before and after; an import as
one entry with its counts, which `undo_import` takes back while nothing has changed since.

Store functions call `record`; who acts is set once per command (`acting`), else the system
user; an import gathers what it does (`importing`) and writes it as one entry and a few rows
(journalists a chunk at a time, so a million-row import writes two hundred history rows).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Text, func, select
from sqlalchemy.orm import Session

from civic_contacts.db import utcnow
from civic_contacts.errors import InputError
from civic_contacts.registry.models import Change

_ACTOR: ContextVar[tuple[str, str] | None] = ContextVar("history_actor", default=None)
CHUNK = 5000  # journalists per history row of an import


@contextlib.contextmanager
def acting(by: str | None, command: str) -> Iterator[None]:
    """Changes made within the block are recorded as `by`'s (else the system user's), made
    by `command`."""
    token = _ACTOR.set((by or _system_user(), command))
    try:
        yield
    finally:
        _ACTOR.reset(token)


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _actor() -> tuple[str, str]:
    return _ACTOR.get() or (_system_user(), "")


def actor() -> tuple[str, str]:
    """Who is acting now, and the command."""
    return _actor()


@dataclass
class ImportLog:
    """What one import does, written as it goes: its entry first, then a row per chunk of
    journalists (memory stays bounded however long the file), the rest at the end."""

    session: Session
    entry: Change
    records: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # journalists' emails, this chunk
    updated: dict[str, dict[str, Any]] = field(default_factory=dict)  # email: fields, this chunk
    counts: dict[str, int] = field(default_factory=dict)
    source: str | None = None  # where the list comes from, the basis of holding it

    def journalists(self, created: list[str], updated: dict[str, dict[str, Any]]) -> None:
        """A chunk of the bulk path: written once enough are gathered."""
        self.created.extend(created)
        self.updated.update(updated)
        if len(self.created) + len(self.updated) >= CHUNK:
            self.write_chunk()

    def write_chunk(self) -> None:
        if not self.created and not self.updated:
            return
        self.session.add(
            Change(
                by=self.entry.by,
                command=self.entry.command,
                kind="journalists",
                key="",
                action="import",
                fields=cast(
                    dict[str, list[str]], {"created": self.created, "updated": self.updated}
                ),
                import_id=self.entry.id,
            )
        )
        self.created, self.updated = [], {}


_IMPORT: ContextVar[ImportLog | None] = ContextVar("history_import", default=None)


def record(session: Session, kind: str, key: str, action: str, fields: Mapping[str, Any]) -> None:
    """One change (`fields`: {name: [before, after]} and, for undoing, {"_was": {name: value}})."""
    log = _IMPORT.get()
    if log is not None:
        log.records.append((kind, key, action, dict(fields)))
        return
    by, command = _actor()
    session.add(
        Change(by=by, command=command, kind=kind, key=key, action=action, fields=dict(fields))
    )


def importing_journalists() -> ImportLog | None:
    """The import being gathered, if any (the bulk journalist path writes into it)."""
    return _IMPORT.get()


@contextlib.contextmanager
def importing(session: Session, kind: str, file: str) -> Iterator[ImportLog]:
    """Record one import as one entry (the caller sets `counts` before the block ends) and
    the rows of what it did; a block that fails leaves its rows to the caller's rollback."""
    by, command = _actor()
    entry = Change(by=by, command=command, kind="import", key=kind, action="import", fields={})
    session.add(entry)
    session.flush()
    log = ImportLog(session, entry)
    token = _IMPORT.set(log)
    try:
        yield log
    finally:
        _IMPORT.reset(token)
    log.write_chunk()
    origin = {"source": log.source, "basis": "legitimate interest"} if log.source else {}
    entry.fields = cast(dict[str, list[str]], {"file": file, **log.counts, **origin})
    session.add_all(
        Change(
            by=by,
            command=command,
            kind=k,
            key=key,
            action=action,
            fields=cast(dict[str, list[str]], fields),
            import_id=entry.id,
        )
        for k, key, action, fields in log.records
    )
    session.flush()


# Reading -----------------------------------------------------------------------------------


def entries(
    session: Session,
    kind: str | None = None,
    key: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 200,
) -> list[Change]:
    """History entries, newest first: imports as one entry each, other changes one by one;
    for one record (`kind` and `key`), its own changes and the imports that touched it."""
    query = select(Change).order_by(Change.id.desc()).limit(limit)
    if since is not None:
        query = query.where(Change.at >= since)
    if kind and key:
        own = (Change.kind == kind) & (Change.key == key)
        if kind == "journalist":
            chunks = select(Change.import_id).where(
                Change.kind == "journalists",
                func.cast(Change.fields, Text).contains(f'"{key}"', autoescape=True),
            )
            own = own | Change.id.in_(chunks)
        return list(session.scalars(query.where(own)))
    query = query.where(Change.import_id.is_(None))
    if kind:
        query = query.where(
            (Change.kind == kind) | ((Change.kind == "import") & (Change.key == kind))
        )
    return list(session.scalars(query))


def entry_json(change: Change) -> dict[str, Any]:
    """One entry as `history --json` prints it."""
    fields = {k: v for k, v in dict(change.fields).items() if k != "_was"}
    return {
        "id": change.id,
        "at": change.at.isoformat().replace("+00:00", "Z"),
        "by": change.by,
        "command": change.command,
        "kind": change.kind,
        "key": change.key,
        "action": change.action,
        "fields": fields,
    }


def entry_line(change: Change) -> str:
    """One entry for people."""
    fields = {k: v for k, v in dict(change.fields).items() if k != "_was"}
    if change.kind == "import":
        counts = ", ".join(
            f"{v} {k}" for k, v in fields.items() if k not in ("file", "source", "basis")
        )
        if fields.get("source"):
            counts += f"; source: {fields['source']}"
        what = f"import of {change.key} from {fields.get('file', '?')}: {counts}"
        if change.action == "undone":
            what += " (undone)"
    else:
        said = "; ".join(
            f"{name}: {pair[0] or '(empty)'} → {pair[1] or '(empty)'}"
            for name, pair in fields.items()
            if isinstance(pair, list) and len(pair) == 2
        )
        what = f"{change.kind} {change.key} {change.action}" + (f" ({said})" if said else "")
    return f"{change.id}  {change.at:%Y-%m-%d %H:%M}  {change.by}  {what}"


def check_since(value: str) -> dt.datetime:
    """`--since`: a date (2026-12-01) or a date and time, UTC unless it says otherwise."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f'--since: "{value}" is not a date such as 2026-12-01') from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def now() -> dt.datetime:
    return utcnow()
