"""Every query of the registry: offices, press contacts, outlets, journalists, suppressions.

Functions take the session first and never commit: the caller owns the transaction, so an
import either applies whole or not at all. Upserts answer "created", "updated" or "unchanged",
which is how imports prove they are idempotent.

One module: it is the registry's only door to SQL, which is what shows at a glance that
nothing else queries or commits; its length is the five nouns of the registry.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import (
    Select,
    String,
    Table,
    TableClause,
    column,
    delete,
    event,
    func,
    select,
    table,
    update,
)
from sqlalchemy import cast as cast_to
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import ORMExecuteState, Session, selectinload

from civic_contacts.db import insert_rows, insert_rows_with_ids, matching, reading_whole, utcnow
from civic_contacts.errors import (
    InputError,
    UnknownContact,
    UnknownJournalist,
    UnknownOffice,
    UnknownOutlet,
)
from civic_contacts.registry import history
from civic_contacts.registry.codes import fold, language_matches
from civic_contacts.registry.models import (
    Journalist,
    Office,
    Outlet,
    Phone,
    PressContact,
    RegistryMeta,
    Suppression,
)
from civic_contacts.registry.statuses import DeliveryStatus
from civic_contacts.registry.views import ContactInfo, JournalistInfo, OfficeInfo, OutletInfo

if TYPE_CHECKING:
    from civic_contacts.registry.phones import ParsedPhone

Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class OfficeRecord:
    """An office as read from a file or the command line, already checked."""

    code: str
    name: str
    city: str
    country: str
    timezone: str
    languages: list[str]
    covers: list[str]
    # The city in other languages; None leaves a known office's names as they are.
    cities: dict[str, str] | None = None


@dataclass
class ContactRecord:
    """A press contact as read from a file or the command line, already checked."""

    name: str
    office: str
    role: str
    languages: list[str]
    email: str
    phones: list[ParsedPhone] = field(default_factory=list)
    rank: int = 100
    active: bool = True
    # The role in other languages; None leaves a known contact's translations as they are.
    roles: dict[str, str] | None = None
    # Fields a known contact keeps as they are (an import's empty cells): role, phones, rank.
    keep: frozenset[str] = frozenset()


@dataclass
class OutletRecord:
    """An outlet as read from a file or the command line, already checked."""

    slug: str
    name: str
    country: str
    languages: list[str]
    timezone: str
    kind: str
    tags: list[str]
    # Languages the readers also read; None leaves a known outlet's as they are.
    also_reads: list[str] | None = None
    # Topics it covers; None leaves a known outlet's as they are.
    beats: list[str] | None = None


@dataclass
class JournalistRecord:
    """A journalist as read from a file or the command line, already checked."""

    outlet: str
    name: str
    email: str
    language: str | None
    role: str = ""
    phones: list[ParsedPhone] = field(default_factory=list)
    # From an export's status column: "suppressed" and/or "opted-out", kept on re-import
    # (never cleared by one).
    status: frozenset[str] = frozenset()
    # Fields a known journalist keeps as they are (an import's absent columns and empty
    # cells): language, role, phones.
    keep: frozenset[str] = frozenset()
    # Topics they cover; None leaves a known journalist's as they are.
    beats: list[str] | None = None


# What an import changes, field by field, when a caller asks (`--dry-run`): set
# `session.info[CHANGES]` to a list and each update adds "KEY: field: before → after".
CHANGES = "civic_contacts.changes"


def _note_changes(session: Session, key: str, changes: Mapping[str, tuple[str, str]]) -> None:
    found = session.info.get(CHANGES)
    if found is not None:
        found.extend(
            f"{key}: {name}: {before or '(empty)'} → {after or '(empty)'}"
            for name, (before, after) in changes.items()
        )


# Offices ---------------------------------------------------------------------------------


def list_offices(session: Session) -> Sequence[Office]:
    """All offices, by code."""
    return session.scalars(select(Office).order_by(Office.code)).all()


def get_office(session: Session, code: str) -> Office:
    """The office with this code, or `UnknownOffice` listing the known codes."""
    office = session.scalar(select(Office).where(Office.code == code.strip().lower()))
    if office is None:
        known = ", ".join(o.code for o in list_offices(session)) or "none yet"
        raise UnknownOffice(f'unknown office "{code}" (known: {known})')
    return office


def offices_by_code(session: Session) -> dict[str, Office]:
    """Every office keyed by code."""
    return {office.code: office for office in list_offices(session)}


def upsert_office(session: Session, record: OfficeRecord) -> Outcome:
    """Create the office or bring it in line with the record."""
    office = session.scalar(select(Office).where(Office.code == record.code))
    values: dict[str, object] = {
        "name": record.name,
        "city": record.city,
        "country": record.country,
        "timezone": record.timezone,
        "languages": record.languages,
        "covers": record.covers,
    }
    if record.cities is not None:
        values["cities"] = dict(sorted(record.cities.items()))
    if office is None:
        session.add(Office(code=record.code, **values))
        session.flush()
        history.record(session, "office", record.code, "created", {})
        return "created"
    return _apply_noted(session, record.code, office, values)


Changes = dict[str, tuple[str, str]]  # field: (before, after), as people read them


def shown(obj: object, field_name: str) -> str:
    """A field of a record as people read it: an office or outlet by its code or slug, lists
    joined with "; ", phones by their text, nothing as ""."""
    if field_name == "office_id":
        return str(cast(PressContact, obj).office.code)
    if field_name == "outlet_id":
        return str(cast(Journalist, obj).outlet.slug)
    if field_name == "phones":
        return "; ".join(
            p.raw if p.valid else f"{p.raw} (not valid)" for p in cast(Journalist, obj).phones
        )
    value = getattr(obj, field_name)
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in sorted(value.items()))
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def edit(
    session: Session,
    obj: Office | PressContact | Outlet | Journalist,
    values: Mapping[str, object],
    phones: list[ParsedPhone] | None = None,
) -> Changes:
    """Change only the fields given (and the phones, when given): each field that changes,
    before and after. Nothing else of the record is touched."""
    before = {name: shown(obj, name) for name in values}
    if phones is not None:
        before["phones"] = shown(obj, "phones")
    raw = {name: raw_value(obj, name) for name in before}
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
    if phones is not None and isinstance(obj, PressContact | Journalist):
        _set_phones(obj, phones)
    session.flush()
    session.expire(obj, [n for n in ("office", "outlet") if hasattr(obj, n)])
    after = {name: shown(obj, name) for name in before}
    changes = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    if changes:
        kind, key = record_key(obj)
        fields: dict[str, Any] = {name: list(pair) for name, pair in changes.items()}
        fields["_was"] = {name: raw[name] for name in changes}
        history.record(session, kind, key, "updated", fields)
    return changes


def record_key(obj: object) -> tuple[str, str]:
    """What history calls a record: its kind and key."""
    if isinstance(obj, Office):
        return "office", obj.code
    if isinstance(obj, PressContact):
        return "contact", obj.email
    if isinstance(obj, Outlet):
        return "outlet", obj.slug
    return "journalist", cast(Journalist, obj).email


def raw_value(obj: object, field_name: str) -> Any:
    """A field as history keeps it for an undo: JSON values, an office or outlet by its code
    or slug, phones as typed, a time as ISO text."""
    if field_name == "office_id":
        return cast(PressContact, obj).office.code
    if field_name == "outlet_id":
        return cast(Journalist, obj).outlet.slug
    if field_name == "phones":
        return [p.raw for p in cast(Journalist, obj).phones]
    value = getattr(obj, field_name)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return type(value)(value)
    return value


def find_office(session: Session, code: str) -> Office | None:
    """The office with this code, or None."""
    return session.scalar(select(Office).where(Office.code == code.strip().lower()))


def find_contact(session: Session, email: str) -> PressContact | None:
    """The press contact with this email, or None."""
    return session.scalar(select(PressContact).where(PressContact.email == email))


def find_outlet(session: Session, slug: str) -> Outlet | None:
    """The outlet with this slug, or None."""
    return session.scalar(select(Outlet).where(Outlet.slug == slug.strip().lower()))


def find_journalist(session: Session, email: str) -> Journalist | None:
    """The journalist with this email, or None."""
    return session.scalar(select(Journalist).where(Journalist.email == email))


def _apply_noted(
    session: Session,
    key: str,
    obj: Office | PressContact | Outlet | Journalist,
    values: Mapping[str, object],
    phones: list[ParsedPhone] | None = None,
) -> Outcome:
    """`edit`, noting the changes for a dry run; the outcome."""
    changes = edit(session, obj, values, phones)
    _note_changes(session, key, changes)
    return "updated" if changes else "unchanged"


# Phones ----------------------------------------------------------------------------------


def _phone_key(phone: Phone | ParsedPhone) -> tuple[object, ...]:
    # A number is the same number when it dials the same; how it was typed may differ
    # between a CSV and a vCard of the same person.
    return (phone.e164 or phone.raw, phone.extension, phone.whatsapp)


def phones_from_parsed(parsed: list[ParsedPhone]) -> list[Phone]:
    """Phone rows for parsed numbers, in order."""
    return [
        Phone(
            position=i,
            raw=p.raw,
            e164=p.e164,
            extension=p.extension,
            kind=p.kind,
            valid=p.valid,
            whatsapp=p.whatsapp,
            label=p.label,
            problem=p.problem,
        )
        for i, p in enumerate(parsed)
    ]


def _set_phones(owner: PressContact | Journalist, parsed: list[ParsedPhone]) -> bool:
    if [_phone_key(p) for p in owner.phones] == [_phone_key(p) for p in parsed]:
        return False
    owner.phones.clear()
    owner.phones.extend(phones_from_parsed(parsed))
    return True


# Press contacts --------------------------------------------------------------------------


def list_contacts(
    session: Session,
    office: str | None = None,
    language: str | None = None,
    role: str | None = None,
    include_inactive: bool = True,
) -> list[PressContact]:
    """Press contacts matching every filter given: office code, language, role words.

    The role matches when it contains the words given, ignoring case and accents
    ("chargee de presse" finds "Chargée de presse").
    """
    query = (
        select(PressContact)
        .join(PressContact.office)
        .options(selectinload(PressContact.phones), selectinload(PressContact.office))
        .order_by(Office.code, PressContact.rank, PressContact.name)
    )
    if office:
        query = query.where(Office.code == get_office(session, office).code)
    if not include_inactive:
        query = query.where(PressContact.active.is_(True))
    contacts = list(session.scalars(query).all())
    if language:
        contacts = [c for c in contacts if any(language_matches(language, s) for s in c.languages)]
    if role:
        wanted = fold(role).split()
        contacts = [c for c in contacts if all(word in fold(c.role) for word in wanted)]
    return contacts


def get_contact(session: Session, key: str) -> PressContact:
    """A press contact by email address or numeric id."""
    text = key.strip()
    if text.isdigit():
        contact = session.get(PressContact, int(text))
    else:
        contact = session.scalar(select(PressContact).where(PressContact.email == text.lower()))
    if contact is None:
        raise UnknownContact(
            f'no press contact "{key}"', hint="civic-contacts contact list shows them"
        )
    return contact


def upsert_contact(session: Session, record: ContactRecord) -> Outcome:
    """Create the press contact (matched by email) or bring it in line with the record."""
    office = get_office(session, record.office)
    contact = session.scalar(select(PressContact).where(PressContact.email == record.email))
    values = {
        "name": record.name,
        "office_id": office.id,
        "role": record.role,
        "languages": record.languages,
        "rank": record.rank,
        "active": record.active,
    }
    if record.roles is not None:
        values["roles"] = dict(sorted(record.roles.items()))
    if contact is None:
        contact = PressContact(email=record.email, **values)
        contact.phones = phones_from_parsed(record.phones)
        session.add(contact)
        session.flush()
        history.record(session, "contact", record.email, "created", {})
        return "created"
    for name in record.keep:
        values.pop(name, None)
    phones = None if "phones" in record.keep else record.phones
    return _apply_noted(session, record.email, contact, values, phones)


def remove_contact(session: Session, contact: PressContact) -> None:
    """Delete a press contact and its phones."""
    history.record(session, "contact", contact.email, "removed", _whole(contact))
    session.delete(contact)
    session.flush()


_FIELDS = {
    "office": ("name", "city", "country", "timezone", "languages", "covers", "cities"),
    "contact": ("name", "office_id", "role", "languages", "rank", "active", "roles", "phones"),
    "outlet": ("name", "country", "languages", "timezone", "kind", "tags", "also_reads"),
    "journalist": ("outlet_id", "name", "language", "role", "phones"),
}


def _whole(obj: Office | PressContact | Outlet | Journalist) -> dict[str, Any]:
    """Every field of a record, before it goes, as history keeps it."""
    kind, _key = record_key(obj)
    names = _FIELDS[kind]
    fields: dict[str, Any] = {name: [shown(obj, name), ""] for name in names}
    fields["_was"] = {name: raw_value(obj, name) for name in names}
    return fields


def set_contact_phones(contact: PressContact, parsed: list[ParsedPhone]) -> bool:
    """Replace a contact's phones; True when anything changed."""
    return _set_phones(contact, parsed)


