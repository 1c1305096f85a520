"""Contact cards: vCard 3.0 by default, 4.0 on request, WhatsApp marked as WhatsApp does it,
folded and escaped per the RFCs, and read back to the same contacts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import vobject

from civic_contacts.registry.vcard import escape, fold, split_name


@pytest.fixture
def loaded(cli, data_dir: Path):
    cli("office", "import", str(data_dir / "offices.csv"))
    cli("contact", "import", str(data_dir / "contacts.csv"))
    return cli


def phones_of(cli) -> list:
    return [
        (
            c["email"],
            c["name"],
            c["role"],
            c["languages"],
            c["rank"],
            [(p["e164"], p["whatsapp"], p["extension"]) for p in c["phone_numbers"] if p["valid"]],
        )
        for c in json.loads(cli("contact", "list", "--json").stdout)
    ]


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_export_then_import_gives_the_same_contacts(loaded, tmp_path: Path, version: str) -> None:
    """A card file exported and imported into an empty registry gives the same contacts."""
    before = phones_of(loaded)
    out = tmp_path / "contacts.vcf"
    loaded("contact", "export", "--format", "vcf", "--vcard-version", version, "--output", str(out))
    cards = list(vobject.readComponents(out.read_text(encoding="utf-8")))
    assert len(cards) == 6
    for email, *_ in before:
        loaded("contact", "remove", email, "--yes")
    loaded("contact", "import", str(out))
    assert phones_of(loaded) == before
    mariam = json.loads(loaded("contact", "show", "mdiallo@example.org", "--json").stdout)
    assert (mariam["role"], mariam["roles"]) == (
        "Press Officer for the Sahel",
        {"fr": "Chargée de presse pour le Sahel"},
    )


def test_whatsapp_number_is_marked_like_whatsapp_cards(loaded, tmp_path: Path) -> None:
    """A WhatsApp number has TYPE=CELL;TYPE=VOICE;waid=<digits> and a wa.me URL, CRLF lines."""
    out = tmp_path / "c.vcf"
    loaded("contact", "export", "--format", "vcf", "--output", str(out))
    text = out.read_bytes().decode("utf-8")
    assert "TEL;TYPE=CELL;TYPE=VOICE;waid=12025550147:+12025550147\r\n" in text
    # The link Apple's and Google's address books show as a labelled field.
    assert "item1.URL:https://wa.me/12025550147\r\nitem1.X-ABLabel:WhatsApp\r\n" in text
    assert "VERSION:3.0\r\n" in text


def test_cards_dial_extensions_and_type_office_lines(loaded, tmp_path: Path) -> None:
    """An extension follows the number after a dialling pause, never as text; an office line
    is WORK, a mobile CELL; the card passes a strict vCard 3.0 validator but for `waid`."""
    out = tmp_path / "c.vcf"
    loaded("contact", "export", "--format", "vcf", "--output", str(out))
    text = out.read_bytes().decode("utf-8")
    # The pause's comma is escaped, as a 3.0 value's comma must be: read back, `+…,215`.
    assert "TEL;TYPE=WORK;TYPE=VOICE:+22720201234\\,215\r\n" in text
    tel = next(
        t for c in vobject.readComponents(text) for t in c.contents["tel"] if "215" in t.value
    )
    assert tel.value == "+22720201234,215"
    assert "ext." not in text
    tels = [line for line in text.split("\r\n") if line.startswith("TEL")]
    assert tels and all(("TYPE=WORK" in t) != ("TYPE=CELL" in t) for t in tels)
    # The validator (the `vcard` package) knows neither documented extension: WhatsApp's
    # `waid` and Apple's grouped `itemN.` link and label. With them taken out nothing is left
    # for it to object to (the escaped pause included); on the whole card, nothing else is.
    data = out.read_bytes()
    plain = tmp_path / "plain.vcf"
    stripped = re.sub(rb";waid=\d+", b"", data)
    plain.write_bytes(re.sub(rb"item\d+\.[^\r]*\r\n", b"", stripped))
    validator = Path(sys.executable).parent / "vcard"
    checked = subprocess.run([str(validator), str(plain)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    whole = subprocess.run([str(validator), str(out)], capture_output=True, text=True)
    assert whole.returncode != 0  # the validator does look
    complaints = [line for line in whole.stdout.splitlines() if "(See RFC" in line]
    assert complaints
    for complaint in complaints:
        assert any(known in complaint for known in ("WAID", "Group mismatch")), complaint


def test_cards_parse_with_vobject_and_keep_accents(loaded) -> None:
    """Every exported card parses with vobject, UTF-8 names intact."""
    text = loaded("contact", "export", "--format", "vcf").stdout
    names = [card.fn.value for card in vobject.readComponents(text)]
    assert "Aïssata Traoré" in names and "Ousmane Kountché-Abdou" in names


def test_lines_fold_at_75_octets_without_splitting_characters() -> None:
    """Long lines fold at 75 octets and every folded piece is valid UTF-8."""
    line = "TITLE:" + "Chargée de la communication à Niamey — " * 5
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece.encode("utf-8")) <= 75
        piece.encode("utf-8").decode("utf-8")
    assert "".join(p[1:] if i else p for i, p in enumerate(pieces)) == line


def test_escaping() -> None:
    """Commas, semicolons, backslashes and newlines are escaped."""
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_family_name_particles() -> None:
    """ "Pieter de Vries" files under "de Vries"."""
    assert split_name("Pieter de Vries") == ("de Vries", "Pieter")
    assert split_name("Mariam Diallo") == ("Diallo", "Mariam")


def test_foreign_card_needs_an_office(loaded, tmp_path: Path) -> None:
    """A card from elsewhere imports into the office given with --office."""
    card = tmp_path / "one.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Awa Sy\r\nEMAIL:awa.sy@example.org\r\n"
        "TEL;VALUE=uri;TYPE=cell;waid=22793123456:tel:+227-93-12-34-56\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    result = loaded("contact", "import", str(card), expect=2)
    assert "one.vcf card 1, X-CIVIC-OFFICE: no office (pass --office)" in result.stderr
    loaded("contact", "import", str(card), "--office", "niamey")
    data = json.loads(loaded("contact", "show", "awa.sy@example.org", "--json").stdout)
    assert data["languages"] == ["fr", "en"]
    assert [(p["e164"], p["whatsapp"]) for p in data["phone_numbers"]] == [("+22793123456", True)]


def test_not_a_vcard(loaded, tmp_path: Path) -> None:
    """A .vcf file without cards is a clear error."""
    path = tmp_path / "x.vcf"
    path.write_text("hello\n", encoding="utf-8")
    assert "no BEGIN:VCARD" in loaded("contact", "import", str(path), expect=2).stderr


def test_journalists_from_vcard(cli, data_dir: Path, tmp_path: Path) -> None:
    """Journalists import from cards: outlet by ORG name or --outlet, numbers read with its country."""
    cli("office", "import", str(data_dir / "offices.csv"))
    cli("outlet", "import", str(data_dir / "outlets.csv"))
    cards = tmp_path / "press.vcf"
    cards.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Awa Sy\r\nORG:Ouaga Matin;Desk\r\nTITLE:Reporter\r\n"
        "EMAIL:awa.sy@example.com\r\nTEL;TYPE=CELL:70 12 34 56\r\nURL:https://wa.me/22670123456\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Tom Hughes\r\nEMAIL:tom.hughes@example.org\r\nLANG:en\r\n"
        "TEL;VALUE=uri:tel:+44-7400-123456\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    result = cli("journalist", "import", str(cards), expect=2)
    assert "press.vcf card 2, ORG: no known outlet" in result.stderr
    cli("journalist", "import", str(cards), "--outlet", "world-desk-london")
    people = {j["email"]: j for j in json.loads(cli("journalist", "list", "--json").stdout)}
    assert people["awa.sy@example.com"]["outlet"] == "ouaga-matin"
    assert people["awa.sy@example.com"]["phones"] == ["+226 70 12 34 56 (mobile, WhatsApp)"]
    assert (
        people["tom.hughes@example.org"]["outlet"],
        people["tom.hughes@example.org"]["language"],
    ) == ("world-desk-london", "en")
    assert (
        "0 created, 0 updated, 2 unchanged"
        in cli("journalist", "import", str(cards), "--outlet", "world-desk-london").stderr
    )


def test_a_shared_number_is_whatsapp_for_every_contact_who_has_it(loaded, db_url: str) -> None:
    """Mariam Diallo's mobile is the number Ousmane Kountché-Abdou lists as WhatsApp: messages
    and cards show it as WhatsApp for both, not for one of them only."""
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.deliver.recipients import ContactBook

    shared = "+22793123456"
    records = {c["email"]: c for c in json.loads(loaded("contact", "list", "--json").stdout)}
    flags = {
        email: [p["whatsapp"] for p in c["phone_numbers"] if p["e164"] == shared]
        for email, c in records.items()
    }
    assert flags["mdiallo@example.org"] == [False] and flags["okountche@example.org"] == [True]
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        book = ContactBook(session, "Press Office")
    engine.dispose()
    for email in ("mdiallo@example.org", "okountche@example.org"):
        contact_id = next(i for name, i in book.names.items() if book.view(i, "en").email == email)
        (phone,) = [
            p for p in book.view(contact_id, "fr").phones if p.tel.startswith("tel:+227-93")
        ]
        assert phone.whatsapp_url == "https://wa.me/22793123456", email
        assert f"waid=22793123456:{shared}" in book.card(contact_id, "fr"), email
