"""`batch build` on the demo data: every message well-formed, in the right language, with the
right people, and every guard holding."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from collections import Counter
from email import policy
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import icalendar
import pytest
import vobject
from sqlalchemy import select, update

from civic_contacts.db import make_engine
from civic_contacts.registry.models import Delivery
from tests.conftest import need


def messages(folder: Path) -> dict[str, EmailMessage]:
    found = {}
    for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        data = (folder / entry["path"]).read_bytes()
        found[entry["email"]] = email.message_from_bytes(data, policy=policy.default)
    return found


def part(msg: EmailMessage, content_type: str) -> EmailMessage:
    return next(p for p in msg.walk() if p.get_content_type() == content_type)


def test_every_demo_message_is_well_formed(demo, tmp_path: Path) -> None:
    """Each .eml parses without defects, has one recipient, and its card and calendar parse."""
    out = tmp_path / "out"
    built = messages(out)
    assert len(built) == 41
    for address, msg in built.items():
        assert all(not p.defects for p in msg.walk()), address
        assert msg.get_all("To") and len(msg.get_all("To")) == 1
        assert [a.addr_spec for a in msg["To"].addresses] == [address]
        assert msg["Cc"] is None and msg["Bcc"] is None
        assert msg["Message-ID"].endswith("@example.org>")
        assert msg["Reply-To"] is not None
        types = [p.get_content_type() for p in msg.walk()]
        assert types == [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "text/vcard",
            "text/calendar",
        ]
        cards = list(vobject.readComponents(part(msg, "text/vcard").get_content()))
        assert 1 <= len(cards) <= 2
        calendar = icalendar.Calendar.from_ical(part(msg, "text/calendar").get_content())
        assert str(calendar["METHOD"]) == "PUBLISH"
        # Each attachment is named on Content-Type too (older clients read only `name=`).
        for kind, name in (("text/vcard", "contacts.vcf"), ("text/calendar", "embargo.ics")):
            attachment = part(msg, kind)
            assert attachment.get_param("name") == name, (address, kind)
            assert attachment.get_filename() == name
        for p in msg.walk():
            assert p.get("Content-Transfer-Encoding", "7bit") in (
                "7bit",
                "quoted-printable",
                "base64",
            )


def test_no_line_is_too_long(demo, tmp_path: Path) -> None:
    """Header lines stay within 78 characters, but for the unsubscribe URIs, which cannot be
    folded; no line passes 998."""
    for path in (tmp_path / "out").glob("*/*.eml"):
        data = path.read_bytes()
        header, _sep, _body = data.partition(b"\r\n\r\n")
        foldable = [
            line
            for line in header.split(b"\r\n")
            if not line.startswith((b"List-Unsubscribe: <", b" <mailto:", b" <https:"))
        ]
        assert max(len(line) for line in foldable) <= 78, path
        assert max(len(line) for line in data.split(b"\r\n")) <= 998, path
        assert b"\n" not in data.replace(b"\r\n", b""), path


def test_french_outlet_gets_french_with_french_date(demo, tmp_path: Path) -> None:
    """A Sahel French outlet gets French text, a French date and Niamey's contacts with links."""
    msg = messages(tmp_path / "out")["adama.kone@example.com"]
    assert msg["Subject"].startswith("SOUS EMBARGO JUSQU'AU ")
    assert msg["Content-Language"] == "fr"
    text = part(msg, "text/plain").get_content()
    html = part(msg, "text/html").get_content()
    assert "Bonjour Adama Koné," in text
    banner = text.replace("\r\n", "\n").split("\n\n")[0]
    # The local time beside the GMT one; on its own line when the whole would pass 76.
    assert banner.endswith("(00 h 01 à Bamako)") and max(map(len, banner.split("\n"))) <= 76
    assert ("\n" in banner) == (len(banner) > 76)
    assert 'href="tel:+227-93-12-34-56"' in html
    assert 'href="https://wa.me/22793123456"' in html
    assert 'href="mailto:mdiallo@example.org"' in html
    assert msg["Reply-To"].addresses[0].addr_spec == "mdiallo@example.org"


def test_english_outlet_and_calendar(demo, tmp_path: Path) -> None:
    """An English outlet gets English and a calendar entry at the lift, published, transparent."""
    msg = messages(tmp_path / "out")["rebecca.stone@example.org"]
    assert msg["Subject"].startswith("EMBARGOED UNTIL 00:01 GMT, ")
    banner = part(msg, "text/plain").get_content().replace("\r\n", "\n").split("\n\n")[0]
    assert banner.endswith(" in New York)")
    cal_part = part(msg, "text/calendar")
    assert cal_part.get_param("charset") == "utf-8" and cal_part.get_param("method") == "PUBLISH"
    event = icalendar.Calendar.from_ical(cal_part.get_content()).walk("VEVENT")[0]
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute, start.utcoffset()) == (0, 1, dt.timedelta(0))
    assert event.decoded("DTEND") > start
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert str(event["UID"]) == "embargo-sahel-civilians@example.org"


