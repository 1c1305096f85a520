"""Release files: front matter, embargo instants, and every way they can be wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from civic_contacts.errors import InvalidRelease
from civic_contacts.releases.store import combine, parse_embargo, read_release_file


def release_file(tmp_path: Path, name: str, **meta: str) -> Path:
    values = {
        "slug": '"floods"',
        "lang": '"en"',
        "office": '"the-hague"',
        "concerns": '["ML", "NE"]',
        "embargo": '"2031-03-10T00:01:00Z"',
        "title": '"Floods"',
        "dateline": '"Niamey"',
    }
    values.update(meta)
    front = "\n".join(f"{k} = {v}" for k, v in values.items() if v is not None and v != "DROP")
    path = tmp_path / name
    path.write_text(f"+++\n{front}\n+++\nBody text.\n", encoding="utf-8")
    return path


def test_embargo_with_offset_is_stored_in_utc() -> None:
    """An embargo with an offset is the same instant in UTC."""
    assert parse_embargo("2031-03-10T01:01:00+01:00", "f") == dt.datetime(
        2031, 3, 10, 0, 1, tzinfo=dt.UTC
    )
    assert parse_embargo("none", "f") is None


def test_embargo_without_offset_is_refused() -> None:
    """A naive time is refused with the fix: say Z or +01:00."""
    with pytest.raises(InvalidRelease, match="say Z or \\+01:00"):
        parse_embargo("2031-03-10T00:01:00", "a.md")


def test_toml_datetime_literal_is_read(tmp_path: Path) -> None:
    """A bare TOML datetime with offset works; a local one is refused."""
    assert read_release_file(release_file(tmp_path, "a.md", embargo="2031-03-10T00:01:00Z")).embargo
    with pytest.raises(InvalidRelease, match="no offset"):
        read_release_file(release_file(tmp_path, "b.md", embargo="2031-03-10T00:01:00"))


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"title": "DROP"}, "a.md, title: missing"),
        ({"lang": '"klingon"'}, 'a.md, lang: "klingon" is not a language code'),
        ({"lang": '"xx"'}, 'a.md, lang: "xx" is not a known language code'),
        ({"concerns": '["ZZ"]'}, 'a.md, concerns: "ZZ" is not an ISO 3166'),
        ({"embargo": '"tomorrow"'}, 'a.md, embargo: "tomorrow" is not an RFC 3339 time'),
        (
            {"embargo": "DROP"},
            'a.md, embargo: missing; give the lift (embargo = "2031-03-10T00:01:00Z")',
        ),
        ({"embargo": '""'}, 'a.md, embargo: empty; give the lift or "none"'),
        ({"embargo": '"0001-01-01T00:00:00+01:00"'}, "is not a year between 1970 and 2999"),
        ({"embargo": '"9999-12-31T23:59:00Z"'}, "is not a year between 1970 and 2999"),
        ({"colour": '"red"'}, "a.md, colour: unknown key"),
        ({"keep_contact_block": '"yes"'}, "a.md, keep_contact_block: 'yes' is not true or false"),
    ],
)
def test_bad_front_matter(tmp_path: Path, meta: dict, message: str) -> None:
    """Each bad key gives the file and key."""
    with pytest.raises(InvalidRelease) as info:
        read_release_file(release_file(tmp_path, "a.md", **meta))
    assert message in info.value.message


def test_no_front_matter(tmp_path: Path) -> None:
    """A file without +++ says so."""
    path = tmp_path / "a.md"
    path.write_text("# Title\n", encoding="utf-8")
    with pytest.raises(InvalidRelease, match="no front matter"):
        read_release_file(path)


def test_two_files_for_one_language(tmp_path: Path) -> None:
    """Two English files for one release are refused."""
    files = [read_release_file(release_file(tmp_path, n)) for n in ("a.md", "b.md")]
    with pytest.raises(InvalidRelease, match="a second en file"):
        combine(files)


def test_files_must_agree(tmp_path: Path) -> None:
    """Two languages of one release must agree on the embargo."""
    files = [
        read_release_file(release_file(tmp_path, "a.md")),
        read_release_file(
            release_file(tmp_path, "b.md", lang='"fr"', embargo='"2031-03-11T00:01:00Z"')
        ),
    ]
    with pytest.raises(InvalidRelease, match=r"b\.md, embargo: differs from a\.md"):
        combine(files)


def test_add_list_show_and_update(cli, data_dir: Path, tmp_path: Path) -> None:
    """A release is added from its files, listed and shown; adding changed files is refused,
    `release update` records a revision with what changed."""
    cli("office", "import", str(data_dir / "offices.csv"))
    en = release_file(tmp_path, "f.en.md")
    fr = release_file(tmp_path, "f.fr.md", lang='"fr"', title='"Inondations"')
    assert (
        "release floods: created (revision 1; en, fr; embargo 2031-03-10 00:01 UTC)"
        in cli("release", "add", str(en), str(fr)).stderr
    )
    listed = json.loads(cli("release", "list", "--json").stdout)
    assert [(r["slug"], r["languages"]) for r in listed] == [("floods", ["en", "fr"])]
    moved_en = release_file(tmp_path, "g.en.md", embargo='"2031-03-11T00:01:00+02:00"')
    moved_fr = release_file(tmp_path, "g.fr.md", lang='"fr"', embargo='"2031-03-11T00:01:00+02:00"')
    refused = cli("release", "add", str(moved_en), str(moved_fr), expect=2).stderr
    assert "already exists (revision 1, embargo 2031-03-10 00:01 UTC)" in refused
    assert (
        f"hint: to record a new revision run: civic-contacts release update {moved_en}" in refused
    )
    updated = cli("release", "update", str(moved_en), str(moved_fr)).stderr
    assert "release floods: revision 2" in updated
    assert "embargo moved later by 22 hours (2031-03-10 00:01 -> 2031-03-10 22:01 UTC)" in updated
    assert "fr: title changed" in updated and "en:" not in updated
    shown = json.loads(cli("release", "show", "floods", "--json").stdout)
    assert shown["embargo"].startswith("2031-03-10T22:01:00")
    assert shown["embargo_sequence"] == 1 and shown["revision"] == 2
    assert [(r["number"], r["changes"][0]) for r in shown["revisions"]] == [
        (1, "created"),
        (2, "embargo moved later by 22 hours (2031-03-10 00:01 -> 2031-03-10 22:01 UTC)"),
    ]
    again = cli("release", "add", str(moved_en), str(moved_fr)).stderr
    assert "unchanged (revision 2;" in again
    assert "unchanged (revision 2)" in cli("release", "update", str(moved_en)).stderr
    assert [t["title"] for t in shown["translations"]] == ["Floods", "Floods"]
    assert "revisions:" in cli("release", "show", "floods").stdout


def test_unknown_office_is_refused(cli, tmp_path: Path) -> None:
    """A release for an office not in the registry is refused, nothing added."""
    result = cli("release", "add", str(release_file(tmp_path, "a.md", office='"dakar"')), expect=2)
    assert 'unknown office "dakar"' in result.stderr
    assert json.loads(cli("release", "list", "--json").stdout) == []


def test_naive_embargo_from_the_command_line(cli, tmp_path: Path) -> None:
    """The embargo error reaches the user as one line, exit 2."""
    result = cli(
        "release",
        "add",
        str(release_file(tmp_path, "a.md", embargo='"2031-03-10 00:01"')),
        expect=2,
    )
    assert result.stderr.startswith("error: a.md, embargo:") and "say Z or +01:00" in result.stderr


@pytest.mark.parametrize(
    "block",
    [
        # The seed's own shape in French, run together in one paragraph (typographic
        # apostrophe, no-break spaces before the colons).
        "Pour plus d’informations, veuillez contacter\u00a0: À Niamey\u00a0: Zara Example, chargée"
        " de presse\u00a0: z@example.org À La Haye\u00a0: Piet Example, responsable médias\u00a0:"
        " p@example.org, +31 6 12345678 (WhatsApp)",
        "Voor meer informatie kunt u contact opnemen met: Piet Example, woordvoerder:"
        " p@example.org, +31 6 12345678",
        "Für weitere Informationen wenden Sie sich bitte an: Piet Example, Pressesprecher:"
        " p@example.org, +31 6 12345678",
        "Pressekontakt:\nPiet Example\np@example.org",
    ],
    ids=["fr-one-paragraph", "nl", "de", "de-lines"],
)
def test_the_bodys_own_contact_block_is_left_out_in_every_language(block: str) -> None:
    """A release's closing contact block, in French, Dutch or German as in English, is left
    out of messages (the routed contacts end each message instead)."""
    from civic_contacts.releases.store import message_body

    body = f"The first paragraph of the release.\n\n{block}\n"
    assert message_body(body) == "The first paragraph of the release.\n"
