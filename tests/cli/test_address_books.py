"""Address books as Google Contacts and Apple Contacts export them (issue 37): labelled
numbers in grouped lines, work addresses before home ones, photos and profiles ignored."""

from __future__ import annotations

import json
from pathlib import Path

GOOGLE = """BEGIN:VCARD
VERSION:3.0
FN:Aïchatou Example
N:Example;Aïchatou;;;
ORG:Agence Sahel Presse
TITLE:Correspondante
EMAIL;TYPE=INTERNET;TYPE=HOME:aichatou.home@example.net
EMAIL;TYPE=INTERNET;TYPE=WORK:aichatou@example.com
TEL;TYPE=CELL:+227 93 12 34 56
item1.TEL:+227 93 12 34 56
item1.X-ABLabel:WhatsApp
item2.TEL:+227 20 72 00 00
item2.X-ABLabel:_$!<Work>!$_
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD
X-SOCIALPROFILE;type=twitter:http://twitter.com/example
CATEGORIES:myContacts,press
NOTE:met in Niamey
END:VCARD
"""


def test_a_google_contacts_export_keeps_the_whatsapp_label_and_the_work_address(
    demo, tmp_path: Path
) -> None:
    """`item1.TEL` labelled WhatsApp by `item1.X-ABLabel` is one number, mobile and
    WhatsApp (not the same number twice); the work address is the journalist's; ORG names
    the outlet; a broken photo, a social profile and categories change nothing and say
    nothing."""
    card = tmp_path / "google.vcf"
    card.write_text(GOOGLE.replace("\n", "\r\n"), encoding="utf-8")
    result = demo("journalist", "import", str(card))
    assert "1 created" in result.stderr and "warning" not in result.stderr.lower()
    [person] = [
        j
        for j in json.loads(demo("journalist", "list", "--json").stdout)
        if j["name"] == "Aïchatou Example"
    ]
    assert person["email"] == "aichatou@example.com"
    assert person["outlet"] == "agence-sahel-presse" and person["role"] == "Correspondante"
    assert person["phones"] == ["+227 93 12 34 56 (mobile, WhatsApp)", "+227 20 72 00 00 (office)"]


def test_a_utf8_file_read_as_cp1252_is_refused(demo, tmp_path: Path) -> None:
    """`--encoding cp1252` on a file that is UTF-8 says so, exit 2, and imports nothing
    (it stored "AÃ¯chatou"); the same file saved as cp1252 imports with the option."""
    text = "outlet,name,email\nagence-sahel-presse,Aïchatou Y,aichatou.y@example.com\n"
    utf8 = tmp_path / "utf8.csv"
    utf8.write_text(text, encoding="utf-8")
    refused = demo("journalist", "import", str(utf8), "--encoding", "cp1252", expect=2)
    assert "utf8.csv: the file is UTF-8, not cp1252" in refused.stderr
    assert "aichatou.y@example.com" not in demo("journalist", "list", "--json").stdout
    windows = tmp_path / "windows.csv"
    windows.write_bytes(text.encode("cp1252"))
    demo("journalist", "import", str(windows), "--encoding", "cp1252")
    names = [j["name"] for j in json.loads(demo("journalist", "list", "--json").stdout)]
    assert "Aïchatou Y" in names


def test_a_vcard_2_1_with_quoted_printable_values_reads_whole(demo, tmp_path: Path) -> None:
    """Old phones export vCard 2.1 with quoted-printable values broken over lines (a soft
    line break "="): the name and the title read whole, without a word of warning."""
    card = tmp_path / "old.vcf"
    card.write_bytes(
        b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
        b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Example;A=C3=AFchatou\r\n"
        b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:A=C3=AFchatou Z Example\r\n"
        b"ORG:Agence Sahel Presse\r\nTEL;CELL;PREF:+227 93 12 34 57\r\n"
        b"EMAIL;WORK;INTERNET:aichatou.z@example.com\r\n"
        b"TITLE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Correspondante =\r\n"
        b"r=C3=A9gionale\r\nEND:VCARD\r\n"
    )
    result = demo("journalist", "import", str(card))
    assert "1 created" in result.stderr and "ERROR" not in result.stderr
    [person] = [
        j
        for j in json.loads(demo("journalist", "list", "--json").stdout)
        if j["email"] == "aichatou.z@example.com"
    ]
    assert (person["name"], person["role"]) == ("Aïchatou Z Example", "Correspondante régionale")
