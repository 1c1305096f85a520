"""Beats and topics from the command line (issue 39): the topics vocabulary, beats on
journalists and outlets (options, CSV and vCard), releases with topics, and what routing and
a build do with them, each journalist in or out with the reason."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from civic_contacts.registry.preferences import Choices, save_choices


def release_files(data_dir: Path, folder: Path, slug: str, front: str) -> list[str]:
    """The demo release's two languages under another slug, with more front matter."""
    paths = []
    for language in ("en", "fr"):
        source = (data_dir / "releases" / f"sahel-civilians.{language}.md").read_text("utf-8")
        head, body = source.split("+++\n", 2)[1:]
        head = head.replace('slug = "sahel-civilians"', f'slug = "{slug}"')
        target = folder / f"{slug}.{language}.md"
        target.write_text(f"+++\n{head}{front}\n+++\n{body}", encoding="utf-8")
        paths.append(str(target))
    return paths


@pytest.fixture
def topics(demo):
    for code, label in (("water", "eau"), ("mali", "Mali"), ("football", "football")):
        demo("topic", "add", code, "--label-in", f"fr={label}")
    return demo


def journalists(demo) -> dict[str, dict]:
    return {j["email"]: j for j in json.loads(demo("journalist", "list", "--json").stdout)}


def test_the_vocabulary_of_topics(demo) -> None:
    """Topics are added with their names, listed, named again, and removed only when unused."""
    assert "created" in demo("topic", "add", "water", "--label-in", "fr=eau").stderr
    assert "updated" in demo("topic", "add", "Water", "--label-in", "nl=water").stderr
    assert "unchanged" in demo("topic", "add", "water").stderr
    listed = json.loads(demo("topic", "list", "--json").stdout)
    assert listed == [{"code": "water", "labels": {"fr": "eau", "nl": "water"}}]
    bad = demo("topic", "add", "eau", "--label-in", "eau", expect=2)
    assert "--label-in" in bad.stderr and "LANGUAGE=LABEL" in bad.stderr
    demo("journalist", "edit", "adama.kone@example.com", "--beats", "water")
    used = demo("topic", "remove", "water", expect=2)
    assert 'topic "water" is still used by 1 journalists; nothing was removed' in used.stderr
    demo("journalist", "edit", "adama.kone@example.com", "--clear", "beats")
    assert "removed" in demo("topic", "remove", "water").stderr
    assert json.loads(demo("topic", "list", "--json").stdout) == []
    history = demo("history", "topic", "water").stdout
    assert "removed" in history and "created" in history


def test_beats_on_journalists_and_outlets_are_known_topics(topics) -> None:
    """--beats takes known topics only; a typo is refused with the known ones named and
    nothing changed."""
    email = "adama.kone@example.com"
    said = topics("journalist", "edit", email, "--beats", "Water;mali").stderr
    assert "beats: (empty) → water; mali" in said
    refused = topics("journalist", "edit", email, "--beats", "watr", expect=2)
    assert 'error: --beats: unknown topic "watr" (known: football, mali, water;' in refused.stderr
    assert journalists(topics)[email]["beats"] == ["water", "mali"]
    topics("outlet", "edit", "radio-kayes-info", "--beats", "football")
    outlet = next(
        o
        for o in json.loads(topics("outlet", "list", "--json").stdout)
        if o["slug"] == "radio-kayes-info"
    )
    assert outlet["beats"] == ["football"]


def test_csv_imports_and_exports_carry_beats(topics, tmp_path: Path) -> None:
    """A `beats` column is read (a bad topic names its file, row and column, and nothing is
    written), written by export, and an exported file imports back unchanged."""
    exported = tmp_path / "j.csv"
    topics("journalist", "export", "--output", str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text("utf-8-sig"))))
    assert "beats" in rows[0]
    rows[0]["beats"] = "water;mali"
    rows[1]["beats"] = "football"
    rows[2]["beats"] = "waterr"
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    refused = topics("journalist", "import", str(bad), expect=2)
    assert 'bad.csv row 4, beats: unknown topic "waterr"' in refused.stderr
    assert all(not j["beats"] for j in journalists(topics).values())
    rows[2]["beats"] = ""
    good = tmp_path / "good.csv"
    with good.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    topics("journalist", "import", str(good))
    now = journalists(topics)
    assert now[rows[0]["email"]]["beats"] == ["water", "mali"]
    assert now[rows[1]["email"]]["beats"] == ["football"]
    again = tmp_path / "again.csv"
    topics("journalist", "export", "--output", str(again))
    assert "0 created, 0 updated, 41 unchanged" in topics("journalist", "import", str(again)).stderr


def test_vcard_categories_that_name_a_topic_become_beats(topics, tmp_path: Path) -> None:
    """CATEGORIES as Google and Apple write them: a topic's code or one of its names is a
    beat; the address book's own groups are passed over."""
    card = tmp_path / "people.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mariama Bah\r\nN:Bah;Mariama;;;\r\n"
        "EMAIL;TYPE=WORK:mariama.bah@example.com\r\nORG:Agence Sahel Presse\r\n"
        "CATEGORIES:myContacts,Eau,Friends,mali\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    topics("journalist", "import", str(card))
    assert journalists(topics)["mariama.bah@example.com"]["beats"] == ["water", "mali"]


