"""Reading the media-contact block of a release: people, cities, emails and numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_contacts.registry.extract import extract_contacts, find_block, make_region_lookup
from tests.extract_cases import CASES
from tests.extract_more import MORE

LOOKUP = make_region_lookup([("niamey", "Niamey", "NE"), ("the-hague", "The Hague", "NL")])


@pytest.mark.parametrize(("case", "text", "region", "expected"), CASES, ids=[c[0] for c in CASES])
def test_fixture_blocks(case: str, text: str, region: str | None, expected: list) -> None:
    """Each written contact block gives exactly its people, emails, numbers and WhatsApp flags."""
    people = extract_contacts(text, LOOKUP, region=region)
    got = [
        (p.name, p.office, p.emails, [(ph.e164, ph.whatsapp) for ph in p.phones]) for p in people
    ]
    assert got == expected


@pytest.mark.parametrize(("case", "text", "region", "expected"), MORE, ids=[c[0] for c in MORE])
def test_more_fixture_blocks(case: str, text: str, region: str | None, expected: list) -> None:
    """Desks, several headings, several people per line, people in prose, names, labels,
    national number habits, look-alikes, hidden addresses, cities as written: each block
    gives exactly its entries, and the roles the fixture names."""
    people = extract_contacts(text, LOOKUP, region=region)
    got = [
        (p.name, p.office, p.emails, [(ph.e164, ph.whatsapp) for ph in p.phones]) for p in people
    ]
    assert got == [tuple(person[:4]) for person in expected]
    for person, found in zip(expected, people, strict=True):
        if person[4] is not None:
            assert found.role == person[4]


def test_there_are_at_least_80_fixture_blocks_in_four_languages() -> None:
    """The fixture set covers at least eighty blocks."""
    assert len(CASES) + len(MORE) >= 80
    texts = " ".join(text for _c, text, _r, _e in [*CASES, *MORE])
    for word in ("contact", "presse", "prensa", "Pressekontakt", "imprensa"):
        assert word in texts


def test_no_email_or_number_is_dropped_for_want_of_a_name() -> None:
    """An entry without a person keeps its address and numbers (name null, label as role)."""
    people = extract_contacts(
        "Media contacts:\nNewsroom (24/7): newsroom@example.org, +44 121 234 5678\n", LOOKUP
    )
    assert [(p.name, p.role, p.emails, [ph.e164 for ph in p.phones]) for p in people] == [
        (None, "Newsroom (24/7)", ["newsroom@example.org"], ["+441212345678"])
    ]
    assert people[0].to_json()["name"] is None


def test_registry_office_city_beats_gazetteer() -> None:
    """A city named by a registry office gives that office's country first."""
    lookup = make_region_lookup([("dakar-hub", "Paris", "SN")])
    assert lookup("Paris") == "SN"
    assert make_region_lookup([])("Paris") == "FR"


def test_gazetteer_knows_alternate_names() -> None:
    """The French name of The Hague is found through the gazetteer's alternate names."""
    assert make_region_lookup([])("La Haye") == "NL"


def test_block_ends_at_notes_to_editors() -> None:
    """Numbers after "Notes to editors" are not part of the block."""
    block = find_block("Media contact:\nA B: a@example.org\n\nNotes to editors\n+1 202 555 0100\n")
    assert "+1 202 555 0100" not in "\n".join(block)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_extraction_never_crashes(text: str) -> None:
    """Arbitrary text gives a list of people, never an exception."""
    people = extract_contacts(text, LOOKUP, region="NE")
    assert isinstance(people, list)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Media contact:",
                "In Niamey:",
                "Mariam Diallo",
                "Press Officer",
                "Tel: +227 93 12 34 56",
                "WhatsApp: 93",
                "Email: a@example.org",
                "",
                "/",
                "(0)",
                "x",
                "ou",
                "Courriel :",
                "\u2028",
            ]
        ),
        max_size=12,
    )
)
def test_extraction_of_shuffled_block_parts_never_crashes(parts: list[str]) -> None:
    """Pieces of real blocks in any order give people, never an exception: each a named
    person, or a desk (no name) with a number or an address to reach it by."""
    people = extract_contacts("\n".join(parts), LOOKUP)
    for person in people:
        assert person.name or (person.name is None and (person.phones or person.emails))


