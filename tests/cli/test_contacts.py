"""`civic-contacts contact ...`: the registry of our own spokespeople, keyed by office, role
and language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HEADER = "name,office,role,languages,email,phones,rank\n"


@pytest.fixture
def loaded(cli, data_dir: Path):
    """A registry with the demo offices and press contacts."""
    cli("office", "import", str(data_dir / "offices.csv"))
    cli("contact", "import", str(data_dir / "contacts.csv"))
    return cli


def names(result) -> list[str]:
    return [c["name"] for c in json.loads(result.stdout)]


def test_list_json_has_every_demo_contact(loaded) -> None:
    """`contact list --json` lists the six demo contacts with the CSV columns as keys."""
    contacts = json.loads(loaded("contact", "list", "--json").stdout)
    assert len(contacts) == 6
    mariam = next(c for c in contacts if c["email"] == "mdiallo@example.org")
    assert mariam["office"] == "niamey"
    assert mariam["languages"] == ["fr", "en"]
    assert mariam["rank"] == 1
    assert [p["e164"] for p in mariam["phone_numbers"]] == ["+22793123456", "+22720201234"]


def test_filters_combine(loaded) -> None:
    """Office, language and role filters each narrow the list, and combine."""
    assert set(names(loaded("contact", "list", "--office", "niamey", "--json"))) == {
        "Mariam Diallo",
        "Ousmane Kountché-Abdou",
        "Aïssata Traoré",
    }
    assert set(names(loaded("contact", "list", "--language", "en", "--json"))) == {
        "Mariam Diallo",
        "Pieter de Vries",
        "Hannah Okafor-Lindqvist",
        "Julien Marchetti",
    }
    assert names(
        loaded(
            "contact",
            "list",
            "--office",
            "the-hague",
            "--language",
            "fr",
            "--role",
            "spokesperson",
            "--json",
        )
    ) == ["Julien Marchetti"]


def test_role_ignores_case_and_accents(loaded) -> None:
    """ "CHARGEE de presse" finds "Chargée de presse pour le Mali"."""
    assert names(loaded("contact", "list", "--role", "CHARGEE de presse", "--json")) == [
        "Aïssata Traoré"
    ]
    # "press" finds the English "Press Officer" and the French "Chargée de presse" alike.
    assert names(
        loaded(
            "contact", "list", "--office", "niamey", "--language", "fr", "--role", "press", "--json"
        )
    ) == ["Mariam Diallo", "Aïssata Traoré"]


def test_unknown_office_filter_is_an_error(loaded) -> None:
    """Filtering on an office that does not exist is an error, not an empty list."""
    result = loaded("contact", "list", "--office", "dakar", expect=2)
    assert 'unknown office "dakar" (known: niamey, the-hague)' in result.stderr


def test_import_twice_changes_nothing(loaded, data_dir: Path) -> None:
    """Importing the same contacts again leaves every contact unchanged."""
    result = loaded("contact", "import", str(data_dir / "contacts.csv"))
    assert "0 created, 0 updated, 6 unchanged" in result.stderr


def test_export_csv_imports_back_unchanged(loaded, tmp_path: Path) -> None:
    """An exported CSV re-imports as six unchanged contacts, numbers and WhatsApp flags kept."""
    out = tmp_path / "export.csv"
    loaded("contact", "export", "--format", "csv", "--output", str(out))
    before = json.loads(loaded("contact", "list", "--json").stdout)
    result = loaded("contact", "import", str(out))
    assert "0 created" in result.stderr
    after = json.loads(loaded("contact", "list", "--json").stdout)
    assert [
        [(p["e164"], p["whatsapp"], p["extension"]) for p in c["phone_numbers"]] for c in after
    ] == [[(p["e164"], p["whatsapp"], p["extension"]) for p in c["phone_numbers"]] for c in before]


def test_export_json(loaded) -> None:
    """`contact export --format json` writes the same objects as `contact list --json`."""
    exported = json.loads(loaded("contact", "export", "--format", "json").stdout)
    assert exported == json.loads(loaded("contact", "list", "--json").stdout)


def test_add_show_edit_remove(loaded) -> None:
    """A contact added by hand can be shown, edited and removed."""
    loaded(
        "contact",
        "add",
        "--name",
        "Nadia Benali",
        "--office",
        "niamey",
        "--email",
        "NBenali@Example.org",
        "--role",
        "Chargée de communication",
        "--language",
        "fr",
        "--language",
        "ar",
        "--phone",
        "93 12 34 56 (WhatsApp)",
    )
    shown = loaded("contact", "show", "nbenali@example.org").stdout
    assert "Nadia Benali" in shown
    assert "+227 93 12 34 56 (WhatsApp)" in shown and shown.count("WhatsApp") == 1
    loaded(
        "contact",
        "edit",
        "nbenali@example.org",
        "--role",
        "Porte-parole",
        "--inactive",
        "--rank",
        "7",
    )
    data = json.loads(loaded("contact", "show", "nbenali@example.org", "--json").stdout)
    assert (data["role"], data["active"], data["rank"], data["languages"]) == (
        "Porte-parole",
        False,
        7,
        ["fr", "ar"],
    )
    assert "Nadia Benali" not in names(loaded("contact", "list", "--active-only", "--json"))
    loaded("contact", "remove", "nbenali@example.org", "--yes")
    assert loaded("contact", "show", "nbenali@example.org", expect=2).stderr.startswith(
        "error: no press contact"
    )


def test_remove_without_terminal_needs_yes(loaded) -> None:
    """Removing from a script without --yes is refused and removes nothing."""
    loaded("contact", "remove", "mdiallo@example.org", expect=2)
    assert "Mariam Diallo" in names(loaded("contact", "list", "--json"))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "Jo,dakar,Role,fr,jo@example.org,,1",
            'contacts.csv row 3, office: unknown office "dakar"',
        ),
        (
            "Jo,niamey,Role,fr;zz,jo@example.org,,1",
            'contacts.csv row 3, languages: "zz" is not a known language',
        ),
        (
            "Jo,niamey,Role,fr,jo@,,1",
            'contacts.csv row 3, email: "jo@" is not a valid email address',
        ),
        (
            "Jo,niamey,Role,fr,jo@example.org,,first",
            'contacts.csv row 3, rank: "first" is not a whole number',
        ),
        (",niamey,Role,fr,jo@example.org,,1", "contacts.csv row 3, name: name is empty"),
        (
            "Jo,niamey,Role,fr,MDiallo@example.org,,1",
            "contacts.csv row 3, email: mdiallo@example.org is already on row 2",
        ),
    ],
)
def test_bad_rows_apply_nothing(
    cli, data_dir: Path, tmp_path: Path, row: str, message: str
) -> None:
    """One bad row stops the whole file with file, row and field, exit 2."""
    cli("office", "import", str(data_dir / "offices.csv"))
    path = tmp_path / "contacts.csv"
    path.write_text(
        HEADER + "Mariam,niamey,Press,fr,mdiallo@example.org,,1\n" + row + "\n", encoding="utf-8"
    )
    result = cli("contact", "import", str(path), expect=2)
    assert message in result.stderr
    assert json.loads(cli("contact", "list", "--json").stdout) == []


def test_every_bad_row_is_listed(cli, data_dir: Path, tmp_path: Path) -> None:
    """Several bad rows are all listed, with a hint to import the good ones."""
    cli("office", "import", str(data_dir / "offices.csv"))
    path = tmp_path / "contacts.csv"
    path.write_text(
        HEADER + "A,niamey,R,fr,a@example.org,,1\nB,nowhere,R,fr,b@example.org,,1\n"
        "C,niamey,R,fr,c@,,1\nD,niamey,R,fr,d@example.org,,1\n",
        encoding="utf-8",
    )
    result = cli("contact", "import", str(path), expect=2)
    assert "2 problems, nothing was imported" in result.stderr
    assert "row 3, office" in result.stderr and "row 4, email" in result.stderr
    assert "pass --skip-invalid to import the 2 good rows" in result.stderr
    cli("contact", "import", str(path), "--skip-invalid")
    assert names(cli("contact", "list", "--json")) == ["A", "D"]


def test_invalid_number_is_kept_and_reported(cli, data_dir: Path, tmp_path: Path) -> None:
    """A placeholder number is imported as typed, marked not valid, with a warning for its row."""
    cli("office", "import", str(data_dir / "offices.csv"))
    path = tmp_path / "contacts.csv"
    path.write_text(
        HEADER + 'A,niamey,R,fr,a@example.org,"(+227) 20 72 xx xx",1\n', encoding="utf-8"
    )
    result = cli("contact", "import", str(path))
    assert "contacts.csv row 2, phones:" in result.stderr and "placeholder" in result.stderr
    phone = json.loads(cli("contact", "show", "a@example.org", "--json").stdout)["phone_numbers"][0]
    assert (
        phone["valid"] is False and phone["e164"] is None and phone["raw"] == "(+227) 20 72 xx xx"
    )


def test_every_bad_cell_of_a_row_is_named(cli, data_dir: Path, tmp_path: Path) -> None:
    """A row with three bad cells gets three lines, each naming its field; a short row and a
    long one are reported as such."""
    cli("office", "import", str(data_dir / "offices.csv"))
    path = tmp_path / "contacts.csv"
    path.write_text(
        HEADER + "A,nowhere,R,fr;zz,a@,,high\nB,niamey,R,fr\nC,niamey,R,fr,c@example.org,,1,x,y\n",
        encoding="utf-8",
    )
    result = cli("contact", "import", str(path), expect=2)
    for line in (
        'contacts.csv row 2, office: unknown office "nowhere"',
        "contacts.csv row 2, languages:",
        "contacts.csv row 2, email:",
        'contacts.csv row 2, rank: "high" is not a whole number',
        "contacts.csv row 3: 4 of 7 cells",
        "contacts.csv row 4: 2 more cells than columns",
    ):
        assert line in result.stderr, line
    assert "6 problems, nothing was imported" in result.stderr


def test_a_misspelt_column_is_named_with_the_nearest(cli, data_dir: Path, tmp_path: Path) -> None:
    """An unknown header is named, with the expected column it most resembles."""
    path = tmp_path / "offices.csv"
    text = (data_dir / "offices.csv").read_text(encoding="utf-8").replace("timezone", "time_zone")
    path.write_text(text, encoding="utf-8")
    result = cli("office", "import", str(path), expect=2)
    assert (
        'offices.csv row 1: unknown column "time_zone"; did you mean "timezone"?' in result.stderr
    )


def test_windows_spreadsheets_are_recognised_and_read(cli, data_dir: Path, tmp_path: Path) -> None:
    """A cp1252 file is refused with a hint naming the encoding; --encoding cp1252 reads it."""
    cli("office", "import", str(data_dir / "offices.csv"))
    path = tmp_path / "contacts.csv"
    path.write_bytes(
        (HEADER + "Aïssata Maïga,niamey,Chargée de presse,fr,am@example.org,,1\n").encode("cp1252")
    )
    refused = cli("contact", "import", str(path), expect=2)
    assert "not UTF-8" in refused.stderr and "cp1252" in refused.stderr
    assert "--encoding cp1252" in refused.stderr
    cli("contact", "import", str(path), "--encoding", "cp1252")
    assert names(cli("contact", "list", "--json")) == ["Aïssata Maïga"]
    bad = cli("contact", "import", str(path), "--encoding", "klingon", expect=2)
    assert "utf-8, cp1252, latin-1" in bad.stderr


def test_many_problems_are_counted_after_fifty(cli, data_dir: Path, tmp_path: Path) -> None:
    """Past 50 problems the rest are counted, not printed."""
    cli("office", "import", str(data_dir / "offices.csv"))
    path = tmp_path / "contacts.csv"
    rows = "".join(f"P{i},nowhere,R,fr,p{i}@example.org,,1\n" for i in range(60))
    path.write_text(HEADER + rows, encoding="utf-8")
    result = cli("contact", "import", str(path), expect=2)
    assert result.stderr.count("unknown office") == 50
    assert "... and 10 more problems" in result.stderr


def test_allowed_values_are_in_the_help() -> None:
    """`outlet add --help` lists the outlet kinds and says what a language code looks like."""
    from typer.testing import CliRunner

    from civic_contacts.cli import app
    from civic_contacts.registry.importing import OUTLET_KINDS

    shown = CliRunner().invoke(app, ["outlet", "add", "--help"], env={"COLUMNS": "240"}).stdout
    assert all(kind in shown for kind in OUTLET_KINDS) and "BCP 47" in shown


def test_roles_by_language_import_show_edit_and_export(loaded, tmp_path: Path) -> None:
    """`role_fr`, `role_en`… columns give a contact's role in other languages: shown, edited
    with --role-in, exported as columns and imported back unchanged; a file without those
    columns leaves them alone."""
    mariam = json.loads(loaded("contact", "show", "mdiallo@example.org", "--json").stdout)
    assert mariam["role"] == "Press Officer for the Sahel"
    assert mariam["roles"] == {"fr": "Chargée de presse pour le Sahel"}
    assert (
        "role [fr]: Chargée de presse pour le Sahel"
        in loaded("contact", "show", "mdiallo@example.org").stdout
    )
    loaded(
        "contact",
        "edit",
        "mdiallo@example.org",
        "--role-in",
        "ha=Jami'ar yada labarai",
        "--role-in",
        "fr=",
    )
    edited = json.loads(loaded("contact", "show", "mdiallo@example.org", "--json").stdout)
    assert edited["roles"] == {"ha": "Jami'ar yada labarai"}
    out = tmp_path / "export.csv"
    loaded("contact", "export", "--format", "csv", "--output", str(out))
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",active,role_en,role_fr,role_ha"), header
    assert "0 created, 0 updated, 6 unchanged" in loaded("contact", "import", str(out)).stderr
    plain = tmp_path / "plain.csv"
    plain.write_text(
        HEADER + "Mariam Diallo,niamey,Press Officer for the Sahel,fr;en,mdiallo@example.org,"
        '"93 12 34 56 (mobile), +227 20 20 12 34 poste 215 (bureau)",1\n',
        encoding="utf-8",
    )
    loaded("contact", "import", str(plain))
    kept = json.loads(loaded("contact", "show", "mdiallo@example.org", "--json").stdout)
    assert kept["roles"] == {"ha": "Jami'ar yada labarai"}


def test_a_bad_role_language_is_named(loaded, tmp_path: Path) -> None:
    """A `role_LANG` column whose LANG is no language code, or a bad --role-in, is refused
    with the file, row and column (or the option) and nothing changes."""
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,office,role,languages,email,phones,rank,role_xq9\n"
        "Mariam Diallo,niamey,Press Officer,fr,mdiallo@example.org,,1,Chargée\n",
        encoding="utf-8",
    )
    result = loaded("contact", "import", str(bad), expect=2)
    assert "bad.csv row 2, role_xq9:" in result.stderr and "language code" in result.stderr
    result = loaded("contact", "edit", "mdiallo@example.org", "--role-in", "Porte-parole", expect=2)
    assert result.stderr.startswith("error: --role-in:") and "LANG=ROLE" in result.stderr
    mariam = json.loads(loaded("contact", "show", "mdiallo@example.org", "--json").stdout)
    assert mariam["roles"] == {"fr": "Chargée de presse pour le Sahel"}


def test_extract_import_merges_and_shows_conflicts(loaded, tmp_path: Path) -> None:
    """`contact extract --import` matches by email, then by name within the office: new
    numbers are added, what the registry says is kept and each difference is shown as a
    conflict (taken only with --replace); desks come in only with --include-desks;
    --dry-run says all this and changes nothing."""
    release = tmp_path / "release.md"
    release.write_text(
        "Body.\n\nMedia contacts:\n"
        "In Niamey: Mariam Diallo, Regional Spokesperson: mdiallo@example.org,"
        " +227 93 12 34 56, +227 20 72 34 56\n"
        "Ousmane Kountché-Abdou, okountche.new@example.org\n"
        "Media desk: press.niamey@example.org\n"
        "Nadia Benali, Chargée de communication: nbenali@example.org, +227 93 12 34 57\n",
        encoding="utf-8",
    )
    before = loaded("contact", "list", "--json").stdout
    args = ["contact", "extract", str(release), "--import", "--office", "niamey"]
    dry = " ".join(loaded(*args, "--dry-run").stderr.split())
    assert "would add Nadia Benali <nbenali@example.org>: new contact of niamey" in dry
    assert "would update Mariam Diallo <mdiallo@example.org>: add number +227 20 72 34 56" in dry
    assert (
        'would conflict Mariam Diallo <mdiallo@example.org>: role is "Press Officer for the Sahel"'
        in dry
    )
    assert 'email is "okountche@example.org", the release says "okountche.new@example.org"' in dry
    assert "would skip Media desk (desk) <press.niamey@example.org>: a desk" in dry
    assert "(dry run: nothing was changed)" in dry
    assert loaded("contact", "list", "--json").stdout == before
    done = " ".join(loaded(*args).stderr.split())
    assert "contacts: 1 created, 1 updated, 1 unchanged, 2 conflict(s), 1 skipped" in done
    mariam = json.loads(loaded("contact", "show", "mdiallo@example.org", "--json").stdout)
    assert mariam["role"] == "Press Officer for the Sahel"
    assert [p["e164"] for p in mariam["phone_numbers"]] == [
        "+22793123456",
        "+22720201234",
        "+22720723456",
    ]
    again = " ".join(loaded(*args, "--replace", "--include-desks").stderr.split())
    assert 'role "Press Officer for the Sahel" replaced by "Regional Spokesperson"' in again
    assert "add Media desk (desk) <press.niamey@example.org>" in again
    assert json.loads(loaded("contact", "show", "mdiallo@example.org", "--json").stdout)[
        "role"
    ] == ("Regional Spokesperson")
    assert loaded("contact", "show", "okountche.new@example.org", "--json").stdout
    refused = loaded("contact", "extract", str(release), "--dry-run", expect=2)
    assert "go with --import" in refused.stderr