def test_a_release_with_topics_goes_to_the_beats_it_meets(
    topics, data_dir: Path, tmp_path: Path
) -> None:
    """route show says for each journalist why they are in or out; the build leaves out the
    ones whose beats miss, says so, and a rebuild after a beat changes cancels the message
    that journalist had pending."""
    topics("journalist", "edit", "adama.kone@example.com", "--beats", "football")
    topics("journalist", "edit", "boubacar.maiga@example.com", "--beats", "water")
    topics("outlet", "edit", "courrier-de-niamey", "--beats", "football")
    topics("release", "add", *release_files(data_dir, tmp_path, "water-mali", 'topics = ["water"]'))
    routed = json.loads(topics("route", "show", "water-mali", "--json").stdout)
    by_outlet = {r["outlet"]: r for r in routed}
    asp = by_outlet["agence-sahel-presse"]
    assert {
        "name": "Adama Koné",
        "email": "adama.kone@example.com",
        "why": "no shared beat (covers football)",
    } in asp["left_out"]
    assert {
        "name": "Boubacar Maïga",
        "email": "boubacar.maiga@example.com",
        "why": "beat water matches",
    } in asp["why_in"]
    courrier = by_outlet["courrier-de-niamey"]
    assert courrier["journalists"] == 0
    assert {j["why"] for j in courrier["left_out"]} == {"no shared beat (outlet covers football)"}
    table = topics("route", "show", "water-mali", "--outlet", "agence-sahel-presse").stdout
    assert "out: Adama Koné" in table and "in: Boubacar Maïga" in table

    out = tmp_path / "wm"
    built = topics("batch", "build", "water-mali", "--out", str(out)).stderr
    assert "left out 4 by beats and their own choices:" in built
    assert "adama.kone@example.com (agence-sahel-presse): no shared beat (covers football)" in built
    manifest = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines() if x]
    emails = {m["email"] for m in manifest}
    assert "adama.kone@example.com" not in emails and "boubacar.maiga@example.com" in emails
    preview = (out / "preview.html").read_text("utf-8")
    assert "Left out: adama.kone@example.com (agence-sahel-presse)" in preview

    topics("journalist", "edit", "boubacar.maiga@example.com", "--beats", "football")
    rebuilt = topics("batch", "build", "water-mali", "--out", str(tmp_path / "wm2")).stderr
    assert "1 cancelled (no longer on the list)" in rebuilt
    status = json.loads(topics("batch", "status", "water-mali", "--json").stdout)
    assert status["pending"] == len(emails) - 1


def test_a_topic_nobody_on_the_list_covers_is_a_coverage_gap(
    topics, data_dir: Path, tmp_path: Path
) -> None:
    """Only for its topics (topics_open = false), and no journalist covers mali: the build
    sends nothing and says which topic nobody covers; route coverage says so too."""
    topics("journalist", "edit", "boubacar.maiga@example.com", "--beats", "water")
    files = release_files(
        data_dir, tmp_path, "mali-only", 'topics = ["water", "mali"]\ntopics_open = false'
    )
    topics("release", "add", *files)
    assert "(only journalists with those beats)" in topics("release", "show", "mali-only").stdout
    built = topics("batch", "build", "mali-only", "--out", str(tmp_path / "m")).stderr
    assert "built 1 messages" in built
    assert "no journalist on the list covers topic mali" in built
    gaps = json.loads(topics("route", "coverage", "--release", "mali-only", "--json").stdout)
    assert {
        "outlet": None,
        "languages": [],
        "language": None,
        "problem": "no journalist on the list covers topic mali",
        "could": [],
    } in gaps
    unknown = release_files(data_dir, tmp_path, "bad-topic", 'topics = ["wather"]')
    refused = topics("release", "add", *unknown, expect=2)
    assert 'bad-topic.en.md, topics: unknown topic "wather"' in refused.stderr


def test_the_weekly_cap_and_the_embargo_refusal_hold_in_a_build(
    topics, db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    """A journalist who takes at most one release a week and was sent one two days ago, and
    one who takes no embargoed material, are left out of an embargoed build, each with the
    reason; the same release without an embargo reaches the second."""
    from civic_contacts.db import session_factory
    from civic_contacts.registry import store as registry

    engine = create_engine(db_url)
    with session_factory(engine)() as session, session.begin():
        capped = registry.get_journalist(session, "adama.kone@example.com")
        save_choices(session, capped, Choices(weekly_cap=1))
        shy = registry.get_journalist(session, "fatoumata.sangare@example.com")
        save_choices(session, shy, Choices(accepts_embargoed=False))
        session.execute(
            text(
                "UPDATE deliveries SET status = 'sent', sent_at = :at"
                " WHERE email = 'adama.kone@example.com' AND notice_id IS NULL"
            ),
            {"at": dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=2)},
        )
    engine.dispose()
    topics("release", "add", *release_files(data_dir, tmp_path, "second", ""))
    built = topics("batch", "build", "second", "--out", str(tmp_path / "s")).stderr
    assert (
        "adama.kone@example.com (agence-sahel-presse): weekly cap of 1 reached (1 in the last 7 days)"
        in built
    )
    assert (
        "fatoumata.sangare@example.com (agence-sahel-presse): does not take embargoed material"
        in built
    )
    history = json.loads(
        topics("history", "journalist", "fatoumata.sangare@example.com", "--json").stdout
    )
    assert (history[0]["by"], history[0]["command"]) == ("journalist", "preference page")
    shown = topics("journalist", "show", "adama.kone@example.com").stdout
    assert "chose:     at most 1 a week" in shown