def test_vcard_holds_the_routed_contacts_with_whatsapp(demo, tmp_path: Path) -> None:
    """The attached card holds the routed contacts, WhatsApp numbers marked."""
    msg = messages(tmp_path / "out")["oliver.bennett@example.org"]
    cards = list(vobject.readComponents(part(msg, "text/vcard").get_content()))
    assert [c.fn.value for c in cards] == ["Pieter de Vries", "Hannah Okafor-Lindqvist"]
    raw = part(msg, "text/vcard").get_content()
    assert "waid=12025550147" in raw


def test_manifest_lines(demo, tmp_path: Path) -> None:
    """The manifest has the promised keys, contacts in order, paths inside the outbox."""
    lines = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    for line in lines:
        assert {"outlet", "email", "language", "message_id", "path", "contacts"} <= set(line)
        assert (tmp_path / "out" / line["path"]).is_file()
    celine = next(x for x in lines if x["email"] == "celine.moreau@example.org")
    assert (celine["language"], celine["contacts"]) == (
        "fr",
        ["Pieter de Vries", "Julien Marchetti"],
    )


def test_rebuild_unchanged_is_harmless(demo, tmp_path: Path) -> None:
    """Building again gives the same bytes and records nothing new."""
    out = tmp_path / "out"
    before = {p: p.read_bytes() for p in out.glob("*/*.eml")}
    result = demo("batch", "build", "sahel-civilians", "--out", str(out))
    assert "(0 new, 0 re-rendered, 41 unchanged); 41 pending" in result.stderr
    assert {p: p.read_bytes() for p in out.glob("*/*.eml")} == before


def test_rebuild_after_a_partial_send_keeps_sent_and_rerenders_pending(
    demo, tmp_path: Path, db_url: str
) -> None:
    """After some messages went out, a registry change re-renders the pending messages it
    touches and never the sent ones: they keep the content and hash they were sent with."""
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            update(Delivery).where(Delivery.email == "adama.kone@example.com").values(status="sent")
        )
        sent_hash = connection.execute(
            select(Delivery.content_hash).where(Delivery.email == "adama.kone@example.com")
        ).scalar_one()
    demo("contact", "edit", "mdiallo@example.org", "--role", "Head of Communication")
    result = demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    assert "1 kept as sent" in result.stderr
    assert " 0 re-rendered" not in result.stderr
    with engine.begin() as connection:
        rows = {
            email: (status, content_hash)
            for email, status, content_hash in connection.execute(
                select(Delivery.email, Delivery.status, Delivery.content_hash)
            )
        }
    engine.dispose()
    assert rows["adama.kone@example.com"] == ("sent", sent_hash)
    assert sum(1 for status, _hash in rows.values() if status == "pending") == 40


def test_lifted_embargo_refused_then_relabelled(demo, tmp_path: Path) -> None:
    """A release past its embargo is refused, nothing written; --after-embargo relabels it."""
    release = tmp_path / "past.en.md"
    release.write_text(
        '+++\nslug = "past"\nlang = "en"\noffice = "the-hague"\nembargo = "2020-01-01T00:01:00Z"\n'
        'title = "Old news"\n+++\nBody.\n',
        encoding="utf-8",
    )
    demo("release", "add", str(release))
    out = tmp_path / "past-out"
    result = demo("batch", "build", "past", "--out", str(out), expect=2)
    assert result.stderr.startswith("error: the embargo of past lifted at 2020-01-01 00:01 UTC")
    assert not out.exists()
    result = demo("batch", "build", "past", "--out", str(out), "--after-embargo")
    assert "FOR IMMEDIATE RELEASE" in result.stderr
    msg = messages(out)["rebecca.stone@example.org"]
    assert msg["Subject"] == "FOR IMMEDIATE RELEASE: Old news"
    assert "text/calendar" not in [p.get_content_type() for p in msg.walk()]
    french = messages(out)["adama.kone@example.com"]
    assert part(french, "text/plain").get_content().startswith("FOR IMMEDIATE RELEASE")


def test_close_embargo_warns(demo, tmp_path: Path) -> None:
    """An embargo a few minutes away builds with a warning."""
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    release = tmp_path / "soon.en.md"
    release.write_text(
        f'+++\nslug = "soon"\nlang = "en"\noffice = "the-hague"\nembargo = "{soon}"\n'
        'title = "Soon"\n+++\nBody.\n',
        encoding="utf-8",
    )
    demo("release", "add", str(release))
    result = demo("batch", "build", "soon", "--out", str(tmp_path / "soon-out"))
    assert "warning: the embargo of soon lifts in" in result.stderr


def test_fallback_is_listed(demo, tmp_path: Path) -> None:
    """The Arabic outlet's fallback is listed in the summary and in preview.html."""
    result = demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    assert "hassan.abakar@example.net (sawt-al-batha): fallback" in result.stderr
    assert (
        "Fallback language: hassan.abakar@example.net"
        in (tmp_path / "out" / "preview.html").read_text()
    )


