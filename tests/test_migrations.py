"""The schema comes only from Alembic migrations, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from civic_contacts.db import Base, make_engine
from civic_contacts.migrations import current_revision, ensure_schema, head_revision, upgrade


def test_empty_database_upgraded_to_head_matches_the_models(db_url: str) -> None:
    """Migrating an empty database to head gives exactly the tables the models describe."""
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()
    assert {
        "offices",
        "press_contacts",
        "phones",
        "outlets",
        "journalists",
        "suppressions",
        "releases",
        "release_translations",
        "deliveries",
    } <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_first_use_upgrades_a_new_database(db_url: str) -> None:
    """A new database is brought to head the first time it is opened."""
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    ensure_schema(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_db_upgrade_twice_is_harmless(cli) -> None:
    """`db upgrade` on an up-to-date database changes nothing and says so."""
    first = cli("db", "upgrade")
    assert "upgraded from empty" in first.stderr
    cli("office", "import", "--help")
    second = cli("db", "upgrade")
    assert "already at schema" in second.stderr


def test_database_with_foreign_tables_is_refused(tmp_path) -> None:
    """A database holding someone else's tables is not silently migrated."""
    from sqlalchemy import text
    from typer.testing import CliRunner

    from civic_contacts.cli import app

    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    result = CliRunner().invoke(app, ["--db", url, "office", "list"])
    assert result.exit_code == 2
    assert "no civic-contacts schema version" in result.stderr


def test_head_constant_matches_the_scripts() -> None:
    """The HEAD constant used for the quick schema check is Alembic's head."""
    from civic_contacts.migrations import HEAD

    assert head_revision() == HEAD
