"""Who speaks to which outlet: the release language and the press contacts, with reasons.

Pure: plain data in, plain data out (PRODUCT.md §3).

0. Audience: beats against the release's topics and each journalist's own choices leave some
   out, each with its reason (`audience.py`).
1. Language, per journalist: the first of the journalist's own language, then the other
   languages they read (their preference page's), then the outlet's languages, then the languages the outlet's readers also read (`also_reads`), that the
   release has; otherwise a *fallback* (listed by `route coverage`): the release's own
   fallback order (`fallback` in its front matter), then English when the release has it,
   then the owning office's first language the release has, then the release's first.
2. Contacts: active press contacts who speak that language, ordered by (a) their office names
   the outlet's country in its coverage or is in that country, (b) their office owns the release, (c) their office
   covers every country (`*`), (d) rank, then name. At most `max_contacts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from civic_contacts.registry.codes import language_matches
from civic_contacts.registry.views import ContactInfo as ContactInfo
from civic_contacts.registry.views import JournalistInfo as JournalistInfo
from civic_contacts.registry.views import OfficeInfo as OfficeInfo
from civic_contacts.registry.views import OutletInfo as OutletInfo
from civic_contacts.releases import audience


@dataclass(frozen=True)
class ReleaseInfo:
    """What routing needs of a release."""

    slug: str
    office: str
    languages: tuple[str, ...]
    concerns: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    topics_open: bool = True


@dataclass(frozen=True)
class RoutedContact:
    """A press contact chosen for an outlet, and why."""

    id: int
    name: str
    office: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class LanguageChoice:
    """The language of a message and how it was chosen."""

    language: str
    reason: str
    fallback: bool


@dataclass
class JournalistRouting:
    """A journalist's language and contacts."""

    journalist: JournalistInfo
    choice: LanguageChoice
    contacts: tuple[RoutedContact, ...]
    why: str = ""  # why they get the release (beats, what they follow)


@dataclass
class OutletRouting:
    """An outlet's routing: its language and contacts, and its journalists' own routings."""

    outlet: OutletInfo
    choice: LanguageChoice
    contacts: tuple[RoutedContact, ...]
    journalists: list[JournalistRouting] = field(default_factory=list)
    # Journalists the audience rules leave out, each with the reason.
    left_out: list[tuple[JournalistInfo, str]] = field(default_factory=list)

    @property
    def exceptions(self) -> list[JournalistRouting]:
        """Journalists whose language differs from the outlet's."""
        return [j for j in self.journalists if j.choice.language != self.choice.language]


def _release_language(wanted: str, release: ReleaseInfo) -> str | None:
    for available in release.languages:
        if available == wanted:
            return available
    for available in release.languages:
        if language_matches(wanted, available):
            return available
    return None


def choose_language(
    journalist_language: str | None,
    outlet_languages: Sequence[str],
    release: ReleaseInfo,
    owner_languages: Sequence[str],
    also_reads: Sequence[str] = (),
    journalist_also: Sequence[str] = (),
) -> LanguageChoice:
    """The message language for one journalist (rule 1)."""
    if journalist_language:
        found = _release_language(journalist_language, release)
        if found:
            return LanguageChoice(found, f"journalist reads {journalist_language}", False)
    for language in journalist_also:
        found = _release_language(language, release)
        if found:
            return LanguageChoice(found, f"journalist also reads {language}", False)
    for language in outlet_languages:
        found = _release_language(language, release)
        if found:
            return LanguageChoice(found, f"outlet publishes in {language}", False)
    for language in also_reads:
        found = _release_language(language, release)
        if found:
            return LanguageChoice(found, f"outlet's readers also read {language}", False)
    for language in release.fallback:
        found = _release_language(language, release)
        if found:
            return LanguageChoice(found, f"fallback: the release's fallback {language}", True)
    if _release_language("en", release):
        return LanguageChoice(_release_language("en", release) or "en", "fallback: English", True)
    for language in owner_languages:
        found = _release_language(language, release)
        if found:
            return LanguageChoice(found, f"fallback: owning office's language {language}", True)
    first = release.languages[0]
    return LanguageChoice(first, f"fallback: the release's first language {first}", True)