def test_suppressed_addresses_get_nothing(demo, tmp_path: Path) -> None:
    """A suppressed journalist gets no message and is named in the preview warnings."""
    demo("suppress", "add", "adama.kone@example.com")
    out = tmp_path / "again"
    result = demo("batch", "build", "sahel-civilians", "--out", str(out))
    assert "1 cancelled (no longer on the list)" in result.stderr
    assert "left out 1 suppressed" in result.stderr
    assert "adama.kone@example.com" not in messages(out)
    assert not list(out.glob("*/adama.kone*"))
    assert "adama.kone@example.com" in (out / "preview.html").read_text()


def test_data_that_looks_like_template_code(demo, tmp_path: Path) -> None:
    """A title or name with {{ … }} prints as written; markup in data is escaped in HTML."""
    release = tmp_path / "tpl.en.md"
    release.write_text(
        '+++\nslug = "tpl"\nlang = "en"\noffice = "the-hague"\nembargo = "none"\n'
        'title = "Budget {{ 7*7 }} <script>alert(1)</script>"\n+++\n'
        "Body with <b>raw html</b> and [a link](javascript:alert(1)) and {% raw %}.\n",
        encoding="utf-8",
    )
    demo("release", "add", str(release))
    demo(
        "journalist",
        "add",
        "--outlet",
        "world-desk-london",
        "--name",
        "{{ config }} <i>Eve</i>",
        "--email",
        "eve@example.org",
    )
    out = tmp_path / "tpl-out"
    demo("batch", "build", "tpl", "--out", str(out))
    msg = messages(out)["eve@example.org"]
    assert msg["Subject"] == "FOR IMMEDIATE RELEASE: Budget {{ 7*7 }} <script>alert(1)</script>"
    text = part(msg, "text/plain").get_content()
    html = part(msg, "text/html").get_content()
    assert "Dear {{ config }} <i>Eve</i>," in text and "Budget 49" not in text
    assert "Budget {{ 7*7 }}" in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<i>Eve</i>" not in html and "{{ config }} &lt;i&gt;Eve&lt;/i&gt;" in html
    assert "<b>raw html</b>" not in html and "javascript:" not in html.replace(
        "[a link](javascript:alert(1))", ""
    )


