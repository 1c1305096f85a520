"""Routing (PRODUCT.md §3): each ordering rule on its own, ties, inactive contacts, fallback."""

from __future__ import annotations

from civic_contacts.releases.routing import (
    ContactInfo,
    JournalistInfo,
    OfficeInfo,
    OutletInfo,
    ReleaseInfo,
    Router,
    choose_language,
    coverage_gaps,
    route_release,
)

NIAMEY = OfficeInfo("niamey", "Niamey", "NE", ("fr", "en"), ("NE", "ML", "BF", "TD", "MR"))
HAGUE = OfficeInfo("the-hague", "The Hague", "NL", ("en", "fr"), ("*",))
DAKAR = OfficeInfo("dakar", "Dakar", "SN", ("fr",), ("SN",))
OFFICES = [NIAMEY, HAGUE, DAKAR]
RELEASE = ReleaseInfo("r", "the-hague", ("en", "fr"), ("ML",))


def contact(
    i: int, name: str, office: str, languages: tuple[str, ...], rank: int, active: bool = True
) -> ContactInfo:
    return ContactInfo(i, name, office, languages, rank, active)


def names(router: Router, language: str, country: str) -> list[str]:
    return [c.name for c in router.contacts_for(language, country)]


def test_rule_a_office_naming_the_country_comes_first() -> None:
    """An office that names the outlet's country beats the owning office and `*`."""
    contacts = [
        contact(1, "Hague", "the-hague", ("fr",), 1),
        contact(2, "Niamey", "niamey", ("fr",), 9),
    ]
    assert names(Router(RELEASE, contacts, OFFICES), "fr", "ML") == ["Niamey", "Hague"]


def test_an_office_covers_its_own_country() -> None:
    """A Dutch outlet gets The Hague first even on a Niamey release and with The Hague's list
    saying only `*`: an office is always at home in its own country, and says so."""
    release = ReleaseInfo("r", "niamey", ("en",))
    contacts = [
        contact(1, "Niamey", "niamey", ("en",), 1),
        contact(2, "Hague", "the-hague", ("en",), 5),
    ]
    router = Router(release, contacts, OFFICES)
    assert names(router, "en", "NL") == ["Hague", "Niamey"]
    assert "The Hague is in NL" in router.contacts_for("en", "NL")[0].reasons
    bare = OfficeInfo("dakar", "Dakar", "SN", ("fr",), ())
    outlet = OutletInfo("le-soleil", "Le Soleil", "SN", ("fr",))
    assert coverage_gaps([outlet], [contact(3, "Dakar", "dakar", ("fr",), 1)], [bare]) == []


def test_rule_b_owning_office_beats_other_offices() -> None:
    """Without an office naming the country, the owning office comes first."""
    release = ReleaseInfo("r", "niamey", ("fr",))
    contacts = [
        contact(1, "Dakar", "dakar", ("fr",), 1),
        contact(2, "Niamey", "niamey", ("fr",), 5),
    ]
    assert names(Router(release, contacts, OFFICES), "fr", "FR") == ["Niamey", "Dakar"]


def test_rule_c_office_covering_everything_beats_a_regional_one() -> None:
    """Between two offices that neither name the country nor own the release, `*` wins."""
    release = ReleaseInfo("r", "dakar", ("en",))
    contacts = [
        contact(1, "Niamey", "niamey", ("en",), 1),
        contact(2, "Hague", "the-hague", ("en",), 5),
    ]
    assert names(Router(release, contacts, OFFICES), "en", "US") == ["Hague", "Niamey"]


def test_rule_d_rank_then_name() -> None:
    """Within one office, lower rank first; equal ranks by name."""
    contacts = [
        contact(1, "Zoe", "the-hague", ("en",), 2),
        contact(2, "Anna", "the-hague", ("en",), 2),
        contact(3, "Boss", "the-hague", ("en",), 1),
    ]
    router = Router(RELEASE, contacts, OFFICES, max_contacts=3)
    assert names(router, "en", "GB") == ["Boss", "Anna", "Zoe"]


def test_only_speakers_of_the_language() -> None:
    """A contact who does not speak the language is never routed."""
    contacts = [
        contact(1, "English only", "niamey", ("en",), 1),
        contact(2, "Francophone", "the-hague", ("fr",), 9),
    ]
    assert names(Router(RELEASE, contacts, OFFICES), "fr", "ML") == ["Francophone"]


def test_inactive_contacts_are_left_out() -> None:
    """An inactive contact is not routed, however senior."""
    contacts = [
        contact(1, "Away", "niamey", ("fr",), 1, active=False),
        contact(2, "Here", "niamey", ("fr",), 2),
    ]
    assert names(Router(RELEASE, contacts, OFFICES), "fr", "ML") == ["Here"]


def test_at_most_n_contacts() -> None:
    """At most max_contacts are routed."""
    contacts = [contact(i, f"C{i}", "the-hague", ("en",), i) for i in range(5)]
    assert len(Router(RELEASE, contacts, OFFICES, max_contacts=2).contacts_for("en", "GB")) == 2
    assert len(Router(RELEASE, contacts, OFFICES, max_contacts=4).contacts_for("en", "GB")) == 4


def test_reasons_explain_the_choice() -> None:
    """Each routed contact carries the reasons for its place."""
    contacts = [contact(1, "Mariam", "niamey", ("fr", "en"), 1)]
    routed = Router(RELEASE, contacts, OFFICES).contacts_for("fr", "ML")[0]
    assert routed.reasons == ("speaks fr", "Niamey covers ML", "rank 1")


