"""Internationalised addresses: IDNA domains are one person whatever the spelling, a build
never stops on a valid address, and a non-ASCII name part goes with SMTPUTF8 or fails alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Sink, free_port

pytestmark = pytest.mark.smtp


def smtp(port: int) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]


def add(cli, name: str, address: str, expect: int = 0):
    return cli(
        "journalist",
        "add",
        "--outlet",
        "world-desk-london",
        "--name",
        name,
        "--email",
        address,
        expect=expect,
    )


def test_an_idna_domain_is_one_journalist_in_either_spelling(demo, tmp_path: Path) -> None:
    """`ann@bücher.de` and `ann@xn--bcher-kva.de` are one journalist, stored in the form SMTP
    carries; the build takes it; the list shows the Unicode form to people."""
    add(demo, "Ann Example", "ann@bücher.de")
    same = add(demo, "Ann Example", "ANN@xn--bcher-kva.de", expect=2)
    assert "journalist ann@xn--bcher-kva.de exists" in same.stderr
    listed = json.loads(demo("journalist", "list", "--json").stdout)
    assert [j["email"] for j in listed if "bcher" in j["email"]] == ["ann@xn--bcher-kva.de"]
    demo("suppress", "add", "other@bücher.de")
    assert "other@xn--bcher-kva.de" in demo("suppress", "list", "--json").stdout
    demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    manifest = (tmp_path / "out" / "manifest.jsonl").read_text(encoding="utf-8")
    assert "ann@xn--bcher-kva.de" in manifest
    assert "ann@bücher.de" in demo("journalist", "list").stdout


def _utf8_server(enable: bool):
    from aiosmtpd.controller import Controller

    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, enable_SMTPUTF8=enable)
    controller.start()
    return controller, sink, port


@pytest.mark.slow
@pytest.mark.parametrize("offered", [True, False])
def test_a_non_ascii_name_part_goes_with_smtputf8_or_fails_alone(
    demo, tmp_path: Path, offered: bool
) -> None:
    """`jöhn@example.org` is built like anyone else; sent with SMTPUTF8 where the server offers
    it (To in UTF-8), otherwise that one delivery fails with the reason and the rest go."""
    add(demo, "Jöhn Example", "jöhn@example.org")
    demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    controller, sink, port = _utf8_server(offered)
    try:
        result = demo("batch", "send", "sahel-civilians", *smtp(port), "--yes", expect=None)
    finally:
        controller.stop()
    received = {m["to"]: m for m in sink.received}
    rows = {
        r["email"]: r
        for r in json.loads(demo("batch", "audit", "sahel-civilians", "--json").stdout)
    }
    assert len(received) == 42 - (0 if offered else 1)
    if offered:
        assert result.exit_code == 0
        data = received["jöhn@example.org"]["data"]
        head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8")
        assert '\r\nTo: "Jöhn Example" <jöhn@example.org>\r\n' in head or (
            "<jöhn@example.org>" in head.split("\r\nTo: ", 1)[1].split("\r\n")[0]
        )
        assert received["jöhn@example.org"]["rcpt_tos"] == ["jöhn@example.org"]
    else:
        assert result.exit_code == 1
        assert rows["jöhn@example.org"]["status"] == "failed"
        assert "does not offer SMTPUTF8" in rows["jöhn@example.org"]["last_error"]


def test_an_address_at_the_length_limit_builds(demo, tmp_path: Path) -> None:
    """The longest addresses email allows are built with a file name of their own."""
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".xy.org"
    assert len(address) == 254
    add(demo, "Long Address", address)
    demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    entry = next(
        json.loads(line)
        for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()
        if json.loads(line)["email"] == address
    )
    assert len(Path(entry["path"]).name) < 100 and (tmp_path / "out" / entry["path"]).is_file()


def test_a_vcard_passes_the_same_checks_as_a_csv(demo, tmp_path: Path) -> None:
    """A card whose name or title holds a line break is refused with card and property;
    nothing is imported, and the build that follows is unharmed."""
    card = tmp_path / "e.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Good\r\nEMAIL:ann.good@example.org\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Eve\\nBcc: spy@example.net\r\nEMAIL:eve@example.org\r\n"
        "END:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mallory\r\nTITLE:Editor\\u202e\r\n"
        "EMAIL:mallory@example.org\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    result = demo("journalist", "import", str(card), "--outlet", "world-desk-london", expect=2)
    said = " ".join(result.stderr.split())
    assert "e.vcf card 2, FN: name holds a line break" in said
    listed = demo("journalist", "list", "--json").stdout
    assert "eve@example.org" not in listed and "ann.good@example.org" not in listed
    contacts = tmp_path / "c.vcf"
    contacts.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Rank Big\r\nEMAIL:rank@example.org\r\n"
        "X-CIVIC-OFFICE:niamey\r\nX-CIVIC-RANK:100000000000000000000000\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    refused = demo("contact", "import", str(contacts), expect=2)
    assert "c.vcf card 1, X-CIVIC-RANK: rank" in refused.stderr
    demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))


@pytest.mark.parametrize(
    ("written", "typeset"),
    [
        ("Sahel : les civils", "Sahel\u00a0: les civils"),
        ("Pourquoi?  Parce que!", "Pourquoi\u00a0?  Parce que\u00a0!"),
        ("marchés, puits ; écoles", "marchés, puits\u00a0; écoles"),
        ('Il a dit "assez" hier.', "Il a dit «\u00a0assez\u00a0» hier."),
        ("« Toutes les parties »", "«\u00a0Toutes les parties\u00a0»"),
        ("**Note:** lire", "**Note\u00a0:** lire"),
        ("à 12:00 voir https://example.org/a?b=c", "à 12:00 voir https://example.org/a?b=c"),
        ("écrivez à presse@example.org: merci", "écrivez à presse@example.org\u00a0: merci"),
        (
            "[le rapport](https://example.org/r?x=1) : lu",
            "[le rapport](https://example.org/r?x=1)\u00a0: lu",
        ),
        ("`a ; b` ; c", "`a ; b`\u00a0; c"),
        ("Tél. : +227 93 12 34 56", "Tél.\u00a0: +227 93 12 34 56"),
        ("mailto:presse@example.org?subject=stop", "mailto:presse@example.org?subject=stop"),
    ],
)
def test_french_typography(written: str, typeset: str) -> None:
    """No-break spaces before : ; ? ! and inside guillemets, quotes turned into guillemets,
    while times, links, addresses and code stay as written."""
    from civic_contacts.compose.typography import french

    assert french(written) == typeset
    assert french(typeset) == typeset  # typesetting twice changes nothing


@pytest.mark.slow
def test_notices_reach_a_non_ascii_name_part_with_smtputf8(demo, tmp_path: Path) -> None:
    """`zoë@bücher.example` was sent the release with SMTPUTF8; a correction notice builds
    (no 7-bit policy crash) and goes to her the same way, To in UTF-8."""
    from tests.deliver.test_notices import release_file

    add(demo, "Zoë Example", "zoë@bücher.example")
    controller, sink, port = _utf8_server(True)
    try:
        demo("batch", "send", "sahel-civilians", *smtp(port), "--yes")
        files = [
            release_file(tmp_path, demo, lang, body="A corrected paragraph.\n\nThe rest.\n")
            for lang in ("en", "fr")
        ]
        demo("release", "update", *map(str, files))
        demo(
            "notice",
            "build",
            "sahel-civilians",
            "--kind",
            "correction",
            "--out",
            str(tmp_path / "corr"),
        )
        before = len(sink.received)
        demo("notice", "send", "sahel-civilians", "--kind", "correction", *smtp(port), "--yes")
    finally:
        controller.stop()
    notices = {m["to"]: m for m in sink.received[before:]}
    assert len(notices) == 42
    zoe = notices["zoë@xn--bcher-kva.example"]
    head = zoe["data"].split(b"\r\n\r\n", 1)[0].decode("utf-8")
    assert "zoë@xn--bcher-kva.example" in head.split("\r\nTo: ", 1)[1].split("\r\n")[0]