def test_own_templates_come_first(demo, tmp_path: Path) -> None:
    """--templates puts a user's subject template before the shipped one; others fall back."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "subject.en.txt").write_text("[Press] {{ title }}\n", encoding="utf-8")
    out = tmp_path / "own-out"
    demo("batch", "build", "sahel-civilians", "--out", str(out), "--templates", str(own))
    built = messages(out)
    assert built["rebecca.stone@example.org"]["Subject"].startswith("[Press] Sahel: civilians")
    assert built["adama.kone@example.com"]["Subject"].startswith("SOUS EMBARGO")


def test_broken_template_leaves_nothing(demo, tmp_path: Path) -> None:
    """A template naming an unknown value fails loudly; no outbox and no deliveries are left."""
    own = tmp_path / "bad"
    own.mkdir()
    (own / "subject.en.txt").write_text("{{ no_such_value }}\n", encoding="utf-8")
    release = tmp_path / "new.en.md"
    release.write_text(
        '+++\nslug = "new"\nlang = "en"\noffice = "the-hague"\nembargo = "none"\n'
        'title = "New"\n+++\nBody.\n',
        encoding="utf-8",
    )
    demo("release", "add", str(release))
    out = tmp_path / "bad-out"
    result = demo("batch", "build", "new", "--out", str(out), "--templates", str(own), expect=2)
    assert "template error" in result.stderr and "no_such_value" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".bad-out*"))
    # A template that does not parse is named, with its line.
    (own / "subject.en.txt").write_text("Release\n{{ title \n", encoding="utf-8")
    result = demo("batch", "build", "new", "--out", str(out), "--templates", str(own), expect=2)
    assert result.stderr.startswith(f"error: template error in {own / 'subject.en.txt'}, line 2:")
    assert not out.exists() and not list(tmp_path.glob(".bad-out*"))


def test_refuses_to_overwrite_a_folder_that_is_not_an_outbox(demo, tmp_path: Path) -> None:
    """An existing folder with other files is never overwritten."""
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.txt").write_text("precious", encoding="utf-8")
    result = demo("batch", "build", "sahel-civilians", "--out", str(other), expect=2)
    assert "was not made by civic-contacts; nothing was written" in result.stderr
    assert (other / "thesis.txt").read_text() == "precious"


def test_a_folder_is_replaced_only_when_the_tool_made_it(demo, tmp_path: Path) -> None:
    """A folder holding a `manifest.jsonl` of someone else's is not an outbox; an outbox into
    which a person put a file of their own is not replaced; the files are all kept."""
    lookalike = tmp_path / "source"
    (lookalike / "src").mkdir(parents=True)
    (lookalike / "manifest.jsonl").write_text('{"path": "src/main.c"}\n', encoding="utf-8")
    (lookalike / "src" / "main.c").write_text("int main;", encoding="utf-8")
    refused = demo("batch", "build", "sahel-civilians", "--out", str(lookalike), expect=2)
    assert "was not made by civic-contacts" in refused.stderr
    assert (lookalike / "src" / "main.c").read_text() == "int main;"
    out = tmp_path / "out"  # the demo's own outbox
    assert (out / ".civic-contacts-outbox").is_file()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    kept = demo("batch", "build", "sahel-civilians", "--out", str(out), expect=2)
    assert "holds files civic-contacts did not write (notes.txt)" in kept.stderr
    assert (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    demo("batch", "build", "sahel-civilians", "--out", str(out))


def test_a_build_removes_what_a_killed_build_left_beside_the_outbox(demo, tmp_path: Path) -> None:
    """Half-built and replaced copies left by a build that died are removed by the next build of
    the same outbox; a running build's copy and other outboxes' copies are left alone."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    dead, alive = finished.pid, os.getpid()
    names = {
        "dead_building": f".out.building-{dead}-k2j4",
        "dead_old": f".out.old-{dead}",
        "alive_building": f".out.building-{alive}-x9z1",
        "other_outbox": f".out2.building-{dead}-aa11",
        "not_ours": ".out.notes-1",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.eml").write_bytes(b"x")
        (tmp_path / name / ".civic-contacts-outbox").write_text("x")
    unmarked = tmp_path / f".out.building-{dead}-zz"  # the name of ours, but no marker: kept
    unmarked.mkdir()
    (unmarked / "a.txt").write_bytes(b"x")
    demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    left = {key for key, name in names.items() if (tmp_path / name).exists()}
    assert left == {"alive_building", "other_outbox", "not_ours"}
    assert (unmarked / "a.txt").exists()
    assert (tmp_path / "out" / "manifest.jsonl").exists()


@pytest.mark.slow
def test_build_shows_progress_on_a_terminal_and_nothing_when_piped(tmp_path: Path) -> None:
    """On a terminal `batch build` draws a progress bar up to every message; piped, it prints
    only its summary."""
    env = {
        **os.environ,
        "CIVIC_CONTACTS_DB": f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        "CIVIC_CONTACTS_CONFIG": str(tmp_path / "none.toml"),
        "COLUMNS": "120",
    }
    command = [sys.executable, "-m", "civic_contacts"]
    subprocess.run(
        [*command, "--db", env["CIVIC_CONTACTS_DB"], "demo", "--out", str(tmp_path / "demo")],
        env=env,
        check=True,
        capture_output=True,
    )
    total = len((tmp_path / "demo" / "manifest.jsonl").read_text(encoding="utf-8").splitlines())
    build = [*command, "batch", "build", "sahel-civilians"]

    main, side = pty.openpty()
    process = subprocess.Popen(
        [*build, "--out", str(tmp_path / "tty")], env=env, stdout=subprocess.DEVNULL, stderr=side
    )
    os.close(side)
    shown = b""
    with contextlib.suppress(OSError):  # the terminal closes when the build ends
        while chunk := os.read(main, 65536):
            shown += chunk
    os.close(main)
    assert process.wait() == 0
    screen = shown.decode("utf-8", "replace")
    assert "building" in screen and f"{total}/{total}" in screen

    piped = subprocess.run(
        [*build, "--out", str(tmp_path / "piped")], env=env, capture_output=True, text=True
    )
    assert piped.returncode == 0
    assert "building" not in piped.stderr and f"built {total} messages" in piped.stderr


# The lifecycle a press officer lives ----------------------------------------------------------


def smtp(port: int) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]


def audit(cli) -> dict[str, dict]:
    rows = json.loads(cli("batch", "audit", "sahel-civilians", "--json").stdout)
    return {r["email"]: r for r in rows}


