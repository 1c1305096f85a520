"""Finding journalists: by words of their name, email or outlet, by country, language and
status, a page at a time, as the desk's registry page asks.

One query per page and one count, both on indexed joins; text matching is a case-insensitive
substring (LIKE on SQLite, ILIKE on PostgreSQL), with the user's `%` and `_` taken literally.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from civic_contacts.errors import InputError
from civic_contacts.registry.models import Journalist, Outlet, Suppression

PER_PAGE = 50
STATUSES = ("active", "opted-out", "suppressed", "archived")


@dataclass(frozen=True)
class JournalistRow:
    """One journalist as a list shows them."""

    id: int
    name: str
    email: str
    outlet: str
    outlet_name: str
    country: str
    language: str | None
    status: str


@dataclass(frozen=True)
class Page:
    """One page of a search: its rows, and where it stands among all that match."""

    rows: Sequence[JournalistRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Criteria:
    """What a search asks for; empty fields ask for nothing."""

    text: str = ""
    country: str = ""
    language: str = ""
    status: str = ""

    def checked(self) -> Criteria:
        """The criteria trimmed, or a one-line refusal naming the field."""
        text = self.text.strip()[:200]
        country = self.country.strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise InputError(f'country: "{self.country}" is not a two-letter country code')
        language = self.language.strip()[:35]
        status = self.status.strip().lower()
        if status and status not in STATUSES:
            raise InputError(f'status: "{self.status}" is not one of {", ".join(STATUSES)}')
        return Criteria(text, country, language, status)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(asked: Criteria) -> list[object]:
    conditions: list[object] = []
    if asked.text:
        pattern = _like(asked.text)
        conditions.append(
            or_(
                Journalist.name.ilike(pattern, escape="\\"),
                Journalist.email.ilike(pattern, escape="\\"),
                Outlet.name.ilike(pattern, escape="\\"),
                Outlet.slug.ilike(pattern, escape="\\"),
            )
        )
    if asked.country:
        conditions.append(Outlet.country == asked.country)
    if asked.language:
        conditions.append(func.lower(Journalist.language) == asked.language.lower())
    if asked.status == "archived":
        conditions.append(Journalist.archived_at.is_not(None))
    elif asked.status:
        conditions.append(Journalist.archived_at.is_(None))
    if asked.status == "suppressed":
        conditions.append(Suppression.id.is_not(None))
    elif asked.status == "opted-out":
        conditions.append(and_(Journalist.opted_out.is_(True), Suppression.id.is_(None)))
    elif asked.status == "active":
        conditions.append(and_(Journalist.opted_out.is_(False), Suppression.id.is_(None)))
    return conditions


def _status(opted_out: bool, archived: bool, suppressed: bool) -> str:
    if archived:
        return "archived"
    if suppressed:
        return "suppressed"
    return "opted-out" if opted_out else "active"


def search_journalists(
    session: Session, asked: Criteria, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """One page of the journalists that match, by name then email."""
    asked = asked.checked()
    conditions = _conditions(asked)
    joined = Journalist.__table__.join(Outlet, Outlet.id == Journalist.outlet_id).outerjoin(
        Suppression, Suppression.email == Journalist.email
    )
    total = (
        session.scalar(select(func.count()).select_from(joined).where(*conditions))  # type: ignore[arg-type]
        or 0
    )
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(
            Journalist.id,
            Journalist.name,
            Journalist.email,
            Outlet.slug,
            Outlet.name,
            Outlet.country,
            Journalist.language,
            Journalist.opted_out,
            Journalist.archived_at,
            Suppression.id,
        )
        .select_from(joined)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(Journalist.name, Journalist.email)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(
        rows=[
            JournalistRow(
                id=r[0],
                name=r[1],
                email=r[2],
                outlet=r[3],
                outlet_name=r[4],
                country=r[5],
                language=r[6],
                status=_status(r[7], r[8] is not None, r[9] is not None),
            )
            for r in rows
        ],
        total=total,
        page=page,
        pages=pages,
    )


@dataclass(frozen=True)
class JournalistForm:
    """A journalist's fields as a form gives them: every field as text."""

    name: str
    role: str
    language: str
    beats: str
    phones: str


def edit_from_form(
    session: Session, journalist: Journalist, form: JournalistForm
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Apply a form's fields with the command line's checks: the changes (field: before,
    after) and warnings about numbers that are not valid. A bad field raises a one-line
    refusal naming it, and nothing is changed."""
    from civic_contacts.registry import codes, importing, store, topics

    def field(name: str, check: Callable[[str], object], value: str) -> object:
        try:
            return check(value)
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from None

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


def outlet_time_zones(session: Session) -> list[tuple[str, int]]:
    """The outlets' time zones and how many outlets are in each, most outlets first."""
    rows = session.execute(
        select(Outlet.timezone, func.count())
        .group_by(Outlet.timezone)
        .order_by(func.count().desc(), Outlet.timezone)
    ).all()
    return [(zone, count) for zone, count in rows]