# Outlets and journalists -----------------------------------------------------------------


def list_outlets(session: Session, country: str | None = None) -> Sequence[Outlet]:
    """Outlets, by slug, optionally of one country."""
    query = select(Outlet).order_by(Outlet.slug)
    if country:
        query = query.where(Outlet.country == country.upper())
    return session.scalars(query).all()


def get_outlet(session: Session, slug: str) -> Outlet:
    """The outlet with this slug."""
    outlet = session.scalar(select(Outlet).where(Outlet.slug == slug.strip().lower()))
    if outlet is None:
        raise UnknownOutlet(
            f'unknown outlet "{slug}"', hint="civic-contacts outlet list shows them"
        )
    return outlet


def upsert_outlet(session: Session, record: OutletRecord) -> Outcome:
    """Create the outlet (matched by slug) or bring it in line with the record."""
    outlet = session.scalar(select(Outlet).where(Outlet.slug == record.slug))
    values = {
        "name": record.name,
        "country": record.country,
        "languages": record.languages,
        "timezone": record.timezone,
        "kind": record.kind,
        "tags": record.tags,
    }
    if record.also_reads is not None:
        values["also_reads"] = record.also_reads
    if record.beats is not None:
        values["beats"] = record.beats
    if outlet is None:
        session.add(Outlet(slug=record.slug, **values))
        session.flush()
        history.record(session, "outlet", record.slug, "created", {})
        return "created"
    return _apply_noted(session, record.slug, outlet, values)