def release_with(tmp_path: Path, cli, title: str) -> Path:
    """The demo release's English file with another title, its embargo as the registry has it."""
    shown = json.loads(cli("release", "show", "sahel-civilians", "--json").stdout)
    path = tmp_path / "edited.en.md"
    path.write_text(
        '+++\nslug = "sahel-civilians"\nlang = "en"\noffice = "the-hague"\n'
        f'concerns = ["ML", "NE", "BF"]\nembargo = "{shown["embargo"]}"\ntitle = "{title}"\n'
        "+++\nA corrected body.\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.smtp
def test_build_after_a_partial_send_adds_cancels_and_rerenders(
    demo, smtp_server, tmp_path: Path
) -> None:
    """Half sent, then the list changes: a new journalist gets a delivery, a suppressed one's
    pending delivery is cancelled and never sent, a journalist moved to an English outlet is
    rendered again in English, sent ones are kept; --dry-run says so and changes nothing."""
    sink, port = smtp_server
    demo("batch", "send", "sahel-civilians", *smtp(port), "--limit", "5", "--yes")
    before = audit(demo)
    sent = {e for e, r in before.items() if r["status"] == "sent"}
    pending = sorted(e for e, r in before.items() if r["status"] == "pending")
    assert len(sent) == 5 and len(pending) == 36
    french = [e for e in pending if before[e]["language"] == "fr"]
    moved, suppressed = french[0], french[1]
    demo("suppress", "add", suppressed)
    demo(
        "journalist",
        "add",
        "--outlet",
        "world-desk-london",
        "--name",
        "Moved Person",
        "--email",
        moved,
        "--update",
    )
    demo(
        "journalist",
        "add",
        "--outlet",
        "world-desk-london",
        "--name",
        "New Person",
        "--email",
        "new.person@example.org",
    )
    summary = "(1 new, 1 re-rendered, 34 unchanged, 1 cancelled (no longer on the list), 5 kept as sent); 36 pending"
    dry = demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"), "--dry-run")
    assert f"would build 41 messages for 15 outlets {summary}" in dry.stderr.replace("\n", " ")
    assert audit(demo) == before
    real = demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    assert summary in real.stderr.replace("\n", " ")
    after = audit(demo)
    assert after[suppressed]["status"] == "cancelled"
    assert after["new.person@example.org"]["status"] == "pending"
    assert (after[moved]["language"], after[moved]["outlet"]) == ("en", "world-desk-london")
    assert {e: after[e] for e in sent} == {e: before[e] for e in sent}
    demo("batch", "send", "sahel-civilians", *smtp(port), "--yes")
    received = Counter(m["to"] for m in sink.received)
    assert suppressed not in received and max(received.values()) == 1
    assert len(received) == 41 and received["new.person@example.org"] == 1
    status = json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout)
    assert (status["sent"], status["cancelled"], status["pending"]) == (41, 1, 0)


@pytest.mark.smtp
def test_a_release_edited_after_building_is_rebuilt_before_it_is_sent(
    demo, smtp_server, tmp_path: Path
) -> None:
    """Messages rendered from an older revision of the release are refused by `batch send`,
    with the command that gets out; `batch build` re-renders them and the send goes."""
    sink, port = smtp_server
    edited = release_with(tmp_path, demo, "Sahel: corrected figures")
    assert "revision 2" in demo("release", "update", str(edited)).stderr
    refused = demo("batch", "send", "sahel-civilians", *smtp(port), "--yes", expect=2)
    assert "rendered from an older revision" in refused.stderr
    assert "hint: run: civic-contacts batch build sahel-civilians --out DIR" in refused.stderr
    assert sink.received == []
    rebuilt = demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    assert "re-rendered" in rebuilt.stderr and "(0 new, 0 re-rendered" not in rebuilt.stderr
    demo("batch", "send", "sahel-civilians", *smtp(port), "--yes")
    english = [m for m in sink.received if "corrected figures" in m["subject"]]
    assert english and all(r["revision"] == 2 for r in audit(demo).values())


@pytest.mark.smtp
def test_send_uses_what_the_batch_was_built_with(demo, smtp_server, tmp_path: Path) -> None:
    """A batch built with --templates and --max-contacts 1 is sent with exactly those, and a
    build with other options says what changed."""
    sink, port = smtp_server
    own = tmp_path / "own"
    own.mkdir()
    (own / "subject.en.txt").write_text("[Press] {{ title }}\n", encoding="utf-8")
    out = tmp_path / "own-out"
    args = ["batch", "build", "sahel-civilians", "--out", str(out)]
    demo(*args, "--templates", str(own), "--max-contacts", "1")
    demo("batch", "send", "sahel-civilians", *smtp(port), "--yes")
    by_address = {m["to"]: m for m in sink.received}
    assert by_address["rebecca.stone@example.org"]["subject"].startswith("[Press] Sahel")
    assert all(len(r["contacts"]) == 1 for r in audit(demo).values())
    again = demo(*args, "--max-contacts", "2")
    assert "changed since the last build: contacts per outlet: 1 -> 2" in again.stderr
    assert "templates:" in again.stderr and "41 kept as sent" in again.stderr


def test_addresses_that_share_a_file_name_get_their_own_files(demo, tmp_path: Path) -> None:
    """`a+b@` and `a_b@` (one file name once) and a 250-character address all build, each in
    its own short file, with the same names on every build."""
    long_local = "l" * 64
    long_domain = ".".join(["d" * 60, "e" * 60, "f" * 50, "example.org"])
    addresses = ["a+b@example.org", "a_b@example.org", f"{long_local}@{long_domain}"]
    for number, address in enumerate(addresses):
        demo(
            "journalist",
            "add",
            "--outlet",
            "world-desk-london",
            "--name",
            f"Person {number}",
            "--email",
            address,
        )
    out = tmp_path / "names"
    demo("batch", "build", "sahel-civilians", "--out", str(out))
    manifest = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    paths = {m["email"]: m["path"] for m in manifest if m["email"] in addresses}
    assert len(set(paths.values())) == 3
    assert all(len(Path(p).name) <= 100 and "/" not in Path(p).name for p in paths.values())
    assert paths["a_b@example.org"].endswith("/a_b@example.org.eml")
    for address, path in paths.items():
        assert messages(out)[address]["To"].addresses[0].addr_spec == address
        assert (out / path).is_file()
    demo("batch", "build", "sahel-civilians", "--out", str(out))
    again = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert {m["email"]: m["path"] for m in again if m["email"] in addresses} == paths


