"""The office's vocabulary of topics: releases carry topics, journalists and outlets beats,
all codes of this one list, so that "water" on a release meets "water" on a journalist and
never "Water " or "eau". Each topic has its name in the languages messages and the
preference page are written in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.errors import InputError
from civic_contacts.registry import history
from civic_contacts.registry.codes import check_code, check_language, check_text, split_list
from civic_contacts.registry.models import Journalist, Outlet, Release, Topic


def list_topics(session: Session) -> Sequence[Topic]:
    """Every topic, by code."""
    return session.scalars(select(Topic).order_by(Topic.code)).all()


def known_topics(session: Session) -> frozenset[str]:
    """The codes of every topic."""
    return frozenset(session.scalars(select(Topic.code)))


def check_label(value: str) -> tuple[str, str]:
    """`fr=eau` → ("fr", "eau")."""
    language, equals, label = value.partition("=")
    if not equals:
        raise InputError(f'"{value}" is not LANGUAGE=LABEL (as fr=eau)')
    return check_language(language), check_text(label, "label", max_length=100)


def add_topic(session: Session, code: str, labels: dict[str, str]) -> str:
    """Add a topic, or give a known one these labels (others kept): created, updated or
    unchanged."""
    code = check_code(code, "topic")
    topic = session.scalar(select(Topic).where(Topic.code == code))
    if topic is None:
        session.add(Topic(code=code, labels=dict(labels)))
        session.flush()
        history.record(session, "topic", code, "created", {"labels": [None, labels]})
        return "created"
    merged = {**topic.labels, **labels}
    if merged == topic.labels:
        return "unchanged"
    history.record(session, "topic", code, "updated", {"labels": [topic.labels, merged]})
    topic.labels = merged
    return "updated"


def remove_topic(session: Session, code: str) -> None:
    """Remove a topic nobody uses; one still on a journalist, outlet or release is refused,
    with how many use it."""
    code = code.strip().lower()
    topic = session.scalar(select(Topic).where(Topic.code == code))
    if topic is None:
        raise InputError(f'no topic "{code}"', hint="civic-contacts topic list shows them")
    users = {
        "journalists": sum(code in beats for beats in session.scalars(select(Journalist.beats))),
        "outlets": sum(code in beats for beats in session.scalars(select(Outlet.beats))),
        "releases": sum(code in topics for topics in session.scalars(select(Release.topics))),
    }
    used = [f"{count} {what}" for what, count in users.items() if count]
    if used:
        raise InputError(
            f'topic "{code}" is still used by {", ".join(used)}; nothing was removed',
            hint="take it off them first (journalist edit --beats, outlet edit --beats)",
        )
    session.delete(topic)
    history.record(session, "topic", code, "removed", {"labels": [topic.labels, None]})


def check_beats(values: str | Iterable[str], known: frozenset[str]) -> list[str]:
    """Beats or topics as given (a `;`-separated cell or a list): known topic codes, in
    order, each once. An unknown one is refused, naming the known ones."""
    items = split_list(values.replace(",", ";")) if isinstance(values, str) else list(values)
    found: list[str] = []
    for item in items:
        code = item.strip().lower()
        if code not in known:
            listed = ", ".join(sorted(known)[:12]) or "none yet"
            raise InputError(
                f'unknown topic "{item.strip()}" (known: {listed}; add one with'
                " civic-contacts topic add)"
            )
        if code not in found:
            found.append(code)
    return found


def label(topic: Topic | None, code: str, language: str) -> str:
    """The topic's name in `language` (its base language's, else its code)."""
    labels = topic.labels if topic is not None else {}
    return labels.get(language) or labels.get(language.split("-")[0]) or code
