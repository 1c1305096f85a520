"""Revisions: what changed between two texts, in words, and moments typed by people."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from civic_contacts.db import make_engine
from civic_contacts.errors import InputError
from civic_contacts.migrations import alembic_config
from civic_contacts.releases.embargo import parse_moment
from civic_contacts.releases.store import embargo_move, paragraph_changes

UTC = dt.UTC


def test_paragraph_changes_name_changed_added_and_removed_paragraphs() -> None:
    old = "One.\n\nTwo has\na line break.\n\nThree.\n\nFour.\n"
    new = "One.\n\nTwo has a line break.\n\nThree, corrected.\n\nFour.\n\nFive.\n"
    found = [(c.kind, c.number, c.text) for c in paragraph_changes(old, new)]
    assert found == [("changed", 3, "Three, corrected."), ("added", 5, "Five.")]
    gone = [(c.kind, c.number) for c in paragraph_changes(old, "One.\n\nFour.\n")]
    assert gone == [("removed", 2), ("removed", 3)]
    assert paragraph_changes(old, old.replace("\n\n", "\n \n")) == []


def test_embargo_moves_in_words() -> None:
    a = dt.datetime(2031, 3, 10, 0, 1, tzinfo=UTC)
    assert embargo_move(a, a + dt.timedelta(days=2)).startswith("embargo moved later by 2 days (")
    assert embargo_move(a, a - dt.timedelta(hours=1, minutes=30)).startswith(
        "embargo moved earlier by 1 hour 30 minutes"
    )
    assert embargo_move(a, None).startswith("embargo removed (was 2031-03-10 00:01 UTC)")
    assert embargo_move(None, a) == "embargo set: 2031-03-10 00:01 UTC"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2031-03-09T23:00:00Z", dt.datetime(2031, 3, 9, 23, 0, tzinfo=UTC)),
        ("2031-03-10T00:30:00+01:00", dt.datetime(2031, 3, 9, 23, 30, tzinfo=UTC)),
        ("2031-03-10 00:01 Africa/Niamey", dt.datetime(2031, 3, 9, 23, 1, tzinfo=UTC)),
        ("2031-07-10 09:00 Europe/Amsterdam", dt.datetime(2031, 7, 10, 7, 0, tzinfo=UTC)),
    ],
)
def test_moments_people_type(typed: str, expected: dt.datetime) -> None:
    assert parse_moment(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["tomorrow", "2031-03-10 00:01", "2031-03-10T00:01:00", "2031-03-10 00:01 Mars/Olympus"],
)
def test_moments_without_a_zone_are_refused(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_moment(typed)
    assert "--at" in caught.value.message


@pytest.mark.empty_db
def test_upgrade_keeps_sent_history_and_records_the_current_text(db_url: str) -> None:
    """A registry at schema 0004 with a sent delivery: after the upgrade the delivery is the
    release's own (no notice), one message per address still holds, and the release has a
    revision holding its text."""
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0004")
    now = dt.datetime(2030, 1, 1)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO offices (id, code, name, city, country, timezone, languages, covers)"
                " VALUES (1, 'niamey', 'Niamey', 'Niamey', 'NE', 'Africa/Niamey', '[\"fr\"]', '[\"*\"]')"
            )
        )
        c.execute(
            text(
                "INSERT INTO releases (id, slug, office_id, concerns, embargo, embargo_sequence,"
                " revision, created_at, updated_at) VALUES (1, 'r', 1, '[]', NULL, 0, 3, :t, :t)"
            ),
            {"t": now},
        )
        c.execute(
            text(
                "INSERT INTO release_translations (release_id, language, position, title, dateline, body)"
                " VALUES (1, 'fr', 0, 'Titre', '', 'Corps.')"
            )
        )
        c.execute(
            text(
                "INSERT INTO deliveries (release_id, email, outlet_slug, language, contacts, message_id,"
                " content_hash, status, attempts, built_at, revision)"
                " VALUES (1, 'a@example.com', 'o', 'fr', '[]', '<m1@example.org>', 'h', 'sent', 1, :t, 3)"
            ),
            {"t": now},
        )
    command.upgrade(alembic_config(engine), "head")
    with engine.begin() as c:
        assert c.execute(text("SELECT notice_id, status FROM deliveries")).all() == [(None, "sent")]
        number, texts = c.execute(text("SELECT number, texts FROM release_revisions")).one()
        assert number == 3 and "Titre" in str(texts)
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO deliveries (release_id, email, outlet_slug, language, contacts, message_id,"
                " content_hash, status, attempts, built_at, revision)"
                " VALUES (1, 'a@example.com', 'o', 'fr', '[]', '<m2@example.org>', 'h', 'pending', 0, :t, 3)"
            ),
            {"t": now},
        )
    engine.dispose()
