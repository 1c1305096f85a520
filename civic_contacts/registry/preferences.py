"""What a journalist chooses on their preference page: the language of our messages and
others they read, their beats, the offices and countries they follow, at most how many
releases in seven days, and whether they take embargoed material.

The choices on offer come from the registry (the offices' languages, the topics, the offices
and the countries they cover); a choice outside them is refused. A saved choice is an edit of
the journalist's record, kept in their history as theirs ("journalist", by the preference
page), and applies to the next build (`releases/audience.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.errors import InputError
from civic_contacts.registry import history
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Journalist, Office, Topic

MAX_WEEKLY = 50
BY = "journalist"
COMMAND = "preference page"


@dataclass(frozen=True)
class Offered:
    """What the page offers: languages, topics (code and names), offices (code and city by
    language) and countries, each in a stable order."""

    languages: tuple[str, ...]
    topics: tuple[tuple[str, dict[str, str]], ...]
    offices: tuple[tuple[str, str, dict[str, str]], ...]
    countries: tuple[str, ...]

    @property
    def followable(self) -> frozenset[str]:
        """What may be followed: office codes and country codes."""
        return frozenset([code for code, _c, _n in self.offices] + list(self.countries))


def offered(session: Session) -> Offered:
    """The choices the registry gives."""
    offices = session.scalars(select(Office).order_by(Office.code)).all()
    languages: list[str] = []
    countries: list[str] = []
    for office in offices:
        languages.extend(lang for lang in office.languages if lang not in languages)
        for country in [office.country, *office.covers]:
            if country != "*" and country not in countries:
                countries.append(country)
    topics = session.scalars(select(Topic).order_by(Topic.code)).all()
    return Offered(
        languages=tuple(languages),
        topics=tuple((t.code, dict(t.labels)) for t in topics),
        offices=tuple((o.code, o.city, dict(o.cities or {})) for o in offices),
        countries=tuple(sorted(countries)),
    )


@dataclass
class Choices:
    """One journalist's choices, as the page shows and posts them."""

    language: str | None = None  # None: the outlet's
    also_reads: list[str] = field(default_factory=list)
    beats: list[str] = field(default_factory=list)
    follows: list[str] = field(default_factory=list)
    weekly_cap: int | None = None
    accepts_embargoed: bool = True


def choices_of(journalist: Journalist) -> Choices:
    """What the journalist has now."""
    return Choices(
        language=journalist.language,
        also_reads=list(journalist.also_reads or []),
        beats=list(journalist.beats or []),
        follows=list(journalist.follows or []),
        weekly_cap=journalist.weekly_cap,
        accepts_embargoed=journalist.accepts_embargoed,
    )


def _only(values: list[str], allowed: frozenset[str] | tuple[str, ...], what: str) -> list[str]:
    found: list[str] = []
    for value in values:
        if value not in allowed:
            raise InputError(f'"{value[:40]}" is not one of the {what} offered')
        if value not in found:
            found.append(value)
    return found


def check_choices(
    form: dict[str, list[str]], offer: Offered, current_language: str | None
) -> Choices:
    """The choices a posted form makes, each checked against what was offered (the
    journalist's own language stays allowed even when no office writes in it)."""
    languages = offer.languages + ((current_language,) if current_language else ())
    language = (form.get("language") or [""])[0].strip() or None
    if language is not None and language not in languages:
        raise InputError(f'"{language[:20]}" is not one of the languages offered')
    cap_text = (form.get("weekly_cap") or [""])[0].strip()
    cap: int | None = None
    if cap_text:
        if not cap_text.isdigit() or not 1 <= int(cap_text) <= MAX_WEEKLY:
            raise InputError(f"at most how many a week: a number from 1 to {MAX_WEEKLY}, or none")
        cap = int(cap_text)
    return Choices(
        language=language,
        also_reads=[
            x for x in _only(form.get("also_reads", []), languages, "languages") if x != language
        ],
        beats=_only(form.get("beats", []), tuple(code for code, _l in offer.topics), "topics"),
        follows=_only(form.get("follows", []), offer.followable, "offices and countries"),
        weekly_cap=cap,
        accepts_embargoed=(form.get("accepts_embargoed") or [""])[0] == "yes",
    )


def save_choices(session: Session, journalist: Journalist, choices: Choices) -> dict[str, object]:
    """Apply the choices to the journalist's record, recorded in their history as theirs;
    returns the fields that changed (before, after)."""
    values: dict[str, object] = {
        "language": choices.language,
        "also_reads": choices.also_reads,
        "beats": choices.beats,
        "follows": choices.follows,
        "weekly_cap": choices.weekly_cap,
        "accepts_embargoed": choices.accepts_embargoed,
    }
    with history.acting(BY, COMMAND):
        return dict(registry.edit(session, journalist, values))