def list_journalists(session: Session, outlet: str | None = None) -> Sequence[Journalist]:
    """Journalists with their outlet and phones, by outlet then name."""
    query = (
        select(Journalist)
        .join(Journalist.outlet)
        .options(selectinload(Journalist.phones), selectinload(Journalist.outlet))
        .order_by(Outlet.slug, Journalist.name)
    )
    if outlet:
        query = query.where(Outlet.slug == get_outlet(session, outlet).slug)
    return session.scalars(query).all()


def get_journalist(session: Session, email: str) -> Journalist:
    """A journalist by email address."""
    journalist = session.scalar(select(Journalist).where(Journalist.email == email.strip().lower()))
    if journalist is None:
        raise UnknownJournalist(f'no journalist "{email}"')
    return journalist


def upsert_journalist(session: Session, record: JournalistRecord) -> Outcome:
    """Create the journalist (matched by email) or bring them in line with the record."""
    outlet = get_outlet(session, record.outlet)
    journalist = session.scalar(select(Journalist).where(Journalist.email == record.email))
    values = {
        "outlet_id": outlet.id,
        "name": record.name,
        "language": record.language,
        "role": record.role,
        "archived_at": None,  # adding a removed journalist again brings them back
    }
    if record.beats is not None:
        values["beats"] = record.beats
    if journalist is None:
        journalist = Journalist(email=record.email, **values)
        journalist.phones = phones_from_parsed(record.phones)
        session.add(journalist)
        session.flush()
        history.record(session, "journalist", record.email, "created", {})
        return "created"
    for name in record.keep:
        values.pop(name, None)
    phones = None if "phones" in record.keep else record.phones
    return _apply_noted(session, record.email, journalist, values, phones)