@pytest.mark.parametrize(
    ("block", "name"),
    [
        (
            "For media inquiries please contact:\nPat Example at +1 (917) 555-0142 or"
            " pat@example.org",
            "Pat Example",
        ),
        ("Contact: Pat Example, Press Officer\nDirect: +1 212 555 0143", "Pat Example"),
    ],
    ids=["trailing-at", "leading-contact-label"],
)
def test_a_name_is_read_without_the_words_around_it(block: str, name: str) -> None:
    """Real blocks write "Name at +1 …" and "Contact: Name": the name alone is read."""
    people = extract_contacts(block, LOOKUP)
    assert [p.name for p in people] == [name]


def test_a_label_left_where_a_name_stands_is_no_person() -> None:
    """ "Contacts" on its own line above the people is a label, not a person."""
    people = extract_contacts(
        "Media contacts:\nContacts\nPat Example, Press Officer, pat@example.org", LOOKUP
    )
    assert [p.name for p in people] == ["Pat Example"]


@pytest.mark.parametrize(
    ("block", "names", "numbers"),
    [
        (
            "Pour toute question, veuillez vous adresser à M. Pat Exemple, Responsable"
            " Communication, joignable au 93 12 34 56.",
            ["Pat Exemple"],
            1,
        ),
        (
            "Concernant le travail du bureau, Mme Awa Exemple est la personne chargée des"
            " relations avec les médias. Elle est joignable au 93 12 34 57.",
            ["Awa Exemple"],
            1,
        ),
        (
            "Informations :\nPat Exemple ou Awa Exemple, Niamey, tél. : +227 93 12 34 56",
            ["Pat Exemple", "Awa Exemple"],
            2,
        ),
        (
            "Contact presse\n\nPour toute demande d'interview :\n\n+227 93 12 34 56\n\npresse@example.org",
            [None],
            1,
        ),
    ],
    ids=["titled-with-role", "titled-sentence", "either-person", "no-name-desk"],
)
def test_names_in_prose_either_person_and_a_nameless_desk(
    block: str, names: list[str | None], numbers: int
) -> None:
    """As real French releases write them: a titled name inside a sentence ("M.", "Mme"),
    "one or the other" reached the same way, and numbers under a heading that names nobody
    (kept as the desk's, never lost)."""
    people = extract_contacts(block, LOOKUP, region="NE")
    assert [p.name for p in people] == names
    assert sum(len(p.phones) for p in people) == numbers
    assert all(p.phones and p.phones[0].valid for p in people)


@pytest.mark.parametrize(
    ("block", "names"),
    [
        ("Media contact:\nBetween 9:30 and 17:30: +44 20 7946 0958", [None]),
        ("For media enquiries please contact +44 20 7946 0958", [None]),
        ("Contacts:\nUNICEF Media Team, +1 212 555 0143", ["UNICEF Media Team"]),
        ("Contacts:\nJane ROE, Press Officer, +1 212 555 0143", ["Jane Roe"]),
    ],
    ids=["hours", "sentence", "acronym-team", "surname-in-capitals"],
)
def test_a_sentence_is_no_name_and_an_acronym_keeps_its_case(
    block: str, names: list[str | None]
) -> None:
    """Hours or a sentence where a name stands leave the number to the desk (no name); a
    team named after its organisation keeps the acronym as written, while a surname printed
    in capitals is still read in the name's case."""
    people = extract_contacts(block, LOOKUP)
    assert [p.name for p in people] == names
    assert all(p.phones for p in people)


