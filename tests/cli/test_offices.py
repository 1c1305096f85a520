"""`civic-contacts office add|list|import`, and every way an offices file can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HEADER = "code,name,city,country,timezone,languages,covers\n"
GOOD = "niamey,Niamey Office,Niamey,NE,Africa/Niamey,fr;en,NE;ML\n"


def write(tmp_path: Path, text: str, name: str = "offices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_list_json(cli, data_dir: Path) -> None:
    """The demo offices import and list as JSON with the CSV columns as keys."""
    cli("office", "import", str(data_dir / "offices.csv"))
    offices = json.loads(cli("office", "list", "--json").stdout)
    assert [o["code"] for o in offices] == ["niamey", "the-hague"]
    niamey = offices[0]
    assert niamey["languages"] == ["fr", "en"]
    assert niamey["covers"] == ["NE", "ML", "BF", "TD", "MR"]
    assert offices[1]["covers"] == ["*"]


def test_import_twice_changes_nothing(cli, data_dir: Path) -> None:
    """A second import of the same file reports every office unchanged."""
    cli("office", "import", str(data_dir / "offices.csv"))
    second = cli("office", "import", str(data_dir / "offices.csv"))
    assert "0 created, 0 updated, 2 unchanged" in second.stderr


def test_add_then_update(cli) -> None:
    """`office add` creates; again with the same code it refuses (naming `edit`) and changes
    nothing; `--update` changes only what is given; `office edit` changes one field."""
    args = [
        "office",
        "add",
        "--code",
        "dakar",
        "--name",
        "Dakar",
        "--city",
        "Dakar",
        "--country",
        "sn",
        "--timezone",
        "Africa/Dakar",
        "--language",
        "fr;en",
        "--covers",
        "SN",
    ]
    assert "created" in cli(*args).stderr
    refused = cli(*args[:-1], "SN;GM", expect=2)
    assert "office dakar exists" in refused.stderr and "office edit dakar" in refused.stderr
    assert json.loads(cli("office", "list", "--json").stdout)[0]["covers"] == ["SN"]
    assert "unchanged" in cli(*args, "--update").stderr
    updated = cli(*args[:-1], "SN;GM", "--update")
    assert "covers: SN → SN; GM" in updated.stderr
    office = json.loads(cli("office", "list", "--json").stdout)[0]
    assert office["country"] == "SN" and office["covers"] == ["SN", "GM"]
    edited = cli("office", "edit", "dakar", "--city-in", "fr=Dakar", "--name", "Bureau de Dakar")
    assert "name: Dakar → Bureau de Dakar" in edited.stderr
    office = json.loads(cli("office", "list", "--json").stdout)[0]
    assert office["covers"] == ["SN", "GM"] and office["languages"] == ["fr", "en"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "niamey,N,Niamey,NE,CET+1,fr,NE\n",
            'offices.csv row 3, timezone: "CET+1" is not an IANA time zone',
        ),
        (
            "niamey,N,Niamey,NE,Niamey,fr,NE\n",
            'offices.csv row 3, timezone: "Niamey" is not an IANA',
        ),
        ("niamey,N,Niamey,NE,Africa/Niamey,french,NE\n", 'offices.csv row 3, languages: "french"'),
        (
            "niamey,N,Niamey,NE,Africa/Niamey,xx,NE\n",
            'offices.csv row 3, languages: "xx" is not a known',
        ),
        ("niamey,N,Niamey,XX,Africa/Niamey,fr,NE\n", 'offices.csv row 3, country: "XX"'),
        (
            "dakar,N,Dakar,SN,Africa/Dakar,fr,NE\ndakar,N,Dakar,SN,Africa/Dakar,fr,SN\n",
            "offices.csv row 4, code: dakar is already on row 3",
        ),
    ],
)
def test_bad_rows_are_reported_and_nothing_applied(
    cli, tmp_path: Path, row: str, message: str
) -> None:
    """A bad value gives one line with file, row and field, exit 2, and no office is added."""
    path = write(tmp_path, HEADER + "the-hague,HQ,The Hague,NL,Europe/Amsterdam,en,*\n" + row)
    result = cli("office", "import", str(path), expect=2)
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert json.loads(cli("office", "list", "--json").stdout) == []


def test_missing_column(cli, tmp_path: Path) -> None:
    """A file without a required column is refused before any row is read."""
    path = write(tmp_path, "code,name,city,country,languages,covers\n")
    result = cli("office", "import", str(path), expect=2)
    assert "offices.csv row 1: missing column timezone" in result.stderr


def test_semicolon_file_with_bom_is_read(cli, tmp_path: Path) -> None:
    """A French-locale spreadsheet export (BOM, `;` delimiter) imports like any other."""
    text = HEADER.replace(",", ";") + 'niamey;Niamey;Niamey;NE;Africa/Niamey;"fr;en";"NE;ML"\n'
    path = tmp_path / "offices.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    cli("office", "import", str(path))
    assert json.loads(cli("office", "list", "--json").stdout)[0]["languages"] == ["fr", "en"]


def test_skip_invalid_applies_the_good_rows(cli, tmp_path: Path) -> None:
    """With --skip-invalid the good rows are applied and the bad ones listed."""
    path = write(tmp_path, HEADER + GOOD + "bad,B,B,NE,Nowhere/City,fr,NE\n")
    result = cli("office", "import", str(path), "--skip-invalid")
    assert "row 3, timezone" in result.stderr
    assert [o["code"] for o in json.loads(cli("office", "list", "--json").stdout)] == ["niamey"]


def test_add_with_bad_timezone_names_the_option(cli) -> None:
    """A bad option value is one line naming the option, exit 2."""
    result = cli(
        "office",
        "add",
        "--code",
        "x",
        "--name",
        "X",
        "--city",
        "X",
        "--country",
        "NE",
        "--timezone",
        "GMT+1",
        "--language",
        "fr",
        expect=2,
    )
    assert result.stderr.startswith('error: --timezone: "GMT+1" is not an IANA time zone')


def test_missing_file_is_a_clear_error(cli, tmp_path: Path) -> None:
    """Importing a file that is not there says so."""
    result = cli("office", "import", str(tmp_path / "nope.csv"), expect=2)
    assert "nope.csv: no such file" in result.stderr


def test_city_names_by_language(cli, data_dir: Path, tmp_path: Path) -> None:
    """`city_fr`… columns (or `office add --city-in fr=…`) give the city in other languages;
    a file without them leaves them; a bad language is named with the row and column."""
    cli("office", "import", str(data_dir / "offices.csv"))
    hague = next(
        o for o in json.loads(cli("office", "list", "--json").stdout) if o["code"] == "the-hague"
    )
    assert hague["cities"] == {"fr": "La Haye"}
    cli("office", "import", str(write(tmp_path, HEADER + GOOD)))
    niamey = next(
        o for o in json.loads(cli("office", "list", "--json").stdout) if o["code"] == "niamey"
    )
    assert niamey["cities"] == {}
    cli(
        "office",
        "add",
        "--code",
        "dakar",
        "--name",
        "Dakar Office",
        "--city",
        "Dakar",
        "--country",
        "SN",
        "--timezone",
        "Africa/Dakar",
        "--language",
        "fr",
        "--city-in",
        "ar=داكار",
    )
    dakar = next(
        o for o in json.loads(cli("office", "list", "--json").stdout) if o["code"] == "dakar"
    )
    assert dakar["cities"] == {"ar": "داكار"}
    bad = write(tmp_path, HEADER.strip() + ",city_zz9\n" + GOOD.strip() + ",Niamé\n", "bad.csv")
    result = cli("office", "import", str(bad), expect=2)
    assert "bad.csv row 2, city_zz9:" in result.stderr
    assert (
        "--city-in:"
        in cli(
            "office",
            "add",
            "--code",
            "x",
            "--name",
            "X",
            "--city",
            "X",
            "--country",
            "SN",
            "--timezone",
            "Africa/Dakar",
            "--language",
            "fr",
            "--city-in",
            "Dakar",
            expect=2,
        ).stderr
    )
