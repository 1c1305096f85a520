"""The media list and routing from the command line, on the demo data."""

from __future__ import annotations

import json
from pathlib import Path


def routed(cli, *args: str) -> dict[str, dict]:
    return {
        r["outlet"]: r
        for r in json.loads(cli("route", "show", "sahel-civilians", *args, "--json").stdout)
    }


def test_sahel_french_outlets_get_niamey_first(demo) -> None:
    """French-language outlets in the Sahel get the Niamey contacts first."""
    routes = routed(demo)
    for slug in ("agence-sahel-presse", "courrier-de-niamey", "ouaga-matin"):
        assert routes[slug]["language"] == "fr"
        assert [c["office"] for c in routes[slug]["contacts"]] == ["niamey", "niamey"]
    assert "Niamey covers ML" in routes["agence-sahel-presse"]["contacts"][0]["reasons"]


def test_english_outlets_elsewhere_get_the_hague(demo) -> None:
    """English-language outlets outside the Sahel get The Hague's contacts."""
    routes = routed(demo)
    for slug in ("world-desk-london", "global-wire-ny"):
        assert routes[slug]["language"] == "en"
        assert [c["name"] for c in routes[slug]["contacts"]] == [
            "Pieter de Vries",
            "Hannah Okafor-Lindqvist",
        ]


def test_french_journalist_at_english_outlet(demo) -> None:
    """A journalist reading French at an English outlet gets French and a French speaker."""
    route = routed(demo, "--outlet", "world-desk-london")["world-desk-london"]
    [exception] = route["exceptions"]
    assert (exception["email"], exception["language"]) == ("celine.moreau@example.org", "fr")
    assert all("speaks fr" in c["reasons"] for c in exception["contacts"])


def test_missing_language_falls_back_and_shows_in_coverage(demo) -> None:
    """An Arabic outlet falls back to the owning office's first language and is a coverage gap."""
    route = routed(demo)["sawt-al-batha"]
    assert (route["language"], route["fallback"]) == ("en", True)
    gaps = json.loads(demo("route", "coverage", "--json").stdout)
    assert {
        "outlet": "sawt-al-batha",
        "languages": ["ar"],
        "language": "ar",
        "problem": "no active press contact speaks ar",
        "could": [],
    } in gaps


def test_route_show_table_lists_exceptions(demo) -> None:
    """The table names the journalist whose language differs."""
    out = demo("route", "show", "sahel-civilians", "--outlet", "world-desk-london").stdout
    assert "Céline Moreau: fr" in out and "Pieter de Vries" in out


def test_max_contacts(demo) -> None:
    """--max-contacts 1 routes one contact per outlet."""
    assert all(len(r["contacts"]) == 1 for r in routed(demo, "--max-contacts", "1").values())


def test_unknown_release_and_outlet(demo) -> None:
    """Unknown names are one-line errors, exit 2."""
    assert 'unknown release "nope"' in demo("route", "show", "nope", expect=2).stderr
    assert (
        'unknown outlet "nope"'
        in demo("route", "show", "sahel-civilians", "--outlet", "nope", expect=2).stderr
    )


def test_outlet_and_journalist_commands(demo, tmp_path: Path) -> None:
    """Outlets and journalists add, list, export and import back unchanged."""
    demo(
        "outlet",
        "add",
        "--slug",
        "sahel-fm",
        "--name",
        "Sahel FM",
        "--country",
        "NE",
        "--timezone",
        "Africa/Niamey",
        "--language",
        "fr",
        "--kind",
        "radio",
        "--tag",
        "radio",
    )
    demo(
        "journalist",
        "add",
        "--outlet",
        "sahel-fm",
        "--name",
        "Awa Sy",
        "--email",
        "Awa.Sy@example.com",
        "--phone",
        "93 12 34 56 (WhatsApp)",
    )
    people = json.loads(demo("journalist", "list", "--outlet", "sahel-fm", "--json").stdout)
    assert people == [
        {
            "outlet": "sahel-fm",
            "name": "Awa Sy",
            "email": "awa.sy@example.com",
            "language": None,
            "role": "",
            "phones": ["+227 93 12 34 56 (WhatsApp)"],
            "beats": [],
            "opted_out": False,
            "suppressed": False,
            "status": [],
            "preferences": {
                "also_reads": [],
                "follows": [],
                "weekly_cap": None,
                "accepts_embargoed": True,
            },
        }
    ]
    outlets_csv, journalists_csv = tmp_path / "o.csv", tmp_path / "j.csv"
    demo("outlet", "export", "--output", str(outlets_csv))
    demo("journalist", "export", "--output", str(journalists_csv))
    assert "16 unchanged" in demo("outlet", "import", str(outlets_csv)).stderr
    assert "42 unchanged" in demo("journalist", "import", str(journalists_csv)).stderr