def test_an_organisation_and_a_city_above_people_are_neither_person() -> None:
    """ "WFP" and "- Geneva" on lines of their own, as a real UN release lists its people:
    the organisation is nobody, the city is where the people under it sit."""
    block = (
        "For more information:\n\n  • WFP\n  • Pat Exemple, WFP/Dakar Mob. +221 77 123 45 67\n"
        "  • - Geneva\n  • Awa Exemple, +41 79 123 45 67,"
    )
    people = extract_contacts(block, LOOKUP)
    assert [p.name for p in people] == ["Pat Exemple", "Awa Exemple"]
    assert people[1].office == "Geneva"


def test_a_role_after_the_details_a_hidden_address_and_a_sentence_above_the_people() -> None:
    """As real American releases print them: a sentence before the people is nobody; a web
    page's "[email protected]" hides an address (read as none, not as a name); the role
    printed after the number is still that person's."""
    block = (
        "Press contacts\n\nTo arrange an interview with a spokesperson or for any other media"
        " enquiries, contact our press officers.\n\nPat Exemple\n[email protected] |"
        " +1 (202) 555-0143\nDirector of Communications\n\nAwa Exemple\n[email protected] |"
        " +1 (202) 555-0144\nChief of Development"
    )
    people = extract_contacts(block, LOOKUP)
    assert [(p.name, p.role, p.emails) for p in people] == [
        ("Pat Exemple", "Director of Communications", []),
        ("Awa Exemple", "Chief of Development", []),
    ]
    assert [len(p.phones) for p in people] == [1, 1]


def test_a_city_prefix_with_its_state() -> None:
    """ "In Washington, D.C.: …" names the city, state and all, before the people there."""
    people = extract_contacts(
        "For more information, please contact:\n\nIn Washington, D.C.: Pat Exemple,"
        " Press Officer: pat@example.org, +1 202 555 0143",
        LOOKUP,
    )
    assert [(p.name, p.office) for p in people] == [("Pat Exemple", "Washington, D.C.")]


@pytest.mark.parametrize(
    ("block", "role", "office"),
    [
        ("Contacts:\nPat Exemple, ICRC Geneva, tel: +41 79 123 45 67", "", "ICRC Geneva"),
        ("Contacts:\nPat Exemple, OCHA-Dakar, +221 77 123 45 67", "", "OCHA-Dakar"),
        (
            "Contacts:\nPat Exemple, Spokesperson OCHA Syria, +41 79 123 45 67",
            "Spokesperson",
            "OCHA Syria",
        ),
        (
            "Press contacts\n\nPat Exemple\nPress Officer, PR & Branding\nBoston, MA\n"
            "Office: (617) 555-0143",
            "Press Officer, PR & Branding",
            "Boston, MA",
        ),
        ("Contacts:\nPat Exemple, Press Officer,Direct: +44 20 7946 0958", "Press Officer", ""),
    ],
    ids=["org-city", "org-dash-city", "role-then-org-country", "city-and-state", "trailing-label"],
)
def test_an_organisations_office_is_no_role(block: str, role: str, office: str) -> None:
    """ "ICRC Geneva", "OCHA-Dakar", "OCHA Syria", "Boston, MA" say where someone sits, not
    what they do; a phone label left after the role is dropped."""
    (person,) = extract_contacts(block, LOOKUP)
    assert (person.name, person.role, person.office) == ("Pat Exemple", role, office)


def test_the_languages_in_brackets_after_a_name_are_not_a_role() -> None:
    """A real ICRC block: "Crystal Wells (English), …", "(English and French)"; a bracket
    that is not languages ("(UN)") stays where it was read."""
    people = extract_contacts(
        "For more information, please contact:\n\n"
        "Crystal Wells (English), cwells@example.org or +41 79 642 80 56\n\n"
        "Ewan Watson (English and French), ewatson@example.org, +41 79 244 64 70\n\n"
        "Anna Berg (EN/FR), Press Officer, aberg@example.org",
        LOOKUP,
    )
    assert [(p.name, p.role) for p in people] == [
        ("Crystal Wells", ""),
        ("Ewan Watson", ""),
        ("Anna Berg", "Press Officer"),
    ]
