"""Release files: one Markdown file per language with TOML front matter between `+++` lines.

Files that share a slug make one release and must agree on office, concerns and embargo.
The embargo is an RFC 3339 instant with an offset (`Z` or `+01:00`), or "none"; it is stored
in UTC. Adding a release again updates it; when its embargo moves, `embargo_sequence` rises
so that calendar entries already sent update in place.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from civic_contacts import registry
from civic_contacts.codes import check_country, check_language
from civic_contacts.errors import InputError, InvalidRelease, UnknownRelease
from civic_contacts.importing import check_code, check_text
from civic_contacts.models import Release, ReleaseTranslation
from civic_contacts.routing import ReleaseInfo
from civic_contacts.tables import decode

_KNOWN_KEYS = {"slug", "lang", "office", "concerns", "embargo", "title", "dateline"}


@dataclass
class ReleaseFile:
    """One language of a release, as read from its file."""

    path: Path
    slug: str
    language: str
    office: str
    concerns: list[str]
    embargo: dt.datetime | None
    title: str
    dateline: str
    body: str


def parse_embargo(value: Any, where: str) -> dt.datetime | None:
    """An embargo instant in UTC, or None for "none"; naive times are refused."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("none", ""):
            return None
        try:
            instant = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRelease(
                f'{where}, embargo: "{value}" is not an RFC 3339 time such as 2031-03-10T00:01:00Z'
            ) from None
    elif isinstance(value, dt.datetime):
        instant = value
    else:
        raise InvalidRelease(
            f'{where}, embargo: "{value}" is not a time; use "2031-03-10T00:01:00Z" or "none"'
        )
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidRelease(
            f'{where}, embargo: "{value}" has no offset; say Z or +01:00 so the instant is exact'
        )
    return instant.astimezone(dt.UTC)


def read_release_file(path: Path) -> ReleaseFile:
    """A release file's front matter and body, checked."""
    text = decode(path).replace("\r\n", "\n")
    lines = text.split("\n")
    where = path.name
    if not lines or lines[0].strip() != "+++":
        raise InvalidRelease(f"{where}: no front matter; the file must start with a +++ line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        raise InvalidRelease(f"{where}: the front matter has no closing +++ line") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidRelease(f"{where}, front matter: not valid TOML ({exc})") from None
    body = "\n".join(lines[end + 1 :]).strip("\n") + "\n"
    unknown = sorted(set(meta) - _KNOWN_KEYS)
    if unknown:
        raise InvalidRelease(
            f"{where}, {unknown[0]}: unknown key (known: {', '.join(sorted(_KNOWN_KEYS))})"
        )

    def field(name: str, check: Any, required: bool = True) -> Any:
        if name not in meta:
            if required:
                raise InvalidRelease(f"{where}, {name}: missing")
            return None
        value = meta[name]
        try:
            return check(value)
        except InputError as exc:
            raise InvalidRelease(f"{where}, {name}: {exc.message}") from None

    def string(check: Any) -> Any:
        def inner(value: Any) -> Any:
            if not isinstance(value, str):
                raise InputError(f"{value!r} is not text")
            return check(value)

        return inner

    def countries(value: Any) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError('must be a list of country codes such as ["ML", "NE"]')
        return [check_country(v) for v in value]

    if not body.strip():
        raise InvalidRelease(f"{where}: the body after the front matter is empty")
    return ReleaseFile(
        path=path,
        slug=field("slug", string(lambda v: check_code(v, "slug"))),
        language=field("lang", string(check_language)),
        office=field("office", string(check_code)),
        concerns=field("concerns", countries, required=False) or [],
        embargo=parse_embargo(meta.get("embargo", "none"), where),
        title=field("title", string(lambda v: check_text(v, "title", max_length=300))),
        dateline=field(
            "dateline", string(lambda v: check_text(v, "dateline", False, 200)), required=False
        )
        or "",
        body=body,
    )


def combine(files: list[ReleaseFile]) -> list[list[ReleaseFile]]:
    """Files grouped by slug; within a release they must agree and not repeat a language."""
    groups: dict[str, list[ReleaseFile]] = {}
    for item in files:
        groups.setdefault(item.slug, []).append(item)
    for slug, group in groups.items():
        first = group[0]
        seen: dict[str, Path] = {}
        for item in group:
            if item.language in seen:
                raise InvalidRelease(
                    f"{item.path.name}: a second {item.language} file for {slug} (the first is {seen[item.language].name})"
                )
            seen[item.language] = item.path
            for name in ("office", "concerns", "embargo"):
                if getattr(item, name) != getattr(first, name):
                    raise InvalidRelease(
                        f"{item.path.name}, {name}: differs from {first.path.name} ({getattr(item, name)} vs {getattr(first, name)})"
                    )
    return list(groups.values())


def add_release(session: Session, files: list[ReleaseFile]) -> tuple[Release, str]:
    """Create or update one release from its language files; returns it and the outcome."""
    first = files[0]
    office = registry.get_office(session, first.office)
    release = session.scalar(
        select(Release)
        .where(Release.slug == first.slug)
        .options(selectinload(Release.translations))
    )
    outcome = "updated"
    if release is None:
        release = Release(
            slug=first.slug, office=office, concerns=first.concerns, embargo=first.embargo
        )
        session.add(release)
        outcome = "created"
    changed = outcome == "created"
    if release.embargo != first.embargo and outcome == "updated":
        release.embargo_sequence += 1
        changed = True
    release.office = office
    release.concerns = first.concerns
    release.embargo = first.embargo
    by_language = {t.language: t for t in release.translations}
    for position, item in enumerate(files):
        translation = by_language.pop(item.language, None)
        if translation is None:
            translation = ReleaseTranslation(language=item.language)
            release.translations.append(translation)
            changed = True
        elif (translation.title, translation.dateline, translation.body) != (
            item.title,
            item.dateline,
            item.body,
        ):
            changed = True
        translation.position = position
        translation.title = item.title
        translation.dateline = item.dateline
        translation.body = item.body
    if changed and outcome == "updated":
        # Messages rendered from the previous text or embargo are now out of date.
        release.revision += 1
    elif not changed:
        outcome = "unchanged"
    # Languages not in these files are kept: adding a.fr.md alone must not drop English.
    session.flush()
    return release, outcome


def get_release(session: Session, slug: str) -> Release:
    """The release with this slug, with its translations and office."""
    release = session.scalar(
        select(Release)
        .where(Release.slug == slug.strip().lower())
        .options(selectinload(Release.translations), selectinload(Release.office))
    )
    if release is None:
        known = ", ".join(r.slug for r in list_releases(session)) or "none yet"
        raise UnknownRelease(f'unknown release "{slug}" (known: {known})')
    return release


def list_releases(session: Session) -> list[Release]:
    """Every release, newest first."""
    return list(
        session.scalars(
            select(Release)
            .options(selectinload(Release.translations), selectinload(Release.office))
            .order_by(Release.created_at.desc(), Release.slug)
        ).all()
    )


def release_info(release: Release) -> ReleaseInfo:
    """A release as routing sees it."""
    return ReleaseInfo(
        slug=release.slug,
        office=release.office.code,
        languages=tuple(t.language for t in release.translations),
        concerns=tuple(release.concerns),
    )


def set_embargo(session: Session, release: Release, embargo: dt.datetime | None) -> None:
    """Move a release's embargo (the calendar entry keeps its UID and raises SEQUENCE)."""
    if release.embargo != embargo:
        release.embargo = embargo
        release.embargo_sequence += 1
        release.revision += 1
        session.flush()