class Router:
    """Routes outlets and journalists of one release; contact orderings are computed once per
    (language, country) pair, which is what makes ten thousand outlets cheap."""

    def __init__(
        self,
        release: ReleaseInfo,
        contacts: Iterable[ContactInfo],
        offices: Iterable[OfficeInfo],
        max_contacts: int = 2,
        embargoed: bool = False,
        recent: Mapping[int, int] | None = None,
    ) -> None:
        """`embargoed`: the release is built under an embargo that has not lifted; `recent`:
        releases sent to each journalist (by id) in the last seven days, for weekly caps."""
        if max_contacts < 1:
            raise ValueError("max_contacts must be at least 1")
        self.release = release
        self.subject = audience.Subject(
            release.office, release.concerns, release.topics, release.topics_open, embargoed
        )
        self.recent = recent or {}
        # The release's topics some routed journalist covers (by beat), for `topic_gaps`.
        self.covered: set[str] = set()
        self.offices = {o.code: o for o in offices}
        self.contacts = [c for c in contacts if c.active]
        self.max_contacts = max_contacts
        owner = self.offices.get(release.office)
        self.owner_languages = owner.languages if owner else ()
        self._cache: dict[tuple[str, str], tuple[RoutedContact, ...]] = {}
        self._choices: dict[
            tuple[str | None, tuple[str, ...], tuple[str, ...], tuple[str, ...]], LanguageChoice
        ] = {}

    def choose(
        self,
        journalist_language: str | None,
        outlet_languages: tuple[str, ...],
        also_reads: tuple[str, ...] = (),
        journalist_also: tuple[str, ...] = (),
    ) -> LanguageChoice:
        """Rule 1 for this release, remembered per (journalist language, outlet languages,
        languages the outlet's readers also read, languages the journalist also reads)."""
        key = (journalist_language, outlet_languages, also_reads, journalist_also)
        choice = self._choices.get(key)
        if choice is None:
            choice = choose_language(
                journalist_language,
                outlet_languages,
                self.release,
                self.owner_languages,
                also_reads,
                journalist_also,
            )
            self._choices[key] = choice
        return choice

    def contacts_for(self, language: str, country: str) -> tuple[RoutedContact, ...]:
        """Active contacts who speak `language`, best first for an outlet in `country` (rule 2)."""
        key = (language, country)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        ranked = []
        for contact in self.contacts:
            if not any(language_matches(language, spoken) for spoken in contact.languages):
                continue
            office = self.offices.get(contact.office)
            covers = office.covers if office else ()
            city = office.city if office else contact.office
            # An office always covers its own country, whatever its list says.
            at_home = office is not None and office.country == country
            names_country = at_home or country in covers
            owns = contact.office == self.release.office
            covers_all = "*" in covers
            reasons = [f"speaks {language}"]
            if at_home:
                reasons.append(f"{city} is in {country}")
            elif names_country:
                reasons.append(f"{city} covers {country}")
            if owns:
                reasons.append(f"{city} owns the release")
            if covers_all and not names_country:
                reasons.append(f"{city} covers every country")
            reasons.append(f"rank {contact.rank}")
            order = (not names_country, not owns, not covers_all, contact.rank, contact.name)
            ranked.append(
                (order, RoutedContact(contact.id, contact.name, contact.office, tuple(reasons)))
            )
        ranked.sort(key=lambda pair: pair[0])
        chosen = tuple(routed for _order, routed in ranked[: self.max_contacts])
        self._cache[key] = chosen
        return chosen

    def route_outlet(
        self, outlet: OutletInfo, journalists: Iterable[JournalistInfo] = ()
    ) -> OutletRouting:
        """The outlet's language and contacts, and each journalist's; those the audience rules
        leave out are listed with the reason."""
        choice = self.choose(None, outlet.languages, outlet.also_reads)
        routing = OutletRouting(outlet, choice, self.contacts_for(choice.language, outlet.country))
        for journalist in journalists:
            verdict = audience.decide(
                self.subject, journalist, outlet.beats, self.recent.get(journalist.id, 0)
            )
            if not verdict.included:
                routing.left_out.append((journalist, verdict.reason))
                continue
            if self.subject.topics:
                beats = journalist.beats or outlet.beats
                self.covered.update(t for t in self.subject.topics if t in beats)
            own = self.choose(
                journalist.language, outlet.languages, outlet.also_reads, journalist.also_reads
            )
            contacts = (
                routing.contacts
                if own.language == choice.language
                else self.contacts_for(own.language, outlet.country)
            )
            routing.journalists.append(JournalistRouting(journalist, own, contacts, verdict.reason))
        return routing


