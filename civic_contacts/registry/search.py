"""Finding journalists: by words of their name, email or outlet, by country, language and
status, a page at a time, as the desk's registry page asks.

One query per page and one count, both on indexed joins; text matching is a case-insensitive
substring (LIKE on SQLite, ILIKE on PostgreSQL), with the user's `%` and `_` taken literally.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from civic_contacts.errors import InputError
from civic_contacts.registry.models import Journalist, Outlet, Suppression

PER_PAGE = 50
RARE = 20  # a search that matches fewer than 1 in RARE journalists reads the table, then sorts
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


def _conditions(asked: Criteria, dialect: str) -> list[ColumnElement[bool]]:
    """The search as conditions on `journalists` alone (outlets and suppressions as
    subqueries), so that counting and paging read one table and its name index; only the 50
    rows shown are joined."""
    conditions: list[ColumnElement[bool]] = []
    if asked.text:
        pattern = _like(asked.text)

        # SQLite's LIKE ignores ASCII case by itself (its ILIKE would lower every row first);
        # PostgreSQL's needs ILIKE. Addresses are stored in lower case.
        def matches(column: Any) -> ColumnElement[bool]:
            if dialect == "sqlite":
                return cast(ColumnElement[bool], column.like(pattern, escape="\\"))
            return cast(ColumnElement[bool], column.ilike(pattern, escape="\\"))

        outlets = select(Outlet.id).where(or_(matches(Outlet.name), matches(Outlet.slug)))
        conditions.append(
            or_(
                matches(Journalist.name),
                Journalist.email.like(pattern.lower(), escape="\\"),
                Journalist.outlet_id.in_(outlets),
            )
        )
    if asked.country:
        conditions.append(
            Journalist.outlet_id.in_(select(Outlet.id).where(Outlet.country == asked.country))
        )
    if asked.language:
        from civic_contacts.registry.codes import check_language

        try:
            language = check_language(asked.language)
        except InputError as exc:
            raise InputError(f"language: {exc}") from None
        conditions.append(Journalist.language == language)
    suppressed = exists().where(Suppression.email == Journalist.email)
    if asked.status == "archived":
        conditions.append(Journalist.archived_at.is_not(None))
    elif asked.status:
        conditions.append(Journalist.archived_at.is_(None))
    if asked.status == "suppressed":
        conditions.append(suppressed)
    elif asked.status == "opted-out":
        conditions.append(and_(Journalist.opted_out.is_(True), ~suppressed))
    elif asked.status == "active":
        conditions.append(and_(Journalist.opted_out.is_(False), ~suppressed))
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
    conditions = _conditions(asked, session.get_bind().dialect.name)
    total = session.scalar(select(func.count(Journalist.id)).where(*conditions)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    if not total:
        return Page(rows=[], total=0, page=1, pages=1)
    # The first pages of many matches are found soonest by walking the (name, email) index;
    # a few matches, or a page deep among them, soonest by reading the table once and sorting
    # just the matches (the walk would test row after row to reach them). The name as an
    # expression keeps the database off the index.
    scan = False
    if conditions:
        everyone = session.scalar(select(func.count(Journalist.id))) or 0
        walked = page * per_page * everyone / total  # rows the walk would visit
        scan = total * RARE < everyone or (total * 2 < everyone and walked * 4 > everyone)
    ordering = (Journalist.name + "" if scan else Journalist.name, Journalist.email)
    ids = (
        select(Journalist.id)
        .where(*conditions)
        .order_by(*ordering)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .subquery()
    )
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
        .join(ids, ids.c.id == Journalist.id)
        .join(Outlet, Outlet.id == Journalist.outlet_id)
        .outerjoin(Suppression, Suppression.email == Journalist.email)
        .order_by(Journalist.name, Journalist.email)
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


def outlet_time_zones(session: Session) -> list[tuple[str, int]]:
    """The outlets' time zones and how many outlets are in each, most outlets first."""
    rows = session.execute(
        select(Outlet.timezone, func.count())
        .group_by(Outlet.timezone)
        .order_by(func.count().desc(), Outlet.timezone)
    ).all()
    return [(zone, count) for zone, count in rows]
