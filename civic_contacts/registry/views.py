"""What routing reads of the registry: offices, press contacts, outlets and journalists as
plain frozen records, so that routing (`releases/routing.py`) stays pure and the registry's
queries (`store.routing_*`) can build them without importing a higher stage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OfficeInfo:
    """What routing needs of an office."""

    code: str
    city: str
    country: str
    languages: tuple[str, ...]
    covers: tuple[str, ...]


@dataclass(frozen=True)
class ContactInfo:
    """What routing needs of a press contact."""

    id: int
    name: str
    office: str
    languages: tuple[str, ...]
    rank: int
    active: bool = True


@dataclass(frozen=True)
class OutletInfo:
    """What routing needs of an outlet."""

    slug: str
    name: str
    country: str
    languages: tuple[str, ...]
    also_reads: tuple[str, ...] = ()
    beats: tuple[str, ...] = ()


@dataclass(frozen=True)
class JournalistInfo:
    """What routing needs of a journalist."""

    id: int
    name: str
    email: str
    outlet: str
    language: str | None = None
    beats: tuple[str, ...] = ()
    # What they chose on their preference page (see `releases/audience.py`).
    also_reads: tuple[str, ...] = ()
    follows: tuple[str, ...] = ()
    weekly_cap: int | None = None
    accepts_embargoed: bool = True
