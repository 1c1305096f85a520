"""Release files: one Markdown file per language with TOML front matter between `+++` lines.

Files that share a slug make one release and must agree on office, concerns, embargo and
link. The embargo is an RFC 3339 instant with an offset (`Z` or `+01:00`), or "none"; it is
stored in UTC.

A release changes only by `update_release`, which records a revision: its number, time, what
changed (embargo, and per language title, dateline and paragraphs) and the text at that point,
so a correction can later tell each journalist what changed since the text they were sent.
When the embargo moves, `embargo_sequence` rises so calendar entries already sent move in place.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from civic_contacts.db import utcnow
from civic_contacts.errors import BatchConflict, InputError, InvalidRelease, UnknownRelease
from civic_contacts.registry import store as registry
from civic_contacts.registry.codes import check_code, check_country, check_language, check_text
from civic_contacts.registry.models import Release, ReleaseRevision, ReleaseTranslation
from civic_contacts.registry.tables import decode
from civic_contacts.registry.topics import check_beats, known_topics
from civic_contacts.releases.paragraphs import ParagraphChange as ParagraphChange
from civic_contacts.releases.paragraphs import paragraph_changes as paragraph_changes
from civic_contacts.releases.paragraphs import paragraph_summary
from civic_contacts.releases.routing import ReleaseInfo

_KNOWN_KEYS = {
    "slug",
    "lang",
    "office",
    "concerns",
    "embargo",
    "title",
    "dateline",
    "link",
    "keep_contact_block",
    "fallback",
    "topics",
    "topics_open",
}


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
    link: str | None = None
    fallback: list[str] = field(default_factory=list)
    # The body's own closing media-contact block stays in messages (else the routed one
    # replaces it).
    keep_contact_block: bool = False
    # What the release is about (topic codes), and whether journalists with no beats get it.
    topics: list[str] = field(default_factory=list)
    topics_open: bool = True


def parse_embargo(value: Any, where: str) -> dt.datetime | None:
    """An embargo instant in UTC, or None for "none"; naive times are refused."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "none":
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
    if not EMBARGO_YEARS[0] <= instant.year <= EMBARGO_YEARS[1]:
        raise InvalidRelease(
            f'{where}, embargo: "{value}" is not a year between {EMBARGO_YEARS[0]} and'
            f" {EMBARGO_YEARS[1]}"
        )
    return instant.astimezone(dt.UTC)


# Embargoes outside these years are typing mistakes (and 0001 or 9999 overflow in time zones).
EMBARGO_YEARS = (1970, 2999)