# Suppressions ----------------------------------------------------------------------------


def list_suppressions(session: Session) -> Sequence[Suppression]:
    """Suppressed addresses, newest first."""
    return session.scalars(select(Suppression).order_by(Suppression.created_at.desc())).all()


def suppress(session: Session, email: str, reason: str) -> Outcome:
    """Add an address to the suppression list (already there: unchanged)."""
    existing = session.scalar(select(Suppression).where(Suppression.email == email))
    if existing is not None:
        return "unchanged"
    session.add(Suppression(email=email, reason=reason))
    session.flush()
    history.record(session, "suppression", email, "suppressed", {"reason": ["", reason]})
    return "created"


def unsuppress(session: Session, email: str) -> None:
    """Remove an address from the suppression list."""
    existing = session.scalar(select(Suppression).where(Suppression.email == email))
    if existing is None:
        raise InputError(f'"{email}" is not on the suppression list')
    reason = existing.reason
    session.delete(existing)
    session.flush()
    history.record(session, "suppression", email, "unsuppressed", {"reason": [reason, ""]})


def keep_statuses(session: Session, records: Sequence[JournalistRecord]) -> None:
    """What an export said of each journalist stays true on import: a suppressed address is
    suppressed again, an opted-out journalist stays opted out (an import never clears
    either)."""
    for record in records:
        if "suppressed" in record.status:
            suppress(session, record.email, "suppressed when exported (status column)")
    opted = [r.email for r in records if "opted-out" in r.status]
    if opted:
        session.execute(
            update(Journalist).where(Journalist.email.in_(opted)).values(opted_out=True)
        )