def test_journalist_bad_rows(demo, tmp_path: Path) -> None:
    """Unknown outlet and bad email are reported by row and field; nothing applied."""
    path = tmp_path / "j.csv"
    path.write_text(
        "outlet,name,email,language,role,phones\n"
        "ouaga-matin,A,a@example.com,,,\nnowhere,B,b@example.com,,,\nouaga-matin,C,c@,,,\n",
        encoding="utf-8",
    )
    result = demo("journalist", "import", str(path), expect=2)
    assert 'j.csv row 3, outlet: unknown outlet "nowhere"' in result.stderr
    assert "j.csv row 4, email" in result.stderr
    assert '"a@example.com"' not in demo("journalist", "list", "--json").stdout


def test_outlet_bad_rows(demo, tmp_path: Path) -> None:
    """A bad outlet kind, time zone or language names row and field."""
    path = tmp_path / "o.csv"
    path.write_text(
        "slug,name,country,languages,timezone,kind,tags\n"
        "x,X,NE,fr,Africa/Niamey,blog,\ny,Y,NE,fr,Niamey,print,\n",
        encoding="utf-8",
    )
    result = demo("outlet", "import", str(path), expect=2)
    assert 'o.csv row 2, kind: "blog" is not an outlet kind' in result.stderr
    assert 'o.csv row 3, timezone: "Niamey" is not an IANA time zone' in result.stderr


def test_suppress_add_list_remove(demo) -> None:
    """Suppressed addresses are listed with reason and date, and can be removed."""
    demo("suppress", "add", "Adama.Kone@example.com", "--reason", "asked by phone")
    rows = json.loads(demo("suppress", "list", "--json").stdout)
    assert [(r["email"], r["reason"]) for r in rows] == [
        ("adama.kone@example.com", "asked by phone")
    ]
    assert "already suppressed" in demo("suppress", "add", "adama.kone@example.com").stderr
    demo("suppress", "remove", "adama.kone@example.com")
    assert json.loads(demo("suppress", "list", "--json").stdout) == []
    assert (
        "is not on the suppression list"
        in demo("suppress", "remove", "x@example.com", expect=2).stderr
    )


def test_a_dutch_outlet_is_served_from_home(demo) -> None:
    """The Hague covers its own country without naming it, and `route show` says so."""
    routes = routed(demo, "--outlet", "haagse-courant")
    first = routes["haagse-courant"]["contacts"][0]
    assert first["office"] == "the-hague" and "The Hague is in NL" in first["reasons"]


def test_the_fallback_language_is_the_outlets_readers_then_the_releases_then_english(
    demo, tmp_path: Path, data_dir: Path
) -> None:
    """A Flemish outlet gets English (the release has it) rather than the owner's other
    language; `outlet edit --also-reads fr` gives it French; a release whose front matter
    says `fallback = ["fr"]` gives French to an outlet that says nothing; a bad fallback is
    one line naming the file and the field."""
    demo(
        "outlet",
        "add",
        "--slug",
        "de-standaard",
        "--name",
        "De Standaard",
        "--country",
        "BE",
        "--timezone",
        "Europe/Brussels",
        "--language",
        "nl",
    )
    route = routed(demo, "--outlet", "de-standaard")["de-standaard"]
    assert (route["language"], route["fallback"], route["why"]) == ("en", True, "fallback: English")
    demo("outlet", "edit", "de-standaard", "--also-reads", "fr")
    route = routed(demo, "--outlet", "de-standaard")["de-standaard"]
    assert (route["language"], route["fallback"]) == ("fr", False)
    demo("outlet", "edit", "de-standaard", "--clear", "also_reads")
    files = []
    for lang in ("en", "fr"):
        text = (data_dir / "releases" / f"sahel-civilians.{lang}.md").read_text(encoding="utf-8")
        path = tmp_path / f"sahel-civilians.{lang}.md"
        path.write_text(text.replace("+++\n", '+++\nfallback = ["fr"]\n', 1), encoding="utf-8")
        files.append(str(path))
    updated = demo("release", "update", *files)
    assert "fallback languages: fr" in updated.stderr
    route = routed(demo, "--outlet", "de-standaard")["de-standaard"]
    assert (route["language"], route["fallback"], route["why"]) == (
        "fr",
        True,
        "fallback: the release's fallback fr",
    )
    bad = tmp_path / "bad.en.md"
    bad.write_text(
        Path(files[0]).read_text(encoding="utf-8").replace('["fr"]', '"fr"'), encoding="utf-8"
    )
    refused = demo("release", "update", str(bad), expect=2)
    assert "bad.en.md" in refused.stderr and "fallback" in refused.stderr
