"""preview.html and a message's HTML part, opened in real headless Chromium."""

from __future__ import annotations

import email
import json
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest

from tests.conftest import need

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        need("Chromium", "install Debian's chromium package")
    assert path is not None
    return path


def run_chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    result = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


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