def test_status_has_labelled_columns_and_every_status(demo, tmp_path: Path) -> None:
    """`batch status` labels its columns; --json counts every status, cancelled included."""
    demo("suppress", "add", "adama.kone@example.com")
    demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    table = demo("batch", "status", "sahel-civilians").stdout
    for label in ("total", "pending", "in progress", "sent", "failed", "cancelled"):
        assert label in table
    counts = json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout)
    assert counts == {
        "total": 41,
        "pending": 40,
        "claimed": 0,
        "sent": 0,
        "failed": 0,
        "cancelled": 1,
        "in_progress": 0,
        "bounced": 0,
        "complained": 0,
        "auto_replied": 0,
    }


@pytest.mark.smtp
def test_every_noun_can_be_removed_and_sent_history_is_kept(
    demo, smtp_server, tmp_path: Path
) -> None:
    """Offices and outlets with something in them are refused; a journalist or release that
    was sent messages is archived (the audit stays whole), one that was not is deleted."""
    _sink, port = smtp_server
    assert (
        "has 3 press contact(s) and 0 release(s)"
        in demo("office", "remove", "niamey", "--yes", expect=2).stderr
    )
    assert (
        "has 3 journalist(s)"
        in demo("outlet", "remove", "agence-sahel-presse", "--yes", expect=2).stderr
    )
    assert "pass --yes" in demo("journalist", "remove", "adama.kone@example.com", expect=2).stderr
    demo("batch", "send", "sahel-civilians", *smtp(port), "--yes")
    journalists = json.loads(
        demo("journalist", "list", "--outlet", "agence-sahel-presse", "--json").stdout
    )
    assert len(journalists) == 3
    gone = demo("journalist", "remove", "adama.kone@example.com", "--yes")
    assert "archived journalist adama.kone@example.com" in gone.stderr
    assert audit(demo)["adama.kone@example.com"]["status"] == "sent"
    routes = json.loads(
        demo("route", "show", "sahel-civilians", "--outlet", "agence-sahel-presse", "--json").stdout
    )
    assert routes  # the outlet still routes for its other journalists
    archived = demo("release", "remove", "sahel-civilians", "--yes")
    assert "archived release sahel-civilians" in archived.stderr
    again = demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "again"), expect=2)
    assert "was removed on" in again.stderr
    fresh = tmp_path / "fresh.en.md"
    fresh.write_text(
        '+++\nslug = "fresh"\nlang = "en"\noffice = "the-hague"\nembargo = "none"\n'
        'title = "Fresh"\n+++\nBody.\n',
        encoding="utf-8",
    )
    demo("release", "add", str(fresh))
    assert "removed release fresh" in demo("release", "remove", "fresh", "--yes").stderr
    demo(
        "outlet",
        "add",
        "--slug",
        "empty-desk",
        "--name",
        "Empty Desk",
        "--country",
        "FR",
        "--language",
        "fr",
        "--timezone",
        "Europe/Paris",
    )
    assert "removed outlet empty-desk" in demo("outlet", "remove", "empty-desk", "--yes").stderr


