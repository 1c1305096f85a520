"""`civic-contacts phone parse` and `contact extract` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from civic_contacts.cli import app


def test_phone_parse_json_shape() -> None:
    """The issue's example gives two numbers in the promised JSON shape."""
    result = CliRunner().invoke(
        app,
        [
            "phone",
            "parse",
            "+33.6.03.50.53.93/ +1.917.889.5982 (WhatsApp)",
            "--region",
            "NL",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(d["e164"], d["whatsapp"], d["whatsapp_url"]) for d in data] == [
        ("+33603505393", False, None),
        ("+19178895982", True, "https://wa.me/19178895982"),
    ]
    for key in ("raw", "e164", "international", "type", "valid", "whatsapp", "whatsapp_url"):
        assert key in data[0]


def test_phone_parse_invalid_has_nulls_and_problem() -> None:
    """A number that is not valid has null e164, international and whatsapp_url, and a problem."""
    result = CliRunner().invoke(app, ["phone", "parse", "(+227) 20 72 xx xx (WhatsApp)", "--json"])
    data = json.loads(result.stdout)[0]
    assert (data["e164"], data["international"], data["whatsapp_url"], data["valid"]) == (
        None,
        None,
        None,
        False,
    )
    assert data["problem"]


def test_phone_parse_bad_region_is_exit_2() -> None:
    """An unknown region is one line and exit code 2."""
    result = CliRunner().invoke(app, ["phone", "parse", "93 12 34 56", "--region", "QQ"])
    assert result.exit_code == 2 and result.stderr.startswith("error:")


def test_contact_extract_json_and_import(cli, data_dir: Path) -> None:
    """The sample release's contacts are read, then imported as press contacts of an office."""
    cli("office", "import", str(data_dir / "offices.csv"))
    release = data_dir / "releases" / "sahel-civilians.en.md"
    people = json.loads(cli("contact", "extract", str(release), "--json").stdout)
    assert [(p["name"], p["office"], p["emails"]) for p in people] == [
        ("Mariam Diallo", "Niamey", ["mdiallo@example.org"]),
        ("Pieter de Vries", "The Hague", ["pdevries@example.org"]),
    ]
    assert people[1]["phones"][1] == {
        "raw": "+1.202.555.0147 (WhatsApp)",
        "e164": "+12025550147",
        "whatsapp": True,
        "international": "+1 202-555-0147",
        "labels": ["whatsapp"],
        "problem": None,
    }
    result = cli("contact", "extract", str(release), "--import", "--office", "the-hague", "--json")
    assert "contacts: 2 created" in result.stderr
    again = cli("contact", "extract", str(release), "--import", "--office", "the-hague")
    assert "0 created, 0 updated, 2 unchanged" in again.stderr


def test_contact_extract_import_without_office_in_a_script(cli, data_dir: Path) -> None:
    """--import without --office and without a terminal is refused."""
    release = data_dir / "releases" / "sahel-civilians.fr.md"
    result = cli("contact", "extract", str(release), "--import", expect=2)
    assert "--import needs --office" in result.stderr


def test_an_extension_is_printed_once() -> None:
    """`phone parse` shows "ext. 12" once, not twice."""
    result = CliRunner().invoke(app, ["phone", "parse", "+227 20 72 34 56 ext. 12"])
    assert result.exit_code == 0
    assert result.stdout.count("ext. 12") == 2  # the raw text and the number, once each
    assert "ext. 12 ext. 12" not in result.stdout


def test_version() -> None:
    """`civic-contacts --version` prints the version and nothing else."""
    from civic_contacts import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"civic-contacts {__version__}\n"


def test_the_unsubscribe_server_stays_off_the_smtp_test_port() -> None:
    """`serve-unsubscribe` does not default to 8025, the usual port of SMTP test servers."""
    result = CliRunner().invoke(app, ["serve-unsubscribe", "--help"], env={"COLUMNS": "200"})
    assert "8480" in result.stdout and "8025" not in result.stdout