def _required_embargo(meta: dict[str, Any], where: str) -> dt.datetime | None:
    """The embargo must be said in every file: a forgotten line must never mean "publish now"."""
    if "embargo" not in meta:
        raise InvalidRelease(
            f'{where}, embargo: missing; give the lift (embargo = "2031-03-10T00:01:00Z") or'
            ' say embargo = "none" for a release that is not under embargo'
        )
    value = meta["embargo"]
    if isinstance(value, str) and not value.strip():
        raise InvalidRelease(f'{where}, embargo: empty; give the lift or "none"')
    return parse_embargo(value, where)


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
    except RecursionError:
        raise InvalidRelease(
            f"{where}, front matter: not valid TOML (arrays or tables nested too deep)"
        ) from None
    body = "\n".join(lines[end + 1 :]).strip("\n") + "\n"
    if "\x00" in body:
        line = body[: body.index("\x00")].count("\n") + end + 2
        raise InvalidRelease(f"{where} line {line}, body: holds a NUL character, which is refused")
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

    def languages(value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError('must be a list of language codes such as ["en", "fr"]')
        return [check_language(v) for v in value]

    def flag(value: Any) -> bool:
        if not isinstance(value, bool):
            raise InputError(f"{value!r} is not true or false")
        return value

    def codes(value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError('must be a list of topics such as ["water", "mali"]')
        return [check_code(v, "topic") for v in value]

    if not body.strip():
        raise InvalidRelease(f"{where}: the body after the front matter is empty")
    return ReleaseFile(
        path=path,
        slug=field("slug", string(lambda v: check_code(v, "slug"))),
        language=field("lang", string(check_language)),
        office=field("office", string(check_code)),
        concerns=field("concerns", countries, required=False) or [],
        embargo=_required_embargo(meta, where),
        title=field("title", string(lambda v: check_text(v, "title", max_length=300))),
        dateline=field(
            "dateline", string(lambda v: check_text(v, "dateline", False, 200)), required=False
        )
        or "",
        body=body,
        link=field("link", string(check_link), required=False) or None,
        keep_contact_block=bool(field("keep_contact_block", flag, required=False)),
        fallback=field("fallback", languages, required=False) or [],
        topics=field("topics", codes, required=False) or [],
        topics_open=field("topics_open", flag, required=False) is not False,
    )


def check_link(value: str) -> str:
    """The public address of a release: one http(s) URL, no spaces or control characters."""
    link = value.strip()
    if not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f<>\"]+", link, flags=re.IGNORECASE):
        raise InputError(f'"{value[:80]}" is not a web address such as https://example.org/news/1')
    return link


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
            for name in (
                "office",
                "concerns",
                "embargo",
                "link",
                "keep_contact_block",
                "fallback",
                "topics",
                "topics_open",
            ):
                if getattr(item, name) != getattr(first, name):
                    raise InvalidRelease(
                        f"{item.path.name}, {name}: differs from {first.path.name} ({getattr(item, name)} vs {getattr(first, name)})"
                    )
    return list(groups.values())


def add_release(session: Session, files: list[ReleaseFile]) -> tuple[Release, str]:
    """Create one release from its language files; returns it and the outcome ("created", or
    "unchanged" when the same files were added before). A release that exists with another
    embargo or text is refused: changing it is `update_release`, which records a revision."""
    first = files[0]
    office = registry.get_office(session, first.office)
    _check_topics(session, first)
    release = _find(session, first.slug)
    if release is not None:
        if describe_changes(release, files) or _meta_changed(release, files, office.id):
            raise BatchConflict(
                f"release {release.slug} already exists (revision {release.revision}, embargo"
                f" {_when(release.embargo)}) and these files change it; nothing was changed",
                hint=f"to record a new revision run: civic-contacts release update {_names(files)}",
            )
        return release, "unchanged"
    release = Release(
        slug=first.slug,
        office=office,
        concerns=first.concerns,
        embargo=first.embargo,
        link=first.link,
        keep_contact_block=first.keep_contact_block,
        fallback=first.fallback,
        topics=first.topics,
        topics_open=first.topics_open,
    )
    session.add(release)
    for position, item in enumerate(files):
        release.translations.append(
            ReleaseTranslation(
                language=item.language,
                position=position,
                title=item.title,
                dateline=item.dateline,
                body=item.body,
            )
        )
    session.flush()
    record_revision(session, release, Changes(summary=["created"]))
    return release, "created"


def _check_topics(session: Session, first: ReleaseFile) -> None:
    """Every topic of the release is in the office's vocabulary."""
    if first.topics:
        try:
            check_beats(first.topics, known_topics(session))
        except InputError as exc:
            raise InvalidRelease(f"{first.path.name}, topics: {exc.message}") from None


def _names(files: list[ReleaseFile]) -> str:
    return " ".join(str(f.path) for f in files)


def _when(instant: dt.datetime | None) -> str:
    return f"{instant:%Y-%m-%d %H:%M} UTC" if instant else "none"


def find_release(session: Session, slug: str) -> Release | None:
    """A release by slug, or None."""
    return _find(session, slug)


def _find(session: Session, slug: str) -> Release | None:
    return session.scalar(
        select(Release).where(Release.slug == slug).options(selectinload(Release.translations))
    )


def _meta_changed(release: Release, files: list[ReleaseFile], office_id: int) -> bool:
    first = files[0]
    return (
        release.office_id,
        list(release.concerns),
        release.link,
        release.keep_contact_block,
        list(release.fallback or []),
        list(release.topics or []),
        release.topics_open,
    ) != (
        office_id,
        first.concerns,
        first.link,
        first.keep_contact_block,
        first.fallback,
        first.topics,
        first.topics_open,
    )


@dataclass
class Changes:
    """What a new revision changes, for the record and for the notices it makes due."""

    summary: list[str] = field(default_factory=list)
    embargo_changed: bool = False
    old_embargo: dt.datetime | None = None
    text_changed: list[str] = field(default_factory=list)
    cancelled: bool = False

    def __bool__(self) -> bool:
        return bool(self.embargo_changed or self.text_changed or self.cancelled or self.summary)


def describe_changes(release: Release, files: list[ReleaseFile]) -> Changes:
    """What these files would change in the release: the embargo, and per language the title,
    the dateline and the paragraphs of the body (languages not in the files are kept)."""
    first = files[0]
    changes = Changes()
    if release.embargo != first.embargo:
        changes.embargo_changed = True
        changes.old_embargo = release.embargo
        changes.summary.append(embargo_move(release.embargo, first.embargo))
    known = {t.language: t for t in release.translations}
    for item in files:
        old = known.get(item.language)
        if old is None:
            changes.text_changed.append(item.language)
            changes.summary.append(f"{item.language}: added")
            continue
        parts = []
        if old.title != item.title:
            parts.append("title")
        if old.dateline != item.dateline:
            parts.append("dateline")
        paragraphs = paragraph_changes(old.body, item.body)
        if paragraphs:
            parts.append(paragraph_summary(paragraphs))
        if parts:
            changes.text_changed.append(item.language)
            changes.summary.append(f"{item.language}: {', '.join(parts)} changed")
    return changes


def embargo_move(old: dt.datetime | None, new: dt.datetime | None) -> str:
    """ "embargo moved later by 2 days (2031-03-10 00:01 -> 2031-03-12 00:01 UTC)", etc."""
    if old is None:
        return f"embargo set: {_when(new)}"
    if new is None:
        return f"embargo removed (was {_when(old)}): the release is for immediate release"
    delta = new - old
    direction = "later" if delta > dt.timedelta(0) else "earlier"
    return (
        f"embargo moved {direction} by {_duration(abs(delta))}"
        f" ({old:%Y-%m-%d %H:%M} -> {new:%Y-%m-%d %H:%M} UTC)"
    )


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{n} {unit}{'s' if n != 1 else ''}"
        for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if n
    ]
    return " ".join(parts) or "less than a minute"