def test_the_card_journalists_get_is_clean_and_khard_reads_it(demo, tmp_path: Path) -> None:
    """The attached card declares UTF-8, gives each contact a stable UID and ORG as
    organisation;office, carries no internal X-CIVIC fields, and imports into vobject and khard."""
    first = messages(tmp_path / "out")["adama.kone@example.com"]
    card_part = part(first, "text/vcard")
    assert card_part.get_param("charset") == "utf-8"
    text = card_part.get_content()
    assert "X-CIVIC" not in text
    cards = list(vobject.readComponents(text))
    assert all(c.uid.value.startswith("urn:uuid:") for c in cards)
    assert cards[0].org.value == ["Press Office", "Niamey Regional Office"]
    other = messages(tmp_path / "out")["zeinabou.hamani@example.com"]
    again = list(vobject.readComponents(part(other, "text/vcard").get_content()))
    assert {c.fn.value: c.uid.value for c in again} == {c.fn.value: c.uid.value for c in cards}
    book = tmp_path / "book"
    book.mkdir()
    for number, card in enumerate(cards):
        (book / f"{number}.vcf").write_text(card.serialize(), encoding="utf-8")
    config = tmp_path / "khard.conf"
    config.write_text(
        f"[addressbooks]\n[[press]]\npath = {book}\n[general]\neditor = true\nmerge_editor = true\n",
        encoding="utf-8",
    )
    listed = subprocess.run(
        [sys.executable, "-m", "khard", "-c", str(config), "list", "--parsable"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "Mariam Diallo" in listed.stdout and "unparsable" not in listed.stderr.lower()
    assert len(listed.stdout.strip().splitlines()) == len(cards)


def test_export_keeps_the_fields_that_import_back(demo, tmp_path: Path) -> None:
    """`contact export --format vcf` keeps the registry's own fields, so it imports back."""
    exported = demo("contact", "export", "--format", "vcf").stdout
    assert "X-CIVIC-OFFICE:niamey" in exported and "UID:urn:uuid:" in exported
    path = tmp_path / "back.vcf"
    path.write_text(exported, encoding="utf-8")
    assert "6 unchanged" in demo("contact", "import", str(path)).stderr


def test_coverage_gaps_are_summarised_per_problem(capsys: pytest.CaptureFixture[str]) -> None:
    """A list of thousands of outlets does not print a line per outlet: one line per problem,
    naming the first few outlets and how many more, and where each is listed."""
    from civic_contacts.cli.batches import SHOWN_GAP_OUTLETS, say_gaps

    gaps = [f"outlet-{i:03d}: no active press contact speaks ar" for i in range(40)]
    gaps.append("outlet-900: release r1 has no nl text")
    say_gaps(gaps, "r1")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("coverage gap: no active press contact speaks ar: 40 outlets")
    assert "outlet-000" in lines[0] and f"outlet-{SHOWN_GAP_OUTLETS:03d}" not in lines[0]
    assert f"and {40 - SHOWN_GAP_OUTLETS} more" in lines[0]
    assert "route coverage --release r1" in lines[0]
    assert lines[1] == "coverage gap: outlet-900: release r1 has no nl text"


def test_attachments_are_announced_and_the_calendar_gives_local_time(demo, tmp_path: Path) -> None:
    """Each message says in its own language what is attached and why; the calendar entry's
    description gives the lift as the banner does, GMT and the outlet's own time."""
    with_local = 0
    for address, msg in messages(tmp_path / "out").items():
        html = part(msg, "text/html").get_content()
        text = part(msg, "text/plain").get_content()
        if msg["Content-Language"] == "fr":
            assert "En pièces jointes\u00a0: une carte de contact (contacts.vcf)" in html, address
            assert "une entrée de calendrier (embargo.ics)" in html
        else:
            assert "Attached: a contact card (contacts.vcf)" in html, address
            assert "a calendar entry (embargo.ics)" in html
        calendar = icalendar.Calendar.from_ical(part(msg, "text/calendar").get_content())
        (event,) = calendar.walk("VEVENT")
        first = text.replace("\r\n", "\n").split("\n\n", 1)[0]
        banner = " ".join(first.split("\n"))  # the first paragraph
        assert str(event["DESCRIPTION"]).splitlines()[0] == banner, address
        assert "GMT" in banner
        with_local += "(" in banner  # "(01:01 in Paris)" beside the GMT time
    assert with_local > 0


def test_the_text_part_is_plain_text_wrapped(demo, tmp_path: Path) -> None:
    """No Markdown syntax in the text part, and no line past 76 characters but a lone link."""
    for address, msg in messages(tmp_path / "out").items():
        text = part(msg, "text/plain").get_content().replace("\r\n", "\n")
        for mark in ("**", "## ", "]("):
            assert mark not in text, (address, mark)
        assert "What the report documents\n-------------------------" in text or (
            msg["Content-Language"] != "en"
        )
        for line in text.splitlines():
            assert len(line) <= 76 or (" " not in line and ":" in line), (address, line)
        attached = "Attached:" if msg["Content-Language"] == "en" else "En pièces jointes\u00a0:"
        assert attached in text.replace("\n", " ")  # French keeps its colon on its line


BODY_BLOCK_LINE = "In Niamey: Mariam Diallo, Press Officer for the Sahel"


def test_the_bodys_own_contact_block_gives_way_to_the_routed_one(demo, tmp_path: Path) -> None:
    """A release body ending with its own media-contact block: messages leave it out (one
    contact block, the routed one, with its links), and `release show` says so."""
    for address, msg in messages(tmp_path / "out").items():
        text = part(msg, "text/plain").get_content()
        html = part(msg, "text/html").get_content()
        assert BODY_BLOCK_LINE not in text and BODY_BLOCK_LINE not in html, address
        if msg["Content-Language"] == "en":
            assert text.count("For more information and media inquiries") == 1, address
            assert html.count("For more information and media inquiries") == 1, address
    shown = demo("release", "show", "sahel-civilians").stdout
    assert "its own contact block (lines" in " ".join(shown.split())
    assert "left out of messages" in shown
    data = json.loads(demo("release", "show", "sahel-civilians", "--json").stdout)
    blocks = [t["contact_block"] for t in data["translations"]]
    assert all(b and not b["kept"] for b in blocks)
    assert blocks[0]["heading"].startswith("For more information")


def test_a_release_can_keep_its_contact_block_with_its_lines(
    demo, data_dir: Path, tmp_path: Path
) -> None:
    """`keep_contact_block = true` keeps the body's block; its lines stay lines in HTML."""
    files = []
    for language in ("en", "fr"):
        text = (data_dir / "releases" / f"sahel-civilians.{language}.md").read_text("utf-8")
        path = tmp_path / f"keep.{language}.md"
        path.write_text(text.replace("+++\n", "+++\nkeep_contact_block = true\n", 1), "utf-8")
        files.append(str(path))
    updated = demo("release", "update", *files).stderr
    assert "the body's own contact block: kept in messages" in updated
    demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    msg = messages(tmp_path / "out")["rebecca.stone@example.org"]
    text = part(msg, "text/plain").get_content()
    html = part(msg, "text/html").get_content()
    assert BODY_BLOCK_LINE in text
    heading = html.index("please contact:")
    assert "<br" in html[heading : html.index("In Niamey", heading)]
    assert "kept in messages" in demo("release", "show", "sahel-civilians").stdout


def test_roles_and_typography_follow_the_messages_language(demo, tmp_path: Path) -> None:
    """A contact's role is shown, and put on the card, in the message's language when the
    registry has it; French messages set a no-break space before : ; ? ! and inside « »,
    leave links alone, and no line starts with a lone punctuation mark."""
    french_role = "Chargée de presse pour le Sahel"
    seen = set()
    for address, msg in messages(tmp_path / "out").items():
        text = part(msg, "text/plain").get_content().replace("\r\n", "\n")
        html = part(msg, "text/html").get_content()
        card = part(msg, "text/vcard").get_content()
        language = msg["Content-Language"]
        if "Mariam Diallo" in text:
            seen.add(language)
            if language == "fr":
                assert f"Mariam Diallo, {french_role} (Niamey)" in text, address
                assert "(The Hague)" not in text  # the office's city in French: La Haye
                assert f"TITLE:{french_role}" in card and "Press Officer" not in card
            else:
                assert "Mariam Diallo, Press Officer for the Sahel (Niamey)" in text, address
                assert "TITLE:Press Officer for the Sahel" in card and french_role not in card
        if language != "fr":
            assert "\u00a0:" not in text and "poste" not in text, address
            continue
        shown = unescape(re.sub(r"(?s)<head>.*?</head>|<[^>]+>", "", html))
        for body in (text, shown, str(msg["Subject"])):
            assert not re.search(r"[^\s\u00a0] [:;?!](\s|$)", body), address
            assert not re.search(r"\w[;?!](\s|$)", body), address
            assert "« " not in body and " »" not in body, address
        assert "«\u00a0Les gens ne sont pas pris entre deux feux\u00a0; trop souvent" in text
        assert "Courriel\u00a0: " in text and "https://wa.me/" in text
        assert not any(line.lstrip()[:1] in (";", ":", "?", "!", "»") for line in text.split("\n"))
        if "+227 20 20 12 34" in text:
            assert "+227 20 20 12 34 poste 215" in text and " ext. " not in text, address
    assert seen == {"fr", "en"}
    french = [m for m in messages(tmp_path / "out").values() if m["Content-Language"] == "fr"]
    assert any("(La Haye)" in part(m, "text/plain").get_content() for m in french)


KHARD_CONFIG = """[addressbooks]
[[press]]
path = {book}

[general]
debug = no
default_action = list
editor = /bin/false
merge_editor = /bin/false

[contact table]
display = formatted_name
preferred_phone_number_type = pref, cell, work
preferred_email_address_type = pref, work

[vcard]
preferred_version = 3.0
search_in_source_files = no
skip_unparsable = no
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_attached_card_reads_in_khard(demo, tmp_path: Path) -> None:
    """The card attached to a French message, stored as an address book stores it (one file
    per contact, as vdirsyncer does), reads in khard (Debian's package): names, the title in
    French, the office line with its extension after a pause, the WhatsApp link."""
    khard = shutil.which("khard")
    if khard is None:
        need("khard", "install Debian's khard package")
    msg = messages(tmp_path / "out")["ibrahim.abdou@example.com"]
    card = part(msg, "text/vcard").get_content()
    book = tmp_path / "book"
    book.mkdir()
    for number, one in enumerate(re.findall(r"BEGIN:VCARD.*?END:VCARD\r?\n", card, re.S)):
        (book / f"{number}.vcf").write_text(one, encoding="utf-8", newline="")
    config = tmp_path / "khard.conf"
    config.write_text(KHARD_CONFIG.format(book=book), encoding="utf-8")

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(khard), "-c", str(config), *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = run("list")
    assert "Mariam Diallo" in listed and "Ousmane Kountché-Abdou" in listed
    assert "+22720201234,215" in run("phone")
    shown = run("show", "--format", "yaml", "Mariam Diallo")
    assert "Title: Chargée de presse pour le Sahel" in shown
    assert "WhatsApp: https://wa.me/22793123456" in shown
    assert "mdiallo@example.org" in shown
