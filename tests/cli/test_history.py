"""The history of the registry: every change with when, by whom and the command, the fields
before and after; an import as one entry that `import undo` takes back while nothing it
touched has changed since."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def officer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    config = tmp_path / "config.toml"
    config.write_text('officer = "Aïcha Officer"\n', encoding="utf-8")
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    return "Aïcha Officer"


def entries(cli, *args: str) -> list[dict]:
    return json.loads(cli("history", *args, "--json").stdout)


def test_edits_and_suppressions_are_recorded_with_who_and_what(demo, officer) -> None:
    """An edit records the officer named in the config, the command and each field before and
    after; a suppression and its removal too; `journalist show` lists the last changes."""
    email = "adama.kone@example.com"
    demo("journalist", "edit", email, "--role", "Chef du desk Sahel")
    demo("suppress", "add", email, "--reason", "asked by phone")
    demo("suppress", "remove", email)
    mine = entries(demo, "journalist", email)
    assert mine[0]["by"] == officer
    assert mine[0]["command"] == f"civic-contacts journalist edit {email} --role Chef du desk Sahel"
    assert mine[0]["fields"] == {"role": ["Rédacteur en chef", "Chef du desk Sahel"]}
    suppressions = entries(demo, "suppression", email)
    assert [e["action"] for e in suppressions] == ["unsuppressed", "suppressed"]
    shown = demo("journalist", "show", email).stdout
    assert "role:      Chef du desk Sahel" in shown
    assert "Rédacteur en chef → Chef du desk Sahel" in shown and "suppressed" in shown
    everything = entries(demo)
    assert [e["kind"] for e in everything[:3]] == ["suppression", "suppression", "journalist"]


def test_an_import_is_one_entry_that_undo_takes_back(demo, officer, tmp_path: Path) -> None:
    """An import is one entry with its counts; `import undo` removes who it added and gives
    back the fields it changed; undoing twice, or an import something changed since, is
    refused with nothing changed."""
    listed = {j["email"]: j for j in json.loads(demo("journalist", "list", "--json").stdout)}
    email = "adama.kone@example.com"
    outlet = listed[email]["outlet"]
    path = tmp_path / "week.csv"
    path.write_text(
        f"outlet,name,email,role\n{outlet},A. Koné,{email},Chef\n{outlet},New Person,new.person@example.com,\n",
        encoding="utf-8",
    )
    demo("journalist", "import", str(path))
    [entry] = [e for e in entries(demo, "import") if e["fields"].get("file") == "week.csv"]
    assert entry["fields"] == {"file": "week.csv", "created": 1, "updated": 1, "unchanged": 0}
    assert entry["by"] == officer
    assert any(e["id"] == entry["id"] for e in entries(demo, "journalist", email))
    undone = demo("import", "undo", str(entry["id"]))
    assert f"import {entry['id']} (journalists from week.csv) undone: 2 change(s)" in undone.stderr
    after = {j["email"]: j for j in json.loads(demo("journalist", "list", "--json").stdout)}
    assert "new.person@example.com" not in after
    assert after[email] == listed[email]
    assert "undone already" in demo("import", "undo", str(entry["id"]), expect=2).stderr
    # The demo's own import of journalists: adama was changed since, so it stays.
    demo("journalist", "import", str(path))
    [again] = [
        e
        for e in entries(demo, "import")
        if e["fields"].get("file") == "week.csv" and e["id"] != entry["id"]
    ]
    demo("journalist", "edit", "new.person@example.com", "--role", "Stringer")
    refused = demo("import", "undo", str(again["id"]), expect=2)
    assert "new.person@example.com changed since" in refused.stderr
    assert "new.person@example.com" in {
        j["email"] for j in json.loads(demo("journalist", "list", "--json").stdout)
    }
    assert "no import with id 99999" in demo("import", "undo", "99999", expect=2).stderr


def test_undoing_a_contacts_import_gives_back_office_rank_and_numbers(demo, tmp_path: Path) -> None:
    """A contacts file that moved a spokesperson to another office, changed the rank and the
    numbers: undone, the office, the rank and the numbers (read with the office's country
    again, so still valid) are as they were."""
    before = {c["email"]: c for c in json.loads(demo("contact", "list", "--json").stdout)}
    contact = next(c for c in before.values() if c["office"] == "niamey" and c["phones"])
    other = next(c["office"] for c in before.values() if c["office"] != "niamey")
    path = tmp_path / "contacts.csv"
    path.write_text(
        "name,office,role,languages,email,phones,rank\n"
        f"{contact['name']},{other},Porte-parole,fr;en,{contact['email']},+31 6 12345678,7\n",
        encoding="utf-8",
    )
    demo("contact", "import", str(path))
    moved = {c["email"]: c for c in json.loads(demo("contact", "list", "--json").stdout)}
    assert moved[contact["email"]]["office"] == other
    [entry] = [e for e in entries(demo, "import") if e["fields"].get("file") == "contacts.csv"]
    demo("import", "undo", str(entry["id"]))
    after = {c["email"]: c for c in json.loads(demo("contact", "list", "--json").stdout)}
    assert after[contact["email"]] == contact


@pytest.mark.smtp
def test_a_journalist_can_have_everything_held_about_them(
    demo, smtp_server, tmp_path: Path
) -> None:
    """`journalist export-data` writes the record, its history, the messages sent (through a
    real SMTP server), what came back and the suppression, as JSON; an unknown address is
    one line, exit 2."""
    _sink, port = smtp_server
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]
    demo("batch", "send", "sahel-civilians", *smtp, "--limit", "3", "--yes")
    audit = json.loads(demo("batch", "audit", "sahel-civilians", "--json").stdout)
    email = next(r["email"] for r in audit if r["status"] == "sent")
    demo("journalist", "edit", email, "--role", "Desk Sahel")
    demo("suppress", "add", email, "--reason", "asked by phone")
    out = tmp_path / "data.json"
    demo("journalist", "export-data", email, "--output", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["journalist"]["email"] == email and data["journalist"]["role"] == "Desk Sahel"
    assert data["journalist"]["status"] == ["suppressed"]
    assert [d["status"] for d in data["deliveries"]] == ["sent"]
    assert data["deliveries"][0]["release"] == "sahel-civilians"
    assert {h["action"] for h in data["history"]} >= {"updated", "suppressed"}
    assert data["suppression"]["reason"] == "asked by phone"
    assert data["bounces"] == []
    assert (
        'no journalist "nobody@example.com"'
        in demo("journalist", "export-data", "nobody@example.com", expect=2).stderr
    )


@pytest.mark.smtp
def test_an_erased_journalist_leaves_only_a_keyed_hash_and_is_not_added_again(
    demo, smtp_server, tmp_path: Path, db_url: str
) -> None:
    """`journalist erase` after a send: the record goes, the address is nowhere in the
    database (deliveries, history, suppressions keep only a keyed hash); importing or adding
    the address again is refused with one line naming it."""
    _sink, port = smtp_server
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]
    demo("batch", "send", "sahel-civilians", *smtp, "--limit", "2", "--yes")
    audit = json.loads(demo("batch", "audit", "sahel-civilians", "--json").stdout)
    email = next(r["email"] for r in audit if r["status"] == "sent")
    listed = {j["email"]: j for j in json.loads(demo("journalist", "list", "--json").stdout)}
    person = listed[email]
    demo("journalist", "edit", email, "--role", "Desk Sahel")
    demo("suppress", "add", email)
    erased = demo("journalist", "erase", email, "--yes")
    assert f"erased {email}" in erased.stderr
    assert email not in demo("journalist", "list", "--json").stdout
    from sqlalchemy import text

    from civic_contacts.db import make_engine

    engine = make_engine(db_url)
    with engine.connect() as connection:
        for table, column in (
            ("deliveries", "email"),
            ("suppressions", "email"),
            ("changes", "key"),
            ("changes", "fields"),
            ("bounces", "email"),
        ):
            cast = "CAST(fields AS TEXT)" if column == "fields" else column
            found = connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE {cast} LIKE :a"), {"a": f"%{email}%"}
            ).scalar()
            assert found == 0, (table, column)
        marks = connection.execute(
            text("SELECT reason FROM suppressions WHERE email LIKE 'erased:%'")
        ).scalars()
        assert list(marks) == ["erased on request"]
    engine.dispose()
    again = tmp_path / "again.csv"
    again.write_text(
        f"outlet,name,email\n{person['outlet']},{person['name']},{email}\n", encoding="utf-8"
    )
    refused = demo("journalist", "import", str(again), expect=2)
    assert f"again.csv row 2, email: {email} was erased on request" in " ".join(
        refused.stderr.split()
    )
    added = demo(
        "journalist",
        "add",
        "--outlet",
        person["outlet"],
        "--name",
        "X",
        "--email",
        email,
        expect=2,
    )
    assert "was erased on request" in added.stderr


def test_contact_extract_import_is_recorded(demo, tmp_path: Path) -> None:
    """Merging a release's contact block into a known contact (--replace) is in the history,
    before and after."""
    release = tmp_path / "release.md"
    release.write_text(
        "Media contacts:\nIn Niamey: Mariam Diallo, Porte-parole, mdiallo@example.org\n",
        encoding="utf-8",
    )
    before = {c["email"]: c for c in json.loads(demo("contact", "list", "--json").stdout)}
    demo("contact", "extract", str(release), "--import", "--office", "niamey", "--replace")
    [entry] = entries(demo, "contact", "mdiallo@example.org")[:1]
    assert entry["fields"] == {"role": [before["mdiallo@example.org"]["role"], "Porte-parole"]}


def test_an_import_keeps_its_source_and_the_export_shows_it(demo, tmp_path: Path) -> None:
    """`journalist import --source` keeps where the list comes from, and the basis of
    holding it, with the import; `journalist export-data` names it for each journalist the
    import touched; `history import` shows it."""
    path = tmp_path / "agence.csv"
    path.write_text(
        "outlet,name,email\nagence-sahel-presse,Nouvelle Example,nouvelle@example.com\n",
        encoding="utf-8",
    )
    demo("journalist", "import", str(path), "--source", "Agence list 2026")
    data = json.loads(demo("journalist", "export-data", "nouvelle@example.com").stdout)
    assert [(s["file"], s["source"], s["basis"]) for s in data["sources"]] == [
        ("agence.csv", "Agence list 2026", "legitimate interest")
    ]
    assert "source: Agence list 2026" in demo("history", "import").stdout