def update_release(
    session: Session, files: list[ReleaseFile], now: dt.datetime | None = None
) -> tuple[Release, Changes]:
    """Record a new revision of an existing release from some of its language files (the
    languages not given are kept); returns it and what changed (empty: nothing changed)."""
    first = files[0]
    release = _find(session, first.slug)
    if release is None:
        raise UnknownRelease(
            f'unknown release "{first.slug}"; nothing was changed',
            hint=f"to create it run: civic-contacts release add {_names(files)}",
        )
    check_open(release, "changed")
    office = registry.get_office(session, first.office)
    if office.id != release.office_id or list(release.concerns) != first.concerns:
        raise InvalidRelease(
            f"{first.path.name}, office/concerns: differ from release {release.slug}"
            f" ({release.office.code}, {' '.join(release.concerns) or '-'}); a revision changes"
            " the embargo and the text only; nothing was changed"
        )
    _check_topics(session, first)
    changes = describe_changes(release, files)
    if (first.topics, first.topics_open) != (list(release.topics or []), release.topics_open):
        release.topics, release.topics_open = first.topics, first.topics_open
        changes.summary.append(
            f"topics: {', '.join(first.topics) or 'none'}"
            + ("" if first.topics_open else " (only journalists with those beats)")
        )
    if first.link != release.link:
        release.link = first.link
        changes.summary.append(f"public link: {first.link or 'none'}")
    if first.fallback != list(release.fallback or []):
        release.fallback = first.fallback
        changes.summary.append(f"fallback languages: {', '.join(first.fallback) or 'none'}")
    if first.keep_contact_block != release.keep_contact_block:
        release.keep_contact_block = first.keep_contact_block
        changes.summary.append(
            "the body's own contact block: "
            + ("kept in messages" if first.keep_contact_block else "left out of messages")
        )
    if not changes:
        return release, changes
    if changes.embargo_changed:
        release.embargo = first.embargo
        release.embargo_sequence += 1
    by_language = {t.language: t for t in release.translations}
    next_position = len(release.translations)
    for item in files:
        translation = by_language.get(item.language)
        if translation is None:
            translation = ReleaseTranslation(language=item.language, position=next_position)
            next_position += 1
            release.translations.append(translation)
        translation.title = item.title
        translation.dateline = item.dateline
        translation.body = item.body
    # Messages rendered from the previous text or embargo are now out of date.
    release.revision += 1
    session.flush()
    record_revision(session, release, changes, now)
    return release, changes


