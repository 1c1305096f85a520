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


OUTLOOK = (
    "First Name,Middle Name,Last Name,Title,Suffix,Company,Department,Job Title,"
    "Business Street,Business City,Business Phone,Business Phone 2,Mobile Phone,Home Phone,"
    "E-mail Address,E-mail Type,E-mail Display Name,E-mail 2 Address,Notes\n"
    "Moussa,,Example,,,Agence Sahel Presse,Rédaction,Reporter,Rue 12,Bamako,"
    "+223 20 22 33 44,,+223 65 11 22 33,,moussa.example@example.com,SMTP,"
    "Moussa Example (moussa.example@example.com),moussa.perso@example.net,met at the forum\n"
    "Jane,Q,Example,,,Unknown Daily,,Editor,,,,,,,jane.q@example.org,SMTP,,,\n"
)
GOOGLE_CSV = (
    "Name,Given Name,Family Name,Organization 1 - Name,Organization 1 - Title,"
    "E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,"
    "Phone 2 - Value,Group Membership\n"
    "Mariama Example,Mariama,Example,Agence Sahel Presse,Desk Sahel,* Work,"
    "mariama.example@example.com ::: mariama@example.net,Mobile,+227 93 44 55 66,WhatsApp,"
    "+227 93 44 55 66,* myContacts\n"
)


def test_outlook_and_google_csv_exports_import_as_journalists(demo, tmp_path: Path) -> None:
    """Outlook's and Google's CSV exports import with their own columns: the name, the first
    address, the job title, the numbers labelled by column or type, the company naming the
    outlet; a company no outlet is named after is one line naming the row (or goes to
    --outlet); every other column is passed over."""
    outlook = tmp_path / "outlook.csv"
    outlook.write_text(OUTLOOK, encoding="utf-8")
    refused = demo("journalist", "import", str(outlook), expect=2)
    assert 'outlook.csv row 3, outlet: no outlet named "Unknown Daily" (pass --outlet)' in (
        " ".join(refused.stderr.split())
    )
    demo("journalist", "import", str(outlook), "--outlet", "world-desk-london")
    google = tmp_path / "google.csv"
    google.write_text(GOOGLE_CSV, encoding="utf-8")
    demo("journalist", "import", str(google))
    people = {j["email"]: j for j in json.loads(demo("journalist", "list", "--json").stdout)}
    moussa = people["moussa.example@example.com"]
    assert (moussa["name"], moussa["outlet"], moussa["role"]) == (
        "Moussa Example",
        "agence-sahel-presse",
        "Reporter",
    )
    assert moussa["phones"] == ["+223 65 11 22 33 (mobile)", "+223 20 22 33 44 (office)"]
    assert people["jane.q@example.org"]["outlet"] == "world-desk-london"
    mariama = people["mariama.example@example.com"]
    assert (mariama["name"], mariama["role"]) == ("Mariama Example", "Desk Sahel")
    assert mariama["phones"] == ["+227 93 44 55 66 (mobile, WhatsApp)"]
