"""Taking an import back (`import undo ID`): what it created is removed, what it updated gets
its fields back, as the history kept them. Refused, with nothing changed, when anything it
touched has changed since (an edit, a later import, a removal) or when a journalist it
created has been sent messages since."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.errors import InputError
from civic_contacts.registry import history
from civic_contacts.registry import store as registry
from civic_contacts.registry.importing import read_phones
from civic_contacts.registry.models import (
    Change,
    Delivery,
    Journalist,
    Office,
    Outlet,
    PressContact,
)


def _touched(
    children: list[Change],
) -> tuple[list[tuple[str, str, str, dict[str, Any]]], list[str]]:
    """What an import did, record by record, and the journalists it created."""
    done: list[tuple[str, str, str, dict[str, Any]]] = []
    created: list[str] = []
    for child in children:
        fields: dict[str, Any] = dict(child.fields)
        if child.kind == "journalists":
            created.extend(fields.get("created", []))
            updated: dict[str, dict[str, Any]] = fields.get("updated", {})
            for email, changed in updated.items():
                done.append(("journalist", email, "updated", changed))
        else:
            done.append((child.kind, child.key, child.action, fields))
            if child.kind == "journalist" and child.action == "created":
                created.append(child.key)
    done.extend(
        ("journalist", email, "created", {})
        for email in created
        if not any(d[1] == email and d[2] == "created" for d in done)
    )
    return done, created


def undo_import(session: Session, entry_id: int) -> str:
    """Take back import `entry_id`; a line saying what was done."""
    entry = session.get(Change, entry_id)
    if entry is None or entry.kind != "import":
        raise InputError(f"no import with id {entry_id} (civic-contacts history import shows them)")
    if entry.action == "undone":
        raise InputError(f"import {entry_id} was undone already")
    children = list(
        session.scalars(select(Change).where(Change.import_id == entry.id).order_by(Change.id))
    )
    done, created = _touched(children)
    last = max([entry.id, *(c.id for c in children)])
    keys = {(kind, key) for kind, key, _action, _fields in done}
    later = session.scalars(select(Change).where(Change.id > last, Change.kind.not_in(("import",))))
    for change in later:
        if (change.kind, change.key) in keys:
            raise InputError(
                f"import {entry_id} cannot be undone: {change.kind} {change.key} changed since"
                f" (history entry {change.id}, {change.action}); nothing was changed"
            )
        if change.kind == "journalists":
            text = str(change.fields)
            for kind, key in keys:
                if kind == "journalist" and f"'{key}'" in text:
                    raise InputError(
                        f"import {entry_id} cannot be undone: journalist {key} was imported"
                        f" again since (history entry {change.import_id}); nothing was changed"
                    )
    if created:
        sent = session.scalar(
            select(Delivery.email)
            .join(Journalist, Delivery.journalist_id == Journalist.id)
            .where(Journalist.email.in_(created))
            .limit(1)
        )
        if sent:
            raise InputError(
                f"import {entry_id} cannot be undone: {sent}, whom it added, has been sent"
                " messages since; nothing was changed"
            )
    undone = 0
    for kind, key, action, fields in reversed(done):
        if action == "created":
            _remove(session, kind, key)
        elif action == "updated":
            _restore(session, kind, key, dict(fields.get("_was", {})))
        else:
            continue
        undone += 1
    entry.action = "undone"
    session.flush()
    return f"import {entry_id} ({entry.key} from {dict(entry.fields).get('file', '?')}) undone: {undone} change(s) taken back"


def _find(session: Session, kind: str, key: str) -> Any:
    model, column = {
        "office": (Office, Office.code),
        "contact": (PressContact, PressContact.email),
        "outlet": (Outlet, Outlet.slug),
        "journalist": (Journalist, Journalist.email),
    }[kind]
    return session.scalar(select(model).where(column == key))


def _remove(session: Session, kind: str, key: str) -> None:
    found = _find(session, kind, key)
    if found is None:
        return
    history.record(session, kind, key, "removed", {"undo": ["", "import undone"]})
    session.delete(found)
    session.flush()


def _restore(session: Session, kind: str, key: str, was: dict[str, Any]) -> None:
    found = _find(session, kind, key)
    if found is None:
        return
    values: dict[str, object] = {}
    phones = None
    # Numbers are read with the country of the office or outlet the record goes back to.
    home: Outlet | Office
    if kind == "journalist":
        home = registry.get_outlet(session, str(was.get("outlet_id", found.outlet.slug)))
    else:
        home = registry.get_office(session, str(was.get("office_id", found.office.code)))
    for name, value in was.items():
        if name == "outlet_id" or name == "office_id":
            values[name] = home.id
        elif name == "phones":
            phones, _warnings = read_phones(" / ".join(value or []), home.country)
        else:
            values[name] = value
    registry.edit(session, found, values, phones)