def route_release(
    release: ReleaseInfo,
    outlets: Iterable[OutletInfo],
    journalists: Iterable[JournalistInfo],
    contacts: Iterable[ContactInfo],
    offices: Iterable[OfficeInfo],
    max_contacts: int = 2,
) -> list[OutletRouting]:
    """The routing of every outlet (and its journalists) for a release."""
    router = Router(release, contacts, offices, max_contacts)
    by_outlet: dict[str, list[JournalistInfo]] = {}
    for journalist in journalists:
        by_outlet.setdefault(journalist.outlet, []).append(journalist)
    return [router.route_outlet(outlet, by_outlet.get(outlet.slug, ())) for outlet in outlets]


def topic_gaps(release: ReleaseInfo, covered: set[str]) -> list[str]:
    """The release's topics no routed journalist covers, as coverage problems."""
    return [
        f"no journalist on the list covers topic {topic}"
        for topic in release.topics
        if topic not in covered
    ]


@dataclass(frozen=True)
class CoverageGap:
    """An outlet language that no active press contact can serve, and who could."""

    outlet: OutletInfo
    language: str
    problem: str
    could: tuple[str, ...]


def coverage_gaps(
    outlets: Iterable[OutletInfo],
    contacts: Iterable[ContactInfo],
    offices: Iterable[OfficeInfo],
    release: ReleaseInfo | None = None,
) -> list[CoverageGap]:
    """Outlet languages nobody active can serve; with a release, also those it lacks."""
    office_map = {o.code: o for o in offices}
    every = list(contacts)
    active = [c for c in every if c.active]
    gaps: list[CoverageGap] = []
    for outlet in outlets:
        for language in outlet.languages:
            speakers = [
                c for c in active if any(language_matches(language, s) for s in c.languages)
            ]
            if not speakers:
                inactive = [
                    f"{c.name} ({c.office}, inactive)"
                    for c in every
                    if not c.active and any(language_matches(language, s) for s in c.languages)
                ]
                gaps.append(
                    CoverageGap(
                        outlet,
                        language,
                        f"no active press contact speaks {language}",
                        tuple(inactive),
                    )
                )
                continue
            if release is not None and _release_language(language, release) is None:
                could = tuple(f"{c.name} ({c.office})" for c in speakers)
                gaps.append(
                    CoverageGap(
                        outlet,
                        language,
                        f"release {release.slug} has no {language} text",
                        could,
                    )
                )
                continue
            local = [
                c
                for c in speakers
                if (office := office_map.get(c.office)) is not None
                and (
                    outlet.country == office.country
                    or outlet.country in office.covers
                    or "*" in office.covers
                )
            ]
            if not local:
                could = tuple(f"{c.name} ({c.office})" for c in speakers)
                gaps.append(
                    CoverageGap(
                        outlet,
                        language,
                        f"no office covering {outlet.country} has a {language} speaker",
                        could,
                    )
                )
    return gaps
