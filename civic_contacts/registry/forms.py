"""The desk's edit forms: each field as the form gives it (text), checked as the command line
checks it, and applied with `store.edit` (only what changed, recorded in the history). A bad
field is refused in one line naming it, and nothing is changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from civic_contacts.errors import InputError
from civic_contacts.registry import codes, importing, store, topics
from civic_contacts.registry.models import Journalist, Outlet, PressContact

Changes = dict[str, tuple[str, str]]


def field(name: str, check: Callable[[str], object], value: str) -> object:
    """A field checked, or a refusal naming it."""
    try:
        return check(value)
    except InputError as exc:
        raise InputError(f"{name}: {exc.message}") from None


@dataclass(frozen=True)
class JournalistForm:
    """A journalist's fields as a form gives them: every field as text."""

    name: str
    role: str
    language: str
    beats: str
    phones: str


def edit_journalist(
    session: Session, journalist: Journalist, form: JournalistForm
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Apply a form's fields with the command line's checks: the changes (field: before,
    after) and warnings about numbers that are not valid. A bad field raises a one-line
    refusal naming it, and nothing is changed."""
    values: dict[str, object] = {
        "name": field("name", lambda v: importing.check_text(v, "name"), form.name),
        "role": field("role", lambda v: importing.check_text(v, "role", required=False), form.role),
        "language": field("language", codes.check_language, form.language)
        if form.language.strip()
        else None,
        "beats": field(
            "beats", lambda v: topics.check_beats(v, topics.known_topics(session)), form.beats
        ),
    }
    phones, warnings = importing.read_phones(form.phones, journalist.outlet.country)
    now = [p.raw for p in journalist.phones]
    given = None if [p.raw for p in phones] == now else phones
    return store.edit(session, journalist, values, given), warnings


@dataclass(frozen=True)
class OutletForm:
    """An outlet's fields as a form gives them."""

    name: str
    country: str
    timezone: str
    languages: str
    beats: str


def edit_outlet(session: Session, outlet: Outlet, form: OutletForm) -> Changes:
    """Apply an outlet's form; the changes (field: before, after)."""
    values: dict[str, object] = {
        "name": field("name", lambda v: importing.check_text(v, "name"), form.name),
        "country": field("country", codes.check_country, form.country),
        "timezone": field("timezone", codes.check_timezone, form.timezone),
        "languages": field("languages", importing.check_language_list, form.languages),
        "beats": field(
            "beats", lambda v: topics.check_beats(v, topics.known_topics(session)), form.beats
        ),
    }
    return store.edit(session, outlet, values)


@dataclass(frozen=True)
class ContactForm:
    """A spokesperson's fields as a form gives them."""

    name: str
    role: str
    languages: str
    phones: str
    rank: str
    active: bool


def _rank(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise InputError(f'"{value}" is not a whole number') from None
    if not 0 <= number <= 10_000:
        raise InputError(f"{number} is not between 0 and 10000")
    return number


def edit_contact(
    session: Session, contact: PressContact, form: ContactForm
) -> tuple[Changes, list[str]]:
    """Apply a spokesperson's form; the changes and warnings about numbers not valid."""
    values: dict[str, object] = {
        "name": field("name", lambda v: importing.check_text(v, "name"), form.name),
        "role": field("role", lambda v: importing.check_text(v, "role", required=False), form.role),
        "languages": field("languages", importing.check_language_list, form.languages),
        "rank": field("rank", _rank, form.rank),
        "active": form.active,
    }
    phones, warnings = importing.read_phones(form.phones, contact.office.country)
    given = None if [p.raw for p in phones] == [p.raw for p in contact.phones] else phones
    return store.edit(session, contact, values, given), warnings
