"""A release written back as the file `release add` reads: every field comes back the same,
whatever the text holds (quotes, backslashes, accents, TOML's own syntax)."""

from __future__ import annotations

from pathlib import Path

from civic_contacts.db import session_factory
from civic_contacts.releases import store
from civic_contacts.releases.file_text import release_file_text

TRICKY = 'Le "plan" \\ d\'urgence : 1 = 1 ] [x] +++ é'


def test_a_release_reads_back_as_it_was(demo, engine, tmp_path: Path) -> None:
    with session_factory(engine)() as session:
        release = store.get_release(session, "sahel-civilians")
        release.link = "https://press.example.org/sahel"
        release.topics, release.topics_open = [], False
        release.fallback = ["fr"]
        release.keep_contact_block = True
        french = next(t for t in release.translations if t.language == "fr")
        french.title = TRICKY
        french.body = "Premier paragraphe.\n\n+++\n\nDernier \\ paragraphe.\n"
        session.flush()
        path = tmp_path / "back.fr.md"
        path.write_text(release_file_text(release, "fr"), encoding="utf-8")
        read = store.read_release_file(path)
        assert (read.slug, read.language, read.office) == ("sahel-civilians", "fr", "the-hague")
        assert read.title == TRICKY and read.body == french.body
        assert read.embargo == release.embargo and read.concerns == release.concerns
        assert read.link == release.link and read.fallback == ["fr"]
        assert read.keep_contact_block is True and read.topics_open is False