def test_language_journalist_first_then_outlet_then_owner() -> None:
    """The journalist's own language wins, then the outlet's languages, then the owner's."""
    assert choose_language("fr", ("en",), RELEASE, ("en", "fr")).language == "fr"
    assert choose_language(None, ("nl", "fr"), RELEASE, ("en",)).language == "fr"
    fallback = choose_language("ar", ("ar",), RELEASE, ("en", "fr"))
    assert (fallback.language, fallback.fallback) == ("en", True)


def test_regional_language_tag_matches_primary() -> None:
    """An outlet writing fr-ML gets the release's fr text."""
    assert choose_language(None, ("fr-ML",), RELEASE, ("en",)).language == "fr"


def test_journalist_with_own_language_gets_own_contacts() -> None:
    """A French-reading journalist at an English outlet gets French and a French speaker."""
    contacts = [
        contact(1, "Anglo", "the-hague", ("en",), 1),
        contact(2, "Franco", "the-hague", ("fr",), 2),
    ]
    outlet = OutletInfo("ldn", "London", "GB", ("en",))
    people = [
        JournalistInfo(1, "A", "a@example.org", "ldn"),
        JournalistInfo(2, "B", "b@example.org", "ldn", "fr"),
    ]
    [routing] = route_release(RELEASE, [outlet], people, contacts, OFFICES)
    assert routing.choice.language == "en" and [c.name for c in routing.contacts] == ["Anglo"]
    [exception] = routing.exceptions
    assert exception.journalist.email == "b@example.org"
    assert (exception.choice.language, [c.name for c in exception.contacts]) == ("fr", ["Franco"])


def test_coverage_lists_languages_nobody_speaks_and_who_could() -> None:
    """An Arabic outlet with no Arabic speaker is a gap; an inactive speaker is named."""
    contacts = [
        contact(1, "Franco", "niamey", ("fr",), 1),
        contact(2, "Retired", "niamey", ("ar",), 1, False),
    ]
    outlets = [
        OutletInfo("ar-radio", "R", "TD", ("ar",)),
        OutletInfo("fr-paper", "P", "TD", ("fr",)),
    ]
    gaps = coverage_gaps(outlets, contacts, OFFICES)
    assert [(g.outlet.slug, g.language, g.could) for g in gaps] == [
        ("ar-radio", "ar", ("Retired (niamey, inactive)",))
    ]


def test_coverage_with_release_lists_missing_translation() -> None:
    """With a release, an outlet language the release lacks is listed with who speaks it."""
    contacts = [contact(1, "Nl", "the-hague", ("nl",), 1)]
    gaps = coverage_gaps([OutletInfo("nl-paper", "P", "NL", ("nl",))], contacts, OFFICES, RELEASE)
    assert [(g.problem, g.could) for g in gaps] == [
        ("release r has no nl text", ("Nl (the-hague)",))
    ]


def test_coverage_speaker_only_in_an_office_not_covering_the_country() -> None:
    """A speaker whose office does not cover the outlet's country is named as who could."""
    contacts = [contact(1, "Wolof", "dakar", ("wo",), 1)]
    gaps = coverage_gaps([OutletInfo("x", "X", "ML", ("wo",))], contacts, [DAKAR])
    assert [(g.problem, g.could) for g in gaps] == [
        ("no office covering ML has a wo speaker", ("Wolof (dakar)",))
    ]


def test_the_fallback_language_is_explicit_and_sensible() -> None:
    """A Flemish outlet of a Niamey release in French and English: English (not the owning
    office's French) when nothing says otherwise; the outlet's readers' other languages
    (`also_reads`) come before that; the release's own fallback order before English."""
    niamey = ReleaseInfo("sahel", "niamey", ("fr", "en"), ("NE",))
    flemish = choose_language(None, ("nl",), niamey, ("fr", "en"))
    assert (flemish.language, flemish.fallback, flemish.reason) == ("en", True, "fallback: English")
    reads_french = choose_language(None, ("nl",), niamey, ("fr", "en"), also_reads=("fr", "en"))
    assert (reads_french.language, reads_french.fallback) == ("fr", False)
    assert reads_french.reason == "outlet's readers also read fr"
    ordered = ReleaseInfo("sahel", "niamey", ("fr", "en"), ("NE",), fallback=("fr",))
    assert choose_language(None, ("nl",), ordered, ("fr", "en")).language == "fr"
    # Without English in the release: the owning office's first language it has.
    french_only = ReleaseInfo("sahel", "the-hague", ("ar", "fr"), ("NE",))
    assert choose_language(None, ("nl",), french_only, ("en", "fr")).language == "fr"


def test_the_router_remembers_also_reads_per_outlet() -> None:
    """Two outlets with the same languages and different `also_reads` are routed apart."""
    niamey = ReleaseInfo("sahel", "niamey", ("fr", "en"), ("NE",))
    router = Router(niamey, [contact(1, "A", "niamey", ("fr", "en"), 1)], OFFICES)
    plain = OutletInfo("de-standaard", "De Standaard", "BE", ("nl",))
    french = OutletInfo("le-soir-nl", "Le Soir NL", "BE", ("nl",), also_reads=("fr",))
    assert router.route_outlet(plain).choice.language == "en"
    assert router.route_outlet(french).choice.language == "fr"
