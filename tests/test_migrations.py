"""The schema comes only from Alembic migrations, and they match the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from civic_contacts.db import Base, make_engine
from civic_contacts.migrations import current_revision, ensure_schema, head_revision, upgrade


def test_empty_database_upgraded_to_head_matches_the_models(db_url: str) -> None:
    """Migrating an empty database to head gives exactly the tables the models describe."""
    engine = make_engine(db_url)
    upgrade(engine)
    dialect = engine.dialect.name

    def made_here(obj: Any, name: Any, type_: str, reflected: bool, other: Any) -> bool:
        # An index the models make on one database only (`Index.ddl_if`) is not expected
        # on the other.
        made_if = getattr(obj, "_ddl_if", None)
        return reflected or made_if is None or made_if.dialect in (None, dialect)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": made_here})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    names = {index["name"] for index in inspect(engine).get_indexes("deliveries")}
    queue = {"ix_deliveries_queue", "ix_deliveries_notice_queue"}
    claim = {"ix_deliveries_claim", "ix_deliveries_notice_claim"}
    assert (queue if dialect == "postgresql" else claim) <= names
    assert not names & (claim if dialect == "postgresql" else queue)
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


def test_deliveries_built_before_0014_stay_claimable_and_it_goes_back(db_url: str) -> None:
    """A batch built under 0013 gets `queued` computed for its rows (pending ones are found by
    the claim), and 0014 can be taken back."""
    from alembic import command
    from sqlalchemy import text

    from civic_contacts import synthetic
    from civic_contacts.db import session_factory
    from civic_contacts.migrations import alembic_config

    engine = make_engine(db_url)
    config = alembic_config(engine)
    command.upgrade(config, "0013")
    # The offices and release as the demo makes them (their tables are as at 0013); the
    # deliveries by hand, in the columns 0013 has.
    with session_factory(engine)() as session, session.begin():
        synthetic.load_base(session)
    with engine.begin() as connection:
        release = connection.scalar(text("SELECT min(id) FROM releases"))
        for number, status in enumerate(["pending", "sent", "pending", "cancelled"]):
            connection.execute(
                text(
                    "INSERT INTO deliveries (release_id, email, outlet_slug, language, contacts,"
                    " message_id, content_hash, revision, status, attempts, built_at)"
                    " VALUES (:release, :email, 'o', 'en', '[]', :mid, :hash, 1, :status, 0,"
                    " CURRENT_TIMESTAMP)"
                ),
                {
                    "release": release,
                    "email": f"j{number}@example.com",
                    "mid": f"<m{number}@example.org>",
                    "hash": "0" * 64,
                    "status": status,
                },
            )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        queued = connection.execute(
            text("SELECT email FROM deliveries WHERE queued ORDER BY id")
        ).scalars()
        assert list(queued) == ["j0@example.com", "j2@example.com"]
    command.downgrade(config, "0013")
    assert "queued" not in {c["name"] for c in inspect(engine).get_columns("deliveries")}
    assert current_revision(engine) == "0013"
    engine.dispose()
