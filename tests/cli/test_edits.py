"""No silent loss in the registry: `add` never overwrites a record that exists, `edit` and
`add --update` change only the fields given, `--clear` empties one field on purpose."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def listed(demo):
    def journalist(email: str) -> dict:
        return next(
            j
            for j in json.loads(demo("journalist", "list", "--json").stdout)
            if j["email"] == email
        )

    return journalist


def test_adding_an_existing_journalist_refuses_and_loses_nothing(demo, listed) -> None:
    """The week's trap: `journalist add` for a journalist who exists printed "updated" and
    erased the role and every phone. Now it refuses, naming `edit`; `--update` changes the
    name alone; `edit` changes one field; `--clear` empties one."""
    email = "adama.kone@example.com"
    before = listed(email)
    assert before["role"] and before["phones"]
    refused = demo(
        "journalist",
        "add",
        "--outlet",
        before["outlet"],
        "--name",
        "A. Koné",
        "--email",
        email,
        expect=2,
    )
    assert f"journalist {email} exists" in refused.stderr
    assert f"journalist edit {email}" in refused.stderr
    assert listed(email) == before
    updated = demo(
        "journalist",
        "add",
        "--outlet",
        before["outlet"],
        "--name",
        "A. Koné",
        "--email",
        email,
        "--update",
    )
    assert "name: Adama Koné → A. Koné" in updated.stderr
    after = listed(email)
    assert (after["name"], after["role"], after["phones"]) == (
        "A. Koné",
        before["role"],
        before["phones"],
    )
    edited = demo("journalist", "edit", email, "--role", "Chef du desk Sahel")
    assert f"role: {before['role']} → Chef du desk Sahel" in edited.stderr
    assert listed(email)["phones"] == before["phones"]
    assert "unchanged" in demo("journalist", "edit", email, "--role", "Chef du desk Sahel").stderr
    demo("journalist", "edit", email, "--clear", "phones")
    assert listed(email)["phones"] == [] and listed(email)["role"] == "Chef du desk Sahel"


def test_edit_refuses_what_it_cannot_do(demo) -> None:
    """Nothing to change, a field that cannot be emptied, an unknown journalist: one line
    each, exit 2."""
    email = "adama.kone@example.com"
    assert "nothing to change" in demo("journalist", "edit", email, expect=2).stderr
    assert (
        "--clear outlet: not a field"
        in demo("journalist", "edit", email, "--clear", "outlet", expect=2).stderr
    )
    assert (
        'no journalist "nobody@example.com"'
        in demo("journalist", "edit", "nobody@example.com", "--role", "x", expect=2).stderr
    )


def test_adding_an_existing_contact_keeps_its_rank(demo) -> None:
    """`contact add` for an existing spokesperson reset the rank to 100, which changed who is
    routed. Now it refuses; `--update` without --rank keeps it; `edit --rank` changes it."""
    contacts = {c["email"]: c for c in json.loads(demo("contact", "list", "--json").stdout)}
    email, contact = next((e, c) for e, c in contacts.items() if c["rank"] != 100)
    args = [
        "contact",
        "add",
        "--name",
        contact["name"],
        "--office",
        contact["office"],
        "--email",
        email,
        "--language",
        ";".join(contact["languages"]),
    ]
    assert f"contact {email} exists" in demo(*args, expect=2).stderr
    demo(*args, "--update", "--role", "Porte-parole principal")
    after = {c["email"]: c for c in json.loads(demo("contact", "list", "--json").stdout)}[email]
    assert after["rank"] == contact["rank"] and after["role"] == "Porte-parole principal"
    assert after["phones"] == contact["phones"]
    moved = demo("contact", "edit", email, "--rank", "7")
    assert f"rank: {contact['rank']} → 7" in moved.stderr


def test_outlets_are_edited_field_by_field(demo) -> None:
    """`outlet add` for an outlet that exists refuses; `outlet edit` changes one field and
    keeps the languages and tags; `--clear tags` empties them."""
    outlet = json.loads(demo("outlet", "list", "--json").stdout)[0]
    refused = demo(
        "outlet",
        "add",
        "--slug",
        outlet["slug"],
        "--name",
        "X",
        "--country",
        outlet["country"],
        "--timezone",
        outlet["timezone"],
        "--language",
        "en",
        expect=2,
    )
    assert f"outlet {outlet['slug']} exists" in refused.stderr
    demo("outlet", "edit", outlet["slug"], "--name", "Renamed")
    after = json.loads(demo("outlet", "list", "--json").stdout)[0]
    assert after == {**outlet, "name": "Renamed"}
    demo("outlet", "edit", outlet["slug"], "--clear", "tags")
    assert json.loads(demo("outlet", "list", "--json").stdout)[0]["tags"] == []


def test_suppressed_and_opted_out_journalists_show_and_stay_off_the_list(demo, tmp_path) -> None:
    """`journalist list` and its JSON say suppressed and opted out; the export carries a
    status column, and importing it into another registry keeps both (an import never
    clears them)."""
    people = json.loads(demo("journalist", "list", "--json").stdout)
    gone, left = people[0]["email"], people[1]["email"]
    demo("suppress", "add", gone)
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.registry.models import Journalist

    engine = make_engine(demo.db_url)
    with session_factory(engine)() as session, session.begin():
        session.query(Journalist).filter(Journalist.email == left).update({"opted_out": True})
    engine.dispose()
    listed = {j["email"]: j for j in json.loads(demo("journalist", "list", "--json").stdout)}
    assert (listed[gone]["suppressed"], listed[gone]["status"]) == (True, ["suppressed"])
    assert (listed[left]["opted_out"], listed[left]["status"]) == (True, ["opted-out"])
    assert "suppressed" in demo("journalist", "list").stdout
    exported = tmp_path / "journalists.csv"
    demo("journalist", "export", "--output", str(exported))
    text = exported.read_text(encoding="utf-8")
    assert text.splitlines()[0].endswith(",status")
    # Another registry (a file of its own): the outlets, then the exported journalists.
    from tests.conftest import Cli

    cli = Cli(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert json.loads(cli("suppress", "list", "--json").stdout) == []
    outlets = tmp_path / "outlets.csv"
    demo("outlet", "export", "--output", str(outlets))
    cli("outlet", "import", str(outlets))
    cli("journalist", "import", str(exported))
    assert [s["email"] for s in json.loads(cli("suppress", "list", "--json").stdout)] == [gone]
    again = {j["email"]: j for j in json.loads(cli("journalist", "list", "--json").stdout)}
    assert again[left]["opted_out"] and again[gone]["suppressed"]
    assert not any(j["status"] for e, j in again.items() if e not in (gone, left))


def test_an_import_leaves_alone_what_its_file_does_not_say(demo, listed, tmp_path) -> None:
    """A file without the role and phones columns changes the names it gives and nothing
    else; an empty cell leaves the field unless --blank-clears; --dry-run says each field
    that would change (before → after) and changes nothing."""
    email = "adama.kone@example.com"
    before = listed(email)
    partial = tmp_path / "partial.csv"
    partial.write_text(f"outlet,name,email\n{before['outlet']},A. Koné,{email}\n", encoding="utf-8")
    dry = demo("journalist", "import", str(partial), "--dry-run")
    said = " ".join(dry.stderr.split())
    assert "dry run of partial.csv, nothing changed: journalists: 0 created, 1 updated" in said
    assert f"{email}: name: Adama Koné → A. Koné" in said
    assert listed(email) == before
    demo("journalist", "import", str(partial))
    after = listed(email)
    assert (after["name"], after["role"], after["phones"]) == (
        "A. Koné",
        before["role"],
        before["phones"],
    )
    blank = tmp_path / "blank.csv"
    blank.write_text(
        f"outlet,name,email,role,phones\n{before['outlet']},A. Koné,{email},,\n", encoding="utf-8"
    )
    assert "0 updated, 1 unchanged" in demo("journalist", "import", str(blank)).stderr
    cleared_run = demo("journalist", "import", str(blank), "--blank-clears", "--dry-run")
    assert f"{email}: role: {before['role']} → (empty)" in cleared_run.stderr
    demo("journalist", "import", str(blank), "--blank-clears")
    assert (listed(email)["role"], listed(email)["phones"]) == ("", [])


def test_a_contacts_file_with_an_empty_rank_keeps_the_rank(demo, tmp_path) -> None:
    """An empty rank cell no longer resets a spokesperson to 100 (which changed routing)."""
    contacts = json.loads(demo("contact", "list", "--json").stdout)
    contact = next(c for c in contacts if c["rank"] != 100)
    path = tmp_path / "contacts.csv"
    path.write_text(
        "name,office,role,languages,email,phones,rank\n"
        f"{contact['name']},{contact['office']},,{';'.join(contact['languages'])},"
        f"{contact['email']},,\n",
        encoding="utf-8",
    )
    demo("contact", "import", str(path))
    after = next(
        c
        for c in json.loads(demo("contact", "list", "--json").stdout)
        if c["email"] == contact["email"]
    )
    assert (after["rank"], after["role"], after["phones"]) == (
        contact["rank"],
        contact["role"],
        contact["phones"],
    )


def test_a_card_without_a_phone_or_title_keeps_them(demo, listed, tmp_path) -> None:
    """A vCard says a name and an address only: the journalist's role and phones stay."""
    email = "adama.kone@example.com"
    before = listed(email)
    card = tmp_path / "adama.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Adama Koné\r\n"
        f"EMAIL:{email}\r\nX-CIVIC-OUTLET:{before['outlet']}\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    said = demo("journalist", "import", str(card))
    assert "0 updated, 1 unchanged" in said.stderr
    assert listed(email) == before