def check_open(release: Release, doing: str) -> None:
    """Refuse to change or send a release that was removed or cancelled."""
    if release.archived_at is not None:
        raise BatchConflict(
            f"release {release.slug} was removed on {release.archived_at:%Y-%m-%d} (kept for the"
            f" audit only); nothing was {doing}",
            hint="add it again under a new slug to send it",
        )
    if release.cancelled_at is not None:
        raise BatchConflict(
            f"release {release.slug} was cancelled on {release.cancelled_at:%Y-%m-%d %H:%M} UTC"
            f" (journalists were told not to publish); nothing was {doing}",
            hint="add it again under a new slug to send it",
        )


def record_revision(
    session: Session, release: Release, changes: Changes, now: dt.datetime | None = None
) -> ReleaseRevision:
    """Store the release as it is now as its current revision, with what changed."""
    row = ReleaseRevision(
        release_id=release.id,
        number=release.revision,
        created_at=now or utcnow(),
        embargo=release.embargo,
        embargo_changed=changes.embargo_changed,
        text_changed=list(changes.text_changed),
        summary=list(changes.summary),
        texts={t.language: [t.title, t.dateline, t.body] for t in release.translations},
        cancelled=changes.cancelled,
    )
    session.add(row)
    session.flush()
    return row


def revisions(session: Session, release: Release) -> list[ReleaseRevision]:
    """The release's revisions, oldest first."""
    return list(
        session.scalars(
            select(ReleaseRevision)
            .where(ReleaseRevision.release_id == release.id)
            .order_by(ReleaseRevision.number)
        )
    )


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
        fallback=tuple(release.fallback or ()),
        topics=tuple(release.topics or ()),
        topics_open=release.topics_open,
    )


def message_body(body: str, keep_contact_block: bool = False) -> str:
    """A translation's body as messages show it. Its own closing media-contact block (found as
    `contact extract` finds it) is left out: each message ends with the contacts routed to its
    outlet, with their links, instead. Kept on request, its lines stay lines (in HTML too)."""
    from civic_contacts.registry.extract import closing_block

    found = closing_block(body)
    if found is None:
        return body
    lines = body.splitlines()
    start, end = found
    if keep_contact_block:
        # A Markdown hard break (a trailing backslash) after each line but the last.
        kept = [
            line.rstrip() + ("\\" if i < end - 1 and line.strip() and lines[i + 1].strip() else "")
            for i, line in enumerate(lines[start:end], start=start)
        ]
        return "\n".join(lines[:start] + kept + lines[end:]) + "\n"
    rest = lines[:start] + lines[end:]
    return "\n".join(rest).strip("\n") + "\n"


def remove_release(session: Session, slug: str) -> str:
    """Delete a release never sent to anyone, or archive one that was (never built or sent
    again; its deliveries stay for the audit); returns "removed" or "archived"."""
    from civic_contacts.registry.models import Delivery

    release = get_release(session, slug)
    return registry.archive_or_delete(session, release, Delivery.release_id == release.id)