def is_suppressed(session: Session, email: str) -> bool:
    """Whether the address is on the suppression list."""
    return session.scalar(select(Suppression.id).where(Suppression.email == email)) is not None


def suppressed_emails(session: Session) -> set[str]:
    """Every suppressed address."""
    return set(session.scalars(select(Suppression.email)).all())


def count(session: Session, model: type) -> int:
    """How many rows a table has."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# Routing inputs --------------------------------------------------------------------------


def routing_offices(session: Session) -> list[OfficeInfo]:
    """Every office as routing sees it."""
    return [
        OfficeInfo(o.code, o.city, o.country, tuple(o.languages), tuple(o.covers))
        for o in list_offices(session)
    ]


def routing_contacts(session: Session) -> list[ContactInfo]:
    """Every press contact as routing sees it (inactive ones too: coverage names them)."""
    rows = session.execute(
        select(
            PressContact.id,
            PressContact.name,
            Office.code,
            PressContact.languages,
            PressContact.rank,
            PressContact.active,
        ).join(PressContact.office)
    ).all()
    return [ContactInfo(r[0], r[1], r[2], tuple(r[3]), r[4], r[5]) for r in rows]


def routing_outlets(session: Session, slug: str | None = None) -> list[OutletInfo]:
    """Outlets as routing sees them, by slug."""
    query = select(
        Outlet.slug, Outlet.name, Outlet.country, Outlet.languages, Outlet.also_reads, Outlet.beats
    ).order_by(Outlet.slug)
    if slug:
        query = query.where(Outlet.slug == get_outlet(session, slug).slug)
    return [
        OutletInfo(r[0], r[1], r[2], tuple(r[3]), tuple(r[4] or ()), tuple(r[5] or ()))
        for r in session.execute(query).all()
    ]


def routing_journalists(session: Session, outlet: str | None = None) -> list[JournalistInfo]:
    """Journalists as routing sees them (opted-out ones left out), by outlet and name."""
    rows = session.execute(_routing_journalists_query(outlet)).all()
    return [journalist_info(r) for r in rows]


# What routing reads of a journalist, in `journalist_info`'s order.
ROUTING_COLUMNS = (
    Journalist.id,
    Journalist.name,
    Journalist.email,
    Outlet.slug,
    Journalist.language,
    # The lists as their JSON text: almost every journalist's is "[]" or one of a few, so
    # each distinct text is decoded once (`_json_list`), not once per row.
    cast_to(Journalist.beats, String),
    cast_to(Journalist.also_reads, String),
    cast_to(Journalist.follows, String),
    Journalist.weekly_cap,
    Journalist.accepts_embargoed,
)


@functools.lru_cache(maxsize=4096)
def _json_list(text: str | None) -> tuple[str, ...]:
    """A list column's JSON text as a tuple (None and "null" are empty)."""
    return tuple(json.loads(text) or ()) if text else ()


def journalist_info(row: Sequence[Any]) -> JournalistInfo:
    """A journalist as routing sees them, from a row that starts with `ROUTING_COLUMNS`."""
    return JournalistInfo(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        beats=_json_list(row[5]),
        also_reads=_json_list(row[6]),
        follows=_json_list(row[7]),
        weekly_cap=row[8],
        accepts_embargoed=bool(row[9]),
    )


def _routing_journalists_query(outlet: str | None) -> Select[Any]:
    query: Select[Any] = (
        select(*cast(tuple[Any, ...], ROUTING_COLUMNS))
        .join(Journalist.outlet)
        .where(Journalist.opted_out.is_(False), Journalist.archived_at.is_(None))
        .order_by(Outlet.slug, Journalist.name, Journalist.id)
    )
    return query.where(Outlet.slug == outlet) if outlet else query


def journalists_by_outlet(
    session: Session, outlet: str | None = None, page: int = 2000
) -> Iterator[tuple[str, list[JournalistInfo]]]:
    """`routing_journalists`, streamed a page at a time and grouped by outlet: a list of any
    size is routed outlet by outlet, never held whole."""
    reading_whole(session)
    query = _routing_journalists_query(outlet)
    rows = session.execute(query.execution_options(yield_per=page))
    for slug, group in itertools.groupby(rows, key=lambda row: row[3]):
        yield slug, [journalist_info(r) for r in group]


