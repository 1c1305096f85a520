"""preview.html and a message's HTML part, opened in real headless Chromium."""

from __future__ import annotations

import base64
import email
import json
import re
from email import policy
from pathlib import Path

import pytest
import vobject

from tests.browser import chromium_path, measure
from tests.browser import run_chromium as run_browser
from tests.conftest import need

pytestmark = pytest.mark.slow


def chromium() -> str:
    path = chromium_path()
    if path is None:
        need("Chromium", "install Debian's chromium package")
    assert path is not None
    return path


def run_chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return run_browser(chromium(), profile, *args)


def fresh_profile(tmp_path: Path) -> Path:
    return tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"


@pytest.fixture
def outbox(demo, tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_preview_renders_contacts_banner_and_warnings(outbox: Path, tmp_path: Path) -> None:
    """Chromium shows the outlets, the routed contacts, the embargo banners and the warnings."""
    dom = run_chromium(tmp_path, "--dump-dom", (outbox / "preview.html").as_uri())
    assert "Preview of sahel-civilians" in dom
    assert "Check before sending" in dom and "sawt-al-batha" in dom
    assert "EMBARGOED UNTIL 00:01 GMT" in dom and "SOUS EMBARGO JUSQU'AU" in dom
    assert "Mariam Diallo" in dom and "Hannah Okafor-Lindqvist" in dom
    assert "https://wa.me/22793123456" in dom


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_message_html_part_shows_banner_and_contacts(outbox: Path, tmp_path: Path) -> None:
    """One message's HTML part, as a mail program would show it: banner on top, contacts below."""
    from PIL import Image

    entry = next(
        json.loads(x)
        for x in (outbox / "manifest.jsonl").read_text().splitlines()
        if x and json.loads(x)["email"] == "adama.kone@example.com"
    )
    msg = email.message_from_bytes((outbox / entry["path"]).read_bytes(), policy=policy.default)
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    page = tmp_path / "message.html"
    page.write_text(html, encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    assert "SOUS EMBARGO JUSQU'AU" in dom and "à Bamako" in dom
    assert "Mariam Diallo" in dom and 'href="tel:+227-93-12-34-56"' in dom
    shot = tmp_path / "message.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=800,600", page.as_uri())
    image = Image.open(shot).convert("RGB")
    width, _height = image.size
    banner = sum(
        1
        for x in range(0, width, 4)
        for y in range(0, 120, 2)
        if image.getpixel((x, y)) == (139, 0, 0)
    )
    assert banner > 200, "the dark red embargo banner is not visible at the top"


def _html_part(outbox: Path, address: str) -> str:
    entry = next(
        json.loads(x)
        for x in (outbox / "manifest.jsonl").read_text().splitlines()
        if x and json.loads(x)["email"] == address
    )
    msg = email.message_from_bytes((outbox / entry["path"]).read_bytes(), policy=policy.default)
    return next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()


PHONE, DESKTOP = 390, 1200


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("address", ["adama.kone@example.com", "rebecca.stone@example.org"])
def test_message_banner_and_contacts_fit_a_phone(
    outbox: Path, tmp_path: Path, address: str
) -> None:
    """The French and the English message, at a phone's 390 px and a desktop's 1200 px: the
    page never scrolls sideways, and the embargo banner (at the top) and the contact block lie
    wholly inside the window."""
    page = _html_part(outbox, address)
    for width in (PHONE, DESKTOP):
        found = measure(
            chromium(), fresh_profile(tmp_path), page, [".embargo-banner", ".contacts"], width
        )
        assert found["viewport"] == width, found
        assert found["scrollWidth"] <= width, (width, found)
        banner, contacts = found["elements"][".embargo-banner"], found["elements"][".contacts"]
        assert banner is not None and contacts is not None
        assert "EMBARGO" in banner["text"] and banner["top"] < 120, banner
        for box in (banner, contacts):
            assert box["left"] >= 0 and box["right"] <= width, (width, box)
        assert "Mariam Diallo" in contacts["text"] or "Pieter de Vries" in contacts["text"]


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_preview_gives_headers_attachments_contacts_and_the_next_command(
    outbox: Path, tmp_path: Path
) -> None:
    """Per variant, preview.html shows From, Reply-To, Subject, links that open each attachment,
    the routed contacts with their reasons, and the exact command that sends; at 390 px it
    does not scroll sideways and the command is on screen."""
    page = (outbox / "preview.html").read_text(encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", (outbox / "preview.html").as_uri())
    assert "<dt>From</dt><dd>Press Office &lt;press@example.org&gt;</dd>" in dom
    assert "<dt>Reply-To</dt><dd>Mariam Diallo &lt;mdiallo@example.org&gt;</dd>" in dom
    assert "SOUS EMBARGO JUSQU'AU" in dom and "EMBARGOED UNTIL" in dom
    assert "Mariam Diallo <small>(speaks fr, Niamey " in dom and "rank 1)" in dom
    database = tmp_path / "registry.sqlite3"  # the test's --db
    command = f"civic-contacts --db sqlite:///{database} batch send sahel-civilians --yes"
    assert f"<code>{command}</code>" in dom
    links = re.findall(r'<a href="data:text/vcard;base64,([^"]+)" download="contacts.vcf"', dom)
    assert links, "no link opens the contact card"
    card = base64.b64decode(links[0]).decode("utf-8")
    assert [c.fn.value for c in vobject.readComponents(card)]
    assert re.search(r'<a href="data:text/calendar;base64,[^"]+" download="embargo.ics"', dom)
    for width in (PHONE, DESKTOP):
        found = measure(chromium(), fresh_profile(tmp_path), page, ["#next", ".variant"], width)
        assert found["scrollWidth"] <= width, (width, found)
        assert found["elements"]["#next"]["right"] <= width
        assert command in found["elements"]["#next"]["text"]