def upsert_journalists(
    session: Session,
    records: Sequence[JournalistRecord],
    outlet_ids: Mapping[str, int] | None = None,
) -> list[Outcome]:
    """Create or update many journalists (matched by email) with a few bulk statements.

    Same outcomes as calling `upsert_journalist` for each record, at list scale: one query
    for the people already there, one for their phones, then bulk inserts and updates.
    `outlet_ids` (every outlet's id by slug; read here when not given) spares a caller that
    applies a file chunk by chunk reading the outlets again for each.
    """
    if not records:
        return []
    if outlet_ids is None:
        outlet_ids = outlet_ids_by_slug(session)
    for record in records:
        if record.outlet not in outlet_ids:
            raise UnknownOutlet(f'unknown outlet "{record.outlet}"')
    emails = [r.email for r in records]
    dialect_name = session.get_bind().dialect.name
    existing: dict[str, tuple[int, int, str, str | None, str, list[str]]] = {}
    for condition in matching(Journalist.email, emails, dialect_name):
        for row in session.execute(
            select(
                Journalist.email,
                Journalist.id,
                Journalist.outlet_id,
                Journalist.name,
                Journalist.language,
                Journalist.role,
                Journalist.beats,
            ).where(condition)
        ):
            existing[row[0]] = (row[1], row[2], row[3], row[4], row[5], list(row[6] or []))
    phone_keys: dict[int, list[tuple[object, ...]]] = {}
    phone_texts: dict[int, list[str]] = {}
    ids = [v[0] for v in existing.values()]
    for condition in matching(Phone.journalist_id, ids, dialect_name):
        for phone in session.scalars(select(Phone).where(condition).order_by(Phone.position)):
            phone_keys.setdefault(phone.journalist_id or 0, []).append(_phone_key(phone))
            phone_texts.setdefault(phone.journalist_id or 0, []).append(phone.raw)
    log = history.importing_journalists()
    noting = session.info.get(CHANGES) is not None or log is not None
    slugs = {v: k for k, v in outlet_ids.items()} if noting else {}
    created_here: list[str] = []
    updated_here: dict[str, dict[str, Any]] = {}
    now = utcnow()
    outcomes: list[Outcome] = []
    new_rows: list[dict[str, object]] = []
    new_phones: dict[str, list[ParsedPhone]] = {}
    updates: list[dict[str, object]] = []
    replace_phones: dict[int, list[ParsedPhone]] = {}
    for record in records:
        outlet_id = outlet_ids[record.outlet]
        known = existing.get(record.email)
        if known is None:
            new_rows.append(
                {
                    "outlet_id": outlet_id,
                    "name": record.name,
                    "email": record.email,
                    "language": record.language,
                    "role": record.role,
                    "beats": record.beats or [],
                    "opted_out": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if record.phones:
                new_phones[record.email] = record.phones
            outcomes.append("created")
            created_here.append(record.email)
            continue
        journalist_id, old_outlet, old_name, old_language, old_role, old_beats = known
        language = old_language if "language" in record.keep else record.language
        role = old_role if "role" in record.keep else record.role
        beats = old_beats if record.beats is None else record.beats
        changed = (old_outlet, old_name, old_language, old_role, old_beats) != (
            outlet_id,
            record.name,
            language,
            role,
            beats,
        )
        if changed:
            updates.append(
                {
                    "id": journalist_id,
                    "outlet_id": outlet_id,
                    "name": record.name,
                    "language": language,
                    "role": role,
                    "beats": beats,
                    "updated_at": now,
                }
            )
        new_phones_here = "phones" not in record.keep and phone_keys.get(journalist_id, []) != [
            _phone_key(p) for p in record.phones
        ]
        if new_phones_here:
            replace_phones[journalist_id] = record.phones
        if noting:
            before = {
                "outlet_id": slugs.get(old_outlet, ""),
                "name": old_name,
                "language": old_language or "",
                "role": old_role,
                "beats": "; ".join(old_beats),
            }
            after = {
                "outlet_id": record.outlet,
                "name": record.name,
                "language": language or "",
                "role": role,
                "beats": "; ".join(beats),
            }
            diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            if new_phones_here:
                diff["phones"] = (
                    "; ".join(phone_texts.get(journalist_id, [])),
                    "; ".join(p.raw for p in record.phones),
                )
            _note_changes(session, record.email, diff)
            if diff:
                was = {
                    "outlet_id": before["outlet_id"],
                    "name": old_name,
                    "language": old_language,
                    "role": old_role,
                    "beats": old_beats,
                    "phones": phone_texts.get(journalist_id, []),
                }
                fields: dict[str, Any] = {name: list(pair) for name, pair in diff.items()}
                fields["_was"] = {name: was[name] for name in diff}
                if log is not None:
                    updated_here[record.email] = fields
                else:
                    history.record(session, "journalist", record.email, "updated", fields)
        changed = changed or new_phones_here
        outcomes.append("updated" if changed else "unchanged")
    if log is not None:
        log.journalists(created_here, updated_here)
    else:
        for email in created_here:
            history.record(session, "journalist", email, "created", {})
    # Core statements on the session's connection: the ORM's bulk path costs as much as the
    # rows themselves here, and nothing of these rows is held in the session. The inserts go
    # through untyped columns with their values already in stored form: the few typed values
    # (times, flags) are the same for every row and are converted once, not once per row.
    connection = session.connection()
    journalists = _untyped(cast(Table, Journalist.__table__))
    phones = _untyped(cast(Table, Phone.__table__))
    dialect = connection.dialect
    if new_rows or updates or replace_phones:
        session.info[_CHANGED] = True
    if new_rows:
        fixed = {
            "opted_out": _stored(dialect, Journalist.opted_out, False),
            "created_at": _stored(dialect, Journalist.created_at, now),
            "updated_at": _stored(dialect, Journalist.updated_at, now),
        }
        beats_type = cast(Table, Journalist.__table__).c.beats.type
        to_json = beats_type.dialect_impl(dialect).bind_processor(dialect)
        no_beats = _stored(dialect, Journalist.beats, [])
        for new in new_rows:
            new.update(fixed)
            given = new["beats"]
            new["beats"] = to_json(given) if given and to_json is not None else no_beats
        if new_phones:
            key = cast(Table, Journalist.__table__).c.email
            new_ids = insert_rows_with_ids(connection, journalists, new_rows, key)
            for email, numbers in new_phones.items():
                replace_phones[new_ids[email]] = numbers
        else:
            insert_rows(connection, journalists, new_rows)
    if updates:
        session.execute(update(Journalist), updates)
    if replace_phones:
        # A journalist new in this call has no numbers yet: only the known ones lose theirs.
        known_ids = set(ids)
        stale = [journalist_id for journalist_id in replace_phones if journalist_id in known_ids]
        for condition in matching(Phone.journalist_id, stale, dialect.name):
            connection.execute(delete(cast(Table, Phone.__table__)).where(condition))
        flag = {b: _stored(dialect, Phone.valid, b) for b in (False, True)}
        phone_rows = [
            {
                "journalist_id": journalist_id,
                "position": i,
                "raw": p.raw,
                "e164": p.e164,
                "extension": p.extension,
                "kind": p.kind,
                "valid": flag[bool(p.valid)],
                "whatsapp": flag[bool(p.whatsapp)],
                "label": p.label,
                "problem": p.problem,
            }
            for journalist_id, numbers in replace_phones.items()
            for i, p in enumerate(numbers)
        ]
        insert_rows(connection, phones, phone_rows)
    session.expire_all()
    return outcomes


def outlet_ids_by_slug(session: Session) -> dict[str, int]:
    """Every outlet's id by its slug."""
    return {slug: oid for slug, oid in session.execute(select(Outlet.slug, Outlet.id))}


def outlet_countries_by_slug(session: Session) -> dict[str, str]:
    """Every outlet's country by its slug, read as plain rows: an import holds this for its
    whole run, and ten thousand outlets as objects of the session cost 20 MiB."""
    return {slug: country for slug, country in session.execute(select(Outlet.slug, Outlet.country))}


@functools.cache
def _untyped(typed: Table) -> TableClause:
    """The table's columns without their types: values given to it are sent as they are."""
    return table(typed.name, *(column(c.name) for c in typed.columns))


def _stored(dialect: Dialect, attribute: Any, value: object) -> object:
    """A value as its column stores it on this database (the type's own conversion)."""
    convert = attribute.property.columns[0].type.dialect_impl(dialect).bind_processor(dialect)
    return convert(value) if convert is not None else value


DEMO_MARK = "demo"


def mark_demo(session: Session) -> None:
    """Mark this registry as holding the demo's invented data (its identity may stay invented)."""
    if session.get(RegistryMeta, DEMO_MARK) is None:
        session.add(RegistryMeta(key=DEMO_MARK, value="invented offices, people and release"))
        session.flush()


def is_demo(session: Session) -> bool:
    """Whether this registry is the demo's own."""
    return session.get(RegistryMeta, DEMO_MARK) is not None


# The registry's version -----------------------------------------------------------------------
#
# Every commit that changes who is mailed or what their messages say (offices, contacts and
# their phones, outlets, journalists, suppressions) writes a new random version. A batch keeps
# the version its deliveries were last brought in line with; a send whose batch still matches
# starts at once instead of routing the whole list again. The version is written by session
# events, so no writer can forget it: ORM changes at flush, bulk statements as they run.

VERSION_KEY = "registry_version"
REGISTRY_TABLES = frozenset(
    {"offices", "press_contacts", "phones", "outlets", "journalists", "suppressions"}
)
_CHANGED = "civic_contacts.registry_changed"


def registry_version(session: Session) -> str | None:
    """The registry's current version (None only in a database older than schema 0007)."""
    return session.scalar(select(RegistryMeta.value).where(RegistryMeta.key == VERSION_KEY))


def _touches_registry(objects: Any) -> bool:
    return any(getattr(o, "__tablename__", None) in REGISTRY_TABLES for o in objects)


@event.listens_for(Session, "before_flush")
def _note_flushed_changes(session: Session, _context: Any, _instances: Any) -> None:
    if (
        _touches_registry(session.new)
        or _touches_registry(session.deleted)
        or any(session.is_modified(o) for o in session.dirty if _touches_registry((o,)))
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in REGISTRY_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _write_version(session: Session) -> None:
    session.flush()  # the last changes are flushed inside commit, after this hook
    if session.info.pop(_CHANGED, False):
        done = session.execute(
            update(RegistryMeta)
            .where(RegistryMeta.key == VERSION_KEY)
            .values(value=uuid.uuid4().hex)
            .execution_options(synchronize_session=False)
        )
        if not getattr(done, "rowcount", 1):
            session.add(RegistryMeta(key=VERSION_KEY, value=uuid.uuid4().hex))
            session.flush()


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)


# Removing -----------------------------------------------------------------------------------


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def remove_office(session: Session, code: str) -> None:
    """Delete an office nobody and nothing belongs to; refuse one with contacts or releases."""
    from civic_contacts.registry.models import Release

    office = get_office(session, code)
    contacts = _count(session, select(PressContact.id).where(PressContact.office_id == office.id))
    owned = _count(session, select(Release.id).where(Release.office_id == office.id))
    if contacts or owned:
        raise InputError(
            f"office {office.code} has {contacts} press contact(s) and {owned} release(s);"
            " nothing was removed",
            hint="remove them or move them to another office first",
        )
    history.record(session, "office", office.code, "removed", _whole(office))
    session.delete(office)
    session.flush()


def remove_outlet(session: Session, slug: str) -> None:
    """Delete an outlet with no journalists; refuse one that has some."""
    outlet = get_outlet(session, slug)
    people = _count(session, select(Journalist.id).where(Journalist.outlet_id == outlet.id))
    if people:
        raise InputError(
            f"outlet {outlet.slug} has {people} journalist(s); nothing was removed",
            hint=f"remove them first (civic-contacts journalist list --outlet {outlet.slug})",
        )
    history.record(session, "outlet", outlet.slug, "removed", _whole(outlet))
    session.delete(outlet)
    session.flush()


def archive_or_delete(session: Session, item: Journalist | Any, delivered: Any) -> str:
    """Archive a journalist or release that messages went (or are going) to, so the audit
    stays whole; delete one that nothing was sent to. Returns "archived" or "removed"."""
    from civic_contacts.registry.models import Delivery

    went = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.CLAIMED)
    query = select(Delivery.id).where(delivered, Delivery.status.in_([s.value for s in went]))
    if _count(session, query):
        item.archived_at = utcnow()
        session.flush()
        return "archived"
    session.delete(item)
    session.flush()
    return "removed"


def remove_journalist(session: Session, email: str) -> str:
    """Delete a journalist, or archive one who was sent messages (the audit keeps them);
    returns "removed" or "archived"."""
    from civic_contacts.registry.models import Delivery

    journalist = get_journalist(session, email)
    whole = _whole(journalist)
    outcome = archive_or_delete(session, journalist, Delivery.journalist_id == journalist.id)
    history.record(session, "journalist", email, outcome, whole)
    return outcome
